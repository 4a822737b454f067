"""The sending domain in Dagster: the queue sensor's run requests and the send job's run and metadata."""

from __future__ import annotations

import json
import time

import dagster as dg
import pytest
import yaml

from orchestration.defs.resources import resources_for
from orchestration.defs.sending.instance import (
    CAMPAIGN_TAG,
    DAGSTER_PG_URL_ENV,
    TENANT_RUNS_ENV,
    TENANT_TAG,
    instance_settings,
    write_instance_config,
)
from orchestration.defs.sending.jobs import send_campaign_job
from orchestration.defs.sending.pg_storage import with_psycopg2
from orchestration.defs.sending.sensors import send_queue_sensor
from orchestration.errors import UserError
from orchestration.ledger import Ledger
from orchestration.sender import CampaignSettings, create_campaign, pause, resume, status
from orchestration.simulator import DEMO_AUTH_TOKEN
from tests.sending import FAST, TEMPLATE, manual, numbers, with_twilio


def evaluate(instance: dg.DagsterInstance, home, cursor: str | None = None) -> tuple[list[dg.RunRequest], str]:
    context = dg.build_sensor_context(instance=instance, cursor=cursor, resources=resources_for(home.root))
    requests = list(send_queue_sensor(context))
    return requests, context.cursor


def run_job(instance: dg.DagsterInstance, home, campaign_id: int, tenant_id: int = 1) -> dg.ExecuteInProcessResult:
    return send_campaign_job.execute_in_process(
        instance=instance,
        resources=resources_for(home.root),
        run_config={"ops": {"send_campaign": {"config": {"tenant_id": tenant_id, "campaign_id": campaign_id}}}},
        tags={CAMPAIGN_TAG: str(campaign_id)},
    )


def test_sensor_requests_one_run_per_queued_campaign(home):
    ledger = Ledger(home.ledger)
    queued = manual(ledger, numbers(2))
    create_campaign(ledger, 1, "draft", TEMPLATE, None, kind="manual")  # a draft: nothing to send

    with dg.instance_for_test() as instance:
        requests, cursor = evaluate(instance, home)

    assert [r.run_key for r in requests] == [f"campaign-{queued}-g1-r0"]
    assert requests[0].tags[CAMPAIGN_TAG] == str(queued)
    assert json.loads(cursor) == {str(queued): f"campaign-{queued}-g1-r0"}


def test_sensor_skips_a_campaign_whose_run_is_in_progress(home):
    ledger = Ledger(home.ledger)
    campaign_id = manual(ledger, numbers(2))
    with dg.instance_for_test() as instance:
        instance.create_run_for_job(
            send_campaign_job, run_config={"ops": {"send_campaign": {"config": {"tenant_id": 1,
                                                                                 "campaign_id": campaign_id}}}},
            tags={CAMPAIGN_TAG: str(campaign_id)}, status=dg.DagsterRunStatus.STARTED,
        )  # fmt: skip
        requests, _ = evaluate(instance, home)

    assert requests == []


def test_sensor_ignores_paused_and_finished_campaigns(home, simulator):
    ledger = with_twilio(home)
    paused = manual(ledger, numbers(2))
    pause(ledger, 1, paused)
    done = manual(ledger, numbers(2, start=200))
    with dg.instance_for_test() as instance:
        run_job(instance, home, done)
        requests, _ = evaluate(instance, home)

    assert requests == []


def test_resumed_campaign_gets_a_new_run_key(home):
    ledger = Ledger(home.ledger)
    campaign_id = manual(ledger, numbers(2))
    with dg.instance_for_test() as instance:
        first, cursor = evaluate(instance, home)
        pause(ledger, 1, campaign_id)
        resume(ledger, 1, campaign_id)
        second, _ = evaluate(instance, home, cursor)

    assert first[0].run_key != second[0].run_key == f"campaign-{campaign_id}-g2-r0"


def test_send_job_sends_the_campaign_and_reports_counts_as_metadata(home, simulator):
    ledger = with_twilio(home)
    campaign_id = manual(ledger, [*numbers(4), "+12025550011"])
    with dg.instance_for_test() as instance:
        result = run_job(instance, home, campaign_id)

    output = next(e for e in result.all_node_events if e.event_type_value == "STEP_OUTPUT")
    values = {k: v.value for k, v in output.event_specific_data.metadata.items()}
    assert result.success
    assert values["sent"] == 4 and values["failed"] == 1 and values["error_codes"] == {"21211": 1}
    assert values["stopped"] == "completed" and status(ledger, 1, campaign_id).counts["sent"] == 4
    assert DEMO_AUTH_TOKEN not in json.dumps({k: str(v) for k, v in values.items()})


