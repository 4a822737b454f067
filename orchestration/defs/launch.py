"""Every send is a run of `send_campaign_job` in the home's Dagster instance: the one door the console and the CLI
use to launch one at once (in its own process), to run one in the foreground, and to record a test send.

Why not `instance.submit_run`: the home's instance queues runs (QueuedRunCoordinator, one run per campaign), and
only the Dagster daemon dequeues them, so without a daemon (plain CLI use) a submitted run would never start. And
`instance.launch_run` with the DefaultRunLauncher needs a code server (gRPC) to start the run process. So the run is
created in the instance from the code location's job (its snapshot and code origin, as the webserver would), marked
starting, and started in a new session with `dagster api execute_run`, the command a code server runs for each run.
It runs outside the caller, with or without a daemon or webserver. One run per campaign: a launch whose campaign
already has a run in progress for its current generation returns that run; the queue sensor skips a campaign
with a run in progress (`sensors.live_run`, which also fails a started run whose process died); and the engine's
hold on the campaign makes a second run stop as `busy`, sending nothing.

Past one machine (`BKNTC_SMS_DAGSTER_URL` names the Dagster webserver): a launch is submitted to the webserver
instead (Dagster's GraphQL client), so it enters the run queue like the sensor's runs, under the same per-campaign
and per-tenant limits, and the deployment's run launcher (Docker, Kubernetes) starts it on a worker.
"""

from __future__ import annotations

import functools
import logging
import math
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import dagster as dg
from dagster._core.definitions.reconstruct import ReconstructableRepository
from dagster._core.events import DagsterEvent, DagsterEventType
from dagster._grpc.types import ExecuteRunArgs
from dagster._serdes import serialize_value

from orchestration.auth.actor import current
from orchestration.config import Home
from orchestration.defs.resources import resources_for
from orchestration.defs.sending.assets import CAMPAIGN_ASSET, campaign_metadata, ensure_partition
from orchestration.defs.sending.instance import (
    CAMPAIGN_TAG,
    GENERATION_TAG,
    LAUNCHED_BY_TAG,
    REASON_TAG,
    TENANT_TAG,
    write_instance_config,
)
from orchestration.defs.sending.jobs import send_campaign_job
from orchestration.defs.sending.sensors import live_run
from orchestration.errors import UserError
from orchestration.ledger import Ledger
from orchestration.sender import Campaign, RunSummary, get_campaign

PROJECT_ROOT = Path(__file__).resolve().parents[2]
CODE_LOCATION = ("orchestration.defs", "defs")  # module and attribute, as workspace.yaml loads them
JOB_NAME = "send_campaign_job"
DAGSTER_URL_ENV = "BKNTC_SMS_DAGSTER_URL"  # the webserver to submit launches to; unset: start them here
RUN_LOG = "dagster-runs.log"


def home_instance(home: Home) -> dg.DagsterInstance:
    """The home's Dagster instance (DAGSTER_HOME = home/dagster), its dagster.yaml brought up to date first."""
    write_instance_config(home)
    return dg.DagsterInstance.from_config(str(home.dagster_home))


def _reason(campaign: Campaign) -> str:
    if campaign.origin_campaign_id is not None:
        return "resend"
    if campaign.generation > 1:
        return "resume"
    return "manual" if campaign.kind == "manual" else "launch"


def _run_config(home: Home, tenant_id: int, campaign_id: int, max_wait_s: float | None = None) -> dict[str, Any]:
    config: dict[str, Any] = {"tenant_id": tenant_id, "campaign_id": campaign_id}
    if max_wait_s is not None:
        config["max_wait_s"] = max_wait_s
    return {
        "ops": {"send_campaign": {"config": config}},
        "resources": {"home": {"config": {"path": str(home.root)}}},
    }


def _tags(campaign: Campaign, reason: str, actor: str | None) -> dict[str, str]:
    return {
        CAMPAIGN_TAG: str(campaign.campaign_id),
        TENANT_TAG: str(campaign.tenant_id),
        GENERATION_TAG: str(campaign.generation),
        REASON_TAG: reason,
        LAUNCHED_BY_TAG: actor or current().name,
    }


def _code_location() -> ReconstructableRepository:
    module, attribute = CODE_LOCATION
    return ReconstructableRepository.for_module(module, attribute, working_directory=str(PROJECT_ROOT))


@functools.cache
def _send_job() -> dg.JobDefinition:
    """The code location's send job with its resources (the same job snapshot), built without loading the other
    domains' definitions: a foreground `campaign run` starts in a fraction of the time."""
    return dg.Definitions(jobs=[send_campaign_job], resources=resources_for()).resolve_job_def(JOB_NAME)


