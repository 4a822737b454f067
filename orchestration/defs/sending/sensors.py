"""The send queue sensor: launches a send run for each campaign that is queued or has retries due.

Each tenant and each campaign is handled on its own: one that cannot be read or paused is logged and skipped,
and every other campaign still gets its run in the same tick."""

import json
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
from orchestration.errors import UserError
from orchestration.ledger import Ledger
from orchestration.sender import (
    expire_missed_schedules,
    get_campaign,
    pause,
    tenant_campaigns_needing_run,
    tenant_ids,
)

IN_PROGRESS = [
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
    dg.DagsterRunStatus.CANCELING,
]
MAX_FAILED_RUNS = 3  # failed runs of one generation before the campaign is paused for a person to look
STARTUP_GRACE_S = 120.0  # a run process may take this long to start and take hold of its campaign


def live_run(instance: dg.DagsterInstance, ledger: Ledger, tenant_id: int, campaign_id: int) -> dg.DagsterRun | None:
    """The campaign's send run in progress, newest first. A started run that has held no hold on the campaign for
    STARTUP_GRACE_S is a dead process (a killed `campaign run`, a lost machine): it is marked failed and ignored, so
    it cannot block the campaign's next run for ever. Queued runs wait for the daemon and are never marked."""
    records = instance.get_run_records(dg.RunsFilter(tags={CAMPAIGN_TAG: str(campaign_id)}, statuses=IN_PROGRESS))
    if not records:
        return None
    now = time.time()
    held = (get_campaign(ledger, tenant_id, campaign_id).runner_lease_until or 0) > now
    for record in records:
        run = record.dagster_run
        young = now - record.create_timestamp.timestamp() < STARTUP_GRACE_S
        if held or young or run.status == dg.DagsterRunStatus.QUEUED:
            return run
        instance.report_run_failed(run, "Its process is gone: it has held no hold on the campaign since "
                                        f"{STARTUP_GRACE_S:.0f} s after it was created.")  # fmt: skip
    return None


def send_run_request(tenant_id: int, campaign_id: int, generation: int, previous_runs: int) -> dg.RunRequest:
    """The run for one campaign; the key changes with each resume (generation) and each run already made."""
    return dg.RunRequest(
        run_key=f"campaign-{campaign_id}-g{generation}-r{previous_runs}",
        run_config={"ops": {"send_campaign": {"config": {"tenant_id": tenant_id, "campaign_id": campaign_id}}}},
        tags={CAMPAIGN_TAG: str(campaign_id), TENANT_TAG: str(tenant_id), GENERATION_TAG: str(generation),
              LAUNCHED_BY_TAG: "send_queue_sensor", REASON_TAG: "queue"},
    )


def next_run_request(
    context: dg.SensorEvaluationContext, ledger: Ledger, tenant_id: int, campaign_id: int, generation: int
) -> dg.RunRequest | None:
    """The campaign's next run; None while a run of it is in progress, or once too many runs of its generation
    failed (then it is paused for a person, who resumes it into a new generation)."""
    tags = {CAMPAIGN_TAG: str(campaign_id)}
    if live_run(context.instance, ledger, tenant_id, campaign_id) is not None:
        return None
    this_generation = {**tags, GENERATION_TAG: str(generation)}
    failed = context.instance.get_runs_count(
        dg.RunsFilter(tags=this_generation, statuses=[dg.DagsterRunStatus.FAILURE])
    )
    if failed >= MAX_FAILED_RUNS:
        reason = f"{failed} send runs failed; see the Dagster runs tagged {CAMPAIGN_TAG}={campaign_id}"
        campaign = pause(ledger, tenant_id, campaign_id, reason=reason)
        context.log.warning(f"Campaign {campaign_id} (tenant {tenant_id}) paused: {campaign.pause_reason}")
        return None
    previous = context.instance.get_runs_count(dg.RunsFilter(tags=this_generation))
    return send_run_request(tenant_id, campaign_id, generation, previous)


@dg.sensor(job=send_campaign_job, minimum_interval_seconds=5, default_status=dg.DefaultSensorStatus.RUNNING)
def send_queue_sensor(context: dg.SensorEvaluationContext, home: HomeResource):
    """One run per campaign that needs one, never while another run for it is in progress; a tenant or campaign
    that fails is logged and skipped, never stopping the others."""
    ledger = home.ledger()
    launched = json.loads(context.cursor) if context.cursor else {}
    for tenant_id in tenant_ids(ledger):
        try:
            for missed in expire_missed_schedules(ledger, tenant_id):  # stale schedules: cancelled, never sent
                context.log.warning(f"Campaign {missed.campaign_id} (tenant {tenant_id}): {missed.pause_reason}")
            campaigns = tenant_campaigns_needing_run(ledger, tenant_id)
        except Exception as exc:  # one tenant's failure must not stop every other tenant's sends
            context.log.error(f"Tenant {tenant_id} skipped this tick: its campaigns could not be selected ({exc!r})")
            continue
        for campaign_id, generation in campaigns:
            try:
                request = next_run_request(context, ledger, tenant_id, campaign_id, generation)
            except UserError as exc:  # cancelled, completed or deleted since it was selected
                context.log.warning(f"Campaign {campaign_id} (tenant {tenant_id}) skipped: {exc}")
                continue
            except Exception as exc:  # a bug or a broken row: loud in the log, but only this campaign waits
                context.log.error(f"Campaign {campaign_id} (tenant {tenant_id}) skipped: {exc!r}")
                continue
            if request is not None:
                launched[str(campaign_id)] = request.run_key
                yield request
    context.update_cursor(json.dumps(launched, sort_keys=True))
