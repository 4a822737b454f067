"""The send job: one op that runs the send engine for one campaign and reports what it did as metadata."""

import dagster as dg

from orchestration.defs.resources import HomeResource
from orchestration.errors import UserError
from orchestration.sender import RunSummary, run_campaign

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


@dg.op(retry_policy=INFRASTRUCTURE_RETRIES)
def send_campaign(context: dg.OpExecutionContext, config: SendCampaignConfig, home: HomeResource) -> dict:
    """Works one campaign's queue (claim, send, record) until it completes, pauses, or waits for a retry."""
    try:
        summary = run_campaign(home.home(), config.tenant_id, config.campaign_id, max_wait_s=config.max_wait_s)
    except UserError as exc:  # a person must act (credentials, a deleted campaign): retrying cannot help
        raise dg.Failure(description=str(exc), allow_retries=False) from None
    metadata = summary_metadata(summary)
    context.log_event(
        dg.AssetObservation(
            asset_key=dg.AssetKey(["campaigns", f"tenant_{config.tenant_id}", f"campaign_{config.campaign_id}"]),
            metadata=metadata,
        )
    )
    context.add_output_metadata(metadata)
    return summary.as_dict()


@dg.job(tags={"bkntc/domain": "sending"})
def send_campaign_job() -> None:
    """Send one campaign (campaign id + tenant in the run config)."""
    send_campaign()
