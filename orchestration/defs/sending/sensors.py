"""The send queue sensor: launches a send run for each campaign that is queued or has retries due."""

import json

import dagster as dg

from orchestration.defs.resources import HomeResource
from orchestration.defs.sending.instance import CAMPAIGN_TAG, GENERATION_TAG, TENANT_TAG
from orchestration.defs.sending.jobs import send_campaign_job
from orchestration.sender import campaigns_needing_run, pause

IN_PROGRESS = [
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
    dg.DagsterRunStatus.CANCELING,
]
MAX_FAILED_RUNS = 3  # failed runs of one generation before the campaign is paused for a person to look


def send_run_request(tenant_id: int, campaign_id: int, generation: int, previous_runs: int) -> dg.RunRequest:
    """The run for one campaign; the key changes with each resume (generation) and each run already made."""
    return dg.RunRequest(
        run_key=f"campaign-{campaign_id}-g{generation}-r{previous_runs}",
        run_config={"ops": {"send_campaign": {"config": {"tenant_id": tenant_id, "campaign_id": campaign_id}}}},
        tags={CAMPAIGN_TAG: str(campaign_id), TENANT_TAG: str(tenant_id), GENERATION_TAG: str(generation)},
    )


@dg.sensor(job=send_campaign_job, minimum_interval_seconds=5, default_status=dg.DefaultSensorStatus.RUNNING)
def send_queue_sensor(context: dg.SensorEvaluationContext, home: HomeResource):
    """One run per campaign that needs one, never while another run for it is in progress."""
    ledger = home.ledger()
    launched = json.loads(context.cursor) if context.cursor else {}
    for tenant_id, campaign_id, generation in campaigns_needing_run(ledger):
        tags = {CAMPAIGN_TAG: str(campaign_id)}
        if context.instance.get_runs_count(dg.RunsFilter(tags=tags, statuses=IN_PROGRESS)):
            continue
        this_generation = {**tags, GENERATION_TAG: str(generation)}
        failed = context.instance.get_runs_count(
            dg.RunsFilter(tags=this_generation, statuses=[dg.DagsterRunStatus.FAILURE])
        )
        if failed >= MAX_FAILED_RUNS:
            reason = f"{failed} send runs failed; see the Dagster runs tagged {CAMPAIGN_TAG}={campaign_id}"
            pause(ledger, tenant_id, campaign_id, reason=reason)
            context.log.warning(f"Campaign {campaign_id} paused: {reason}")
            continue
        previous = context.instance.get_runs_count(dg.RunsFilter(tags=this_generation))
        request = send_run_request(tenant_id, campaign_id, generation, previous)
        launched[str(campaign_id)] = request.run_key
        yield request
    context.update_cursor(json.dumps(launched, sort_keys=True))