def launch_send_run(
    home: Home, tenant_id: int, campaign_id: int, reason: str | None = None, actor: str | None = None
) -> str:
    """Starts a send run for the campaign now, in its own process, recorded in the home's Dagster instance; returns
    its run id (the run already in progress, when there is one). `reason` (launch, resume, manual, resend) is
    inferred from the campaign when None; `actor` says who asked
    (default: the current actor: a signed-in user, `cli:<os user>`, `system`)."""
    ledger = Ledger(home.ledger)
    campaign = get_campaign(ledger, tenant_id, campaign_id)
    if campaign.state not in ("queued", "sending"):
        raise UserError(f"Campaign {campaign_id} is {campaign.state}: there is nothing to send.")
    with home_instance(home) as instance:
        ensure_partition(instance, tenant_id, campaign_id)
        running = live_run(instance, ledger, tenant_id, campaign_id)
        if running is not None and running.tags.get(GENERATION_TAG) == str(campaign.generation):
            return running.run_id  # an older generation's run is stopping: the new one takes over when it has
        run_config = _run_config(home, tenant_id, campaign_id)
        tags = _tags(campaign, reason or _reason(campaign), actor)
        if webserver := os.environ.get(DAGSTER_URL_ENV, "").strip():
            return _submit_to_webserver(webserver, run_config, tags)
        recon_job = _code_location().get_reconstructable_job(JOB_NAME)
        run = instance.create_run_for_job(
            _send_job(),
            run_config=run_config,
            tags=tags,
            job_code_origin=recon_job.get_python_origin(),
        )
        starting = DagsterEvent(event_type_value=DagsterEventType.RUN_STARTING.value, job_name=run.job_name)
        instance.report_dagster_event(starting, run_id=run.run_id, log_level=logging.DEBUG)
        args = ExecuteRunArgs(job_origin=recon_job.get_python_origin(), run_id=run.run_id,
                              instance_ref=instance.get_ref())  # fmt: skip
        env = {**os.environ, "DAGSTER_HOME": str(home.dagster_home), "BKNTC_SMS_HOME": str(home.root),
               "DAGSTER_EXECUTE_RUN_ARGS": serialize_value(args)}  # fmt: skip
        try:
            with open(home.logs / RUN_LOG, "ab") as log:
                subprocess.Popen(
                    [sys.executable, "-m", "dagster", "api", "execute_run"], env=env, cwd=PROJECT_ROOT,
                    stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                )  # fmt: skip
        except OSError as exc:
            instance.report_run_failed(instance.get_run_by_id(run.run_id), f"Could not start the run process: {exc}")
            raise
        return run.run_id


def _submit_to_webserver(url: str, run_config: dict[str, Any], tags: dict[str, str]) -> str:
    """Submits the send run to the Dagster webserver at `url` (its run queue); returns the run id."""
    from urllib.parse import urlsplit

    from dagster_graphql import DagsterGraphQLClient, DagsterGraphQLClientError

    parts = urlsplit(url if "://" in url else f"http://{url}")
    if not parts.hostname:
        raise UserError(f"{DAGSTER_URL_ENV} must be the Dagster webserver's URL, e.g. http://dagster:3000 "
                        f"(got {url!r}).")  # fmt: skip
    try:
        client = DagsterGraphQLClient(parts.hostname, port_number=parts.port, use_https=parts.scheme == "https",
                                      path_prefix=parts.path.rstrip("/"), timeout=30)  # fmt: skip
        return client.submit_job_execution(JOB_NAME, run_config=run_config, tags=tags)
    except (DagsterGraphQLClientError, OSError) as exc:
        raise UserError(f"The Dagster webserver at {url} did not take the send run: {exc}") from exc


def run_send_job_here(
    home: Home,
    tenant_id: int,
    campaign_id: int,
    reason: str = "run",
    actor: str | None = None,
    max_wait_s: float = math.inf,
) -> tuple[str, RunSummary]:
    """Runs the send job in this process (the foreground CLI, no daemon needed), recorded in the home's instance
    like any run; returns its run id and what it did. A campaign that cannot send raises its UserError."""
    campaign = get_campaign(Ledger(home.ledger), tenant_id, campaign_id)
    with home_instance(home) as instance:
        ensure_partition(instance, tenant_id, campaign_id)
        result = _send_job().execute_in_process(
            run_config=_run_config(home, tenant_id, campaign_id, max_wait_s),
            instance=instance,
            tags=_tags(campaign, reason, actor),
            raise_on_error=False,
        )
    if not result.success:
        failure = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE").step_failure_data
        user = failure.user_failure_data
        raise UserError(user.description if user and user.description else failure.error.message.strip())
    return result.run_id, summary_of(result.output_for_node("send_campaign"))


def summary_of(values: dict[str, Any]) -> RunSummary:
    """The RunSummary the send op returned as a dict."""
    fields = ("campaign_id", "tenant_id", "stopped", "sent", "failed", "skipped", "retried", "recovered",
              "released", "throttled", "stranded", "lookups", "lookup_failures", "chunks", "pause_reason",
              "next_due_at")  # fmt: skip
    summary = RunSummary(**{k: values[k] for k in fields})
    summary.error_codes.update(values["error_codes"])
    summary.finished = summary.started + values["elapsed_s"]
    return summary


def record_test_send(home: Home, tenant_id: int, campaign_id: int, actor: str | None = None) -> None:
    """Records a test send (sent in the caller's process for speed) on its campaign's partition, as an event of
    the campaign asset without a run."""
    metadata = campaign_metadata(Ledger(home.ledger), tenant_id, campaign_id)
    launched = {"launched_by": dg.MetadataValue.text(actor or current().name), "reason": dg.MetadataValue.text("test")}
    with home_instance(home) as instance:
        key = ensure_partition(instance, tenant_id, campaign_id)
        instance.report_runless_asset_event(
            dg.AssetMaterialization(asset_key=CAMPAIGN_ASSET, partition=key, description="Test send",
                                    metadata={**metadata, **launched})  # fmt: skip
        )
