"""The recurring campaigns sensor: makes each due occurrence's campaign and starts one send run for it.

Why one sensor, not one schedule per definition: the definitions are data in the ledger, added and removed at any
time from the console and the CLI, while Dagster schedules are code, fixed when the code location loads. The sensor
reads the definitions each tick, works out their due times with Dagster's own cron code (the same times a
schedule would have, in the definition's time zone), and asks for one run per occurrence (run key: definition,
occurrence time and campaign generation), so Dagster itself never starts an occurrence twice. An occurrence made in
a tick whose run request was lost is asked for again next tick under the same key."""

import time

import dagster as dg

from orchestration.defs.resources import HomeResource
from orchestration.defs.sending.instance import (
    CAMPAIGN_TAG,
    GENERATION_TAG,
    LAUNCHED_BY_TAG,
    REASON_TAG,
    TENANT_TAG,
)
from orchestration.defs.sending.jobs import send_campaign_job
from orchestration.ledger import Ledger
from orchestration.recurring.occurrences import Unstarted, make_due, unstarted

RECURRING_TAG = "bkntc/recurring"


def occurrence_run_request(occurrence: Unstarted) -> dg.RunRequest:
    """The send run of one occurrence's campaign (the normal send job)."""
    return dg.RunRequest(
        run_key=occurrence.run_key,
        run_config={"ops": {"send_campaign": {"config": {"tenant_id": occurrence.tenant_id,
                                                          "campaign_id": occurrence.campaign_id}}}},
        tags={CAMPAIGN_TAG: str(occurrence.campaign_id), TENANT_TAG: str(occurrence.tenant_id),
              GENERATION_TAG: str(occurrence.generation), RECURRING_TAG: str(occurrence.recurring_id),
              LAUNCHED_BY_TAG: "recurring_campaigns_sensor", REASON_TAG: "recurring"},
    )  # fmt: skip


def recurring_run_requests(ledger: Ledger, log, now: float) -> list[dg.RunRequest]:
    """One tick at `now`: the due occurrences made (or skipped, logged), then a run for each one not started."""
    for occurrence in make_due(ledger, now):
        if occurrence.skipped:
            log.warning(f"Recurring campaign {occurrence.recurring_id} (tenant {occurrence.tenant_id}): occurrence "
                        f"{occurrence.occurrence_at:.0f} {occurrence.skipped}")
        else:
            log.info(f"Recurring campaign {occurrence.recurring_id}: campaign {occurrence.campaign.campaign_id} "
                     f"queued for its occurrence")
    return [occurrence_run_request(occurrence) for occurrence in unstarted(ledger)]


@dg.sensor(job=send_campaign_job, minimum_interval_seconds=30, default_status=dg.DefaultSensorStatus.RUNNING)
def recurring_campaigns_sensor(context: dg.SensorEvaluationContext, home: HomeResource):
    """Each recurring campaign's due occurrence becomes a campaign, sent by one run of send_campaign_job."""
    yield from recurring_run_requests(home.ledger(), context.log, time.time())
