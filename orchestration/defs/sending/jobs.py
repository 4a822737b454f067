"""The send job: one op that runs the send engine for one campaign, reports what it did as metadata, tags the run
with why it stopped, and materializes the campaign's partition of the campaign asset with its totals."""

import dagster as dg

from orchestration.defs.resources import HomeResource
from orchestration.defs.sending.assets import CAMPAIGN_ASSET, campaign_metadata, ensure_partition
from orchestration.defs.sending.instance import LAUNCHED_BY_TAG, REASON_TAG, STOPPED_TAG
from orchestration.errors import UserError
from orchestration.ledger import Ledger
from orchestration.sender import RunSummary, get_campaign, run_campaign

INFRASTRUCTURE_RETRIES = dg.RetryPolicy(
    max_retries=3, delay=5, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.PLUS_MINUS
)


class SendCampaignConfig(dg.Config):
    """Which campaign to work; the run waits at most `max_wait_s` for a retry, then leaves it to the sensor."""

    tenant_id: int
    campaign_id: int
    max_wait_s: float = 30.0


def summary_metadata(summary: RunSummary) -> dict[str, dg.MetadataValue]:
    """Counts, error codes and throughput of one run (never credentials)."""
    return {
        "campaign_id": dg.MetadataValue.int(summary.campaign_id),
        "tenant_id": dg.MetadataValue.int(summary.tenant_id),
        "stopped": dg.MetadataValue.text(summary.stopped),
        "sent": dg.MetadataValue.int(summary.sent),
        "failed": dg.MetadataValue.int(summary.failed),
        "skipped": dg.MetadataValue.int(summary.skipped),
        "retried": dg.MetadataValue.int(summary.retried),
        "recovered": dg.MetadataValue.int(summary.recovered),
        "error_codes": dg.MetadataValue.json({str(k): v for k, v in summary.error_codes.items()}),
        "throughput_per_s": dg.MetadataValue.float(round(summary.throughput, 2)),
        "elapsed_s": dg.MetadataValue.float(round(summary.elapsed_s, 3)),
        "pause_reason": dg.MetadataValue.text(summary.pause_reason or ""),
    }


def record_campaign(context: dg.OpExecutionContext, ledger: Ledger, tenant_id: int, campaign_id: int,
                    stopped: str, run_metadata: dict[str, dg.MetadataValue]) -> None:  # fmt: skip
    """Tags the run with why it stopped and materializes the campaign's partition with its totals now."""
    context.instance.add_run_tags(context.run_id, {STOPPED_TAG: stopped})
    tags = context.run.tags
    launched = {
        "launched_by": dg.MetadataValue.text(tags.get(LAUNCHED_BY_TAG, "")),
        "reason": dg.MetadataValue.text(tags.get(REASON_TAG, "")),
        "stopped": dg.MetadataValue.text(stopped),
    }
    this_run = {f"run_{k}": v for k, v in run_metadata.items() if k not in ("campaign_id", "tenant_id", "stopped")}
    context.log_event(
        dg.AssetMaterialization(
            asset_key=CAMPAIGN_ASSET,
            partition=ensure_partition(context.instance, tenant_id, campaign_id),
            description=f"Send run stopped: {stopped}",
            metadata={**campaign_metadata(ledger, tenant_id, campaign_id), **launched, **this_run},
        )
    )


@dg.op(retry_policy=INFRASTRUCTURE_RETRIES)
def send_campaign(context: dg.OpExecutionContext, config: SendCampaignConfig, home: HomeResource) -> dict:
    """Works one campaign's queue (claim, send, record) until it completes, pauses, or waits for a retry."""
    ledger = home.ledger()
    try:
        summary = run_campaign(home.home(), config.tenant_id, config.campaign_id, max_wait_s=config.max_wait_s)
    except UserError as exc:  # a person must act (credentials, a deleted campaign): retrying cannot help
        try:
            state = get_campaign(ledger, config.tenant_id, config.campaign_id).state
        except UserError:  # the campaign is gone: nothing to record on its partition
            context.instance.add_run_tags(context.run_id, {STOPPED_TAG: "failed"})
        else:
            reason = {"pause_reason": dg.MetadataValue.text(str(exc))}
            record_campaign(context, ledger, config.tenant_id, config.campaign_id, state, reason)
        raise dg.Failure(description=str(exc), allow_retries=False) from None
    metadata = summary_metadata(summary)
    record_campaign(context, ledger, config.tenant_id, config.campaign_id, summary.stopped, metadata)
    if summary.stopped == "paused":
        context.log.warning(f"Campaign {config.campaign_id} paused: {summary.pause_reason or 'by a person'}")
    context.add_output_metadata(metadata)
    return summary.as_dict()


@dg.job(tags={"bkntc/domain": "sending"}, executor_def=dg.in_process_executor)
def send_campaign_job() -> None:
    """Send one campaign (campaign id + tenant in the run config); one process per run."""
    send_campaign()