def test_send_job_materializes_the_campaigns_partition_with_its_totals(home, simulator):
    ledger = with_twilio(home)
    campaign_id = manual(ledger, numbers(2))
    with dg.instance_for_test() as instance:
        result = run_job(instance, home, campaign_id)
        partitions = instance.get_dynamic_partitions("campaigns")

    [materialization] = result.asset_materializations_for_node("send_campaign")
    assert (materialization.asset_key, materialization.partition) == (dg.AssetKey("campaign"), f"t1-c{campaign_id}")
    assert materialization.metadata["sent"].value == 2 and materialization.metadata["stopped"].value == "completed"
    assert partitions == [f"t1-c{campaign_id}"]


def test_send_job_without_credentials_pauses_the_campaign_and_fails_without_retrying(home):
    ledger = Ledger(home.ledger)
    campaign_id = manual(ledger, numbers(2), settings=FAST)
    with dg.instance_for_test() as instance:
        result = send_campaign_job.execute_in_process(
            instance=instance, resources=resources_for(home.root), raise_on_error=False,
            run_config={"ops": {"send_campaign": {"config": {"tenant_id": 1, "campaign_id": campaign_id}}}},
        )  # fmt: skip

    campaign = status(ledger, 1, campaign_id).campaign
    assert not result.success and len(result.filter_events(lambda e: e.event_type_value == "STEP_UP_FOR_RETRY")) == 0
    assert campaign.state == "paused" and "no Twilio credentials" in campaign.pause_reason


def test_sensor_launches_again_when_retries_fall_due(home, simulator):
    ledger = with_twilio(home)
    simulator.configure(error_rates={500: 1.0})
    settings = CampaignSettings(rate_limit_per_s=0, retry_base_seconds=0.05, max_attempts=5)
    campaign_id = manual(ledger, numbers(1), settings=settings)
    with dg.instance_for_test() as instance:
        send_campaign_job.execute_in_process(
            instance=instance, resources=resources_for(home.root), tags={CAMPAIGN_TAG: str(campaign_id)},
            run_config={"ops": {"send_campaign": {"config": {"tenant_id": 1, "campaign_id": campaign_id,
                                                             "max_wait_s": 0}}}},
        )  # fmt: skip
        time.sleep(0.2)
        requests, _ = evaluate(instance, home)

    assert [r.run_key for r in requests] == [f"campaign-{campaign_id}-g1-r0"]


def test_instance_config_limits_each_campaign_to_one_run_and_each_tenant_to_two(home):
    path = write_instance_config(home)

    limits = yaml.safe_load(path.read_text())["run_coordinator"]["config"]["tag_concurrency_limits"]

    assert limits == [
        {"key": CAMPAIGN_TAG, "value": {"applyLimitPerUniqueValue": True}, "limit": 1},
        {"key": TENANT_TAG, "value": {"applyLimitPerUniqueValue": True}, "limit": 2},
    ]


def test_dagster_reads_the_limits_the_home_writes(home, monkeypatch):
    monkeypatch.setenv(TENANT_RUNS_ENV, "3")
    write_instance_config(home)

    with dg.DagsterInstance.from_config(str(home.dagster_home)) as instance:
        queue = instance.get_concurrency_config().run_queue_config

    assert queue.max_concurrent_runs == 8
    assert {(limit["key"], limit["limit"]) for limit in queue.tag_concurrency_limits} == {
        (CAMPAIGN_TAG, 1), (TENANT_TAG, 3)}


def test_a_sync_run_first_writes_the_same_instance_config(home):
    from orchestration.cli.sync import _quiet_dagster_home

    _quiet_dagster_home(home)

    assert (home.dagster_home / "dagster.yaml").read_text() == yaml.safe_dump(instance_settings(), sort_keys=False)


def test_a_tenant_run_limit_that_is_not_a_number_is_refused(home, monkeypatch):
    monkeypatch.setenv(TENANT_RUNS_ENV, "two")

    with pytest.raises(UserError, match="BKNTC_SMS_TENANT_SEND_RUNS must be a whole number"):
        write_instance_config(home)


def test_dagster_storage_moves_to_postgres_by_variable_name_only(home, monkeypatch):
    monkeypatch.setenv(DAGSTER_PG_URL_ENV, "postgresql://bkntc:s3cret@db.example:5432/dagster")

    text = write_instance_config(home).read_text()

    assert yaml.safe_load(text)["storage"] == {"custom": {
        "module": "orchestration.defs.sending.pg_storage", "class": "PostgresStorage",
        "config": {"postgres_url": {"env": DAGSTER_PG_URL_ENV}}}}  # fmt: skip
    assert "s3cret" not in text


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgresql://u:pw@db:5432/dagster", "postgresql+psycopg2://u:pw@db:5432/dagster"),
        ("postgres://u@db/dagster?sslmode=require", "postgresql+psycopg2://u@db/dagster?sslmode=require"),
        ("postgresql+psycopg2://u@db/dagster", "postgresql+psycopg2://u@db/dagster"),
        ("postgresql+pg8000://u@db/dagster", "postgresql+pg8000://u@db/dagster"),
    ],
)
def test_dagster_storage_urls_get_the_psycopg2_driver_dagster_postgres_is_written_for(url, expected):
    assert with_psycopg2(url) == expected
