"""Every send is a run of the send job in the home's Dagster instance, started at once by the CLI and the console,
tagged with why it stopped, and recorded on the campaign's partition of the campaign asset (never a credential)."""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Iterator

import dagster as dg
import pytest
from click.testing import CliRunner

from console import ui
from orchestration.cli import main
from orchestration.config import Home
from orchestration.defs.launch import home_instance, launch_send_run, run_send_job_here
from orchestration.defs.resources import resources_for
from orchestration.defs.sending import sensors
from orchestration.defs.sending.instance import (
    CAMPAIGN_TAG,
    LAUNCHED_BY_TAG,
    REASON_TAG,
    STOPPED_TAG,
)
from orchestration.defs.sending.jobs import send_campaign_job
from orchestration.ledger import Ledger
from orchestration.sender import CampaignSettings, pause, status
from orchestration.sender.pacing import set_sender_throughput
from orchestration.simulator import DEMO_AUTH_TOKEN
from tests.sending import manual, numbers, small_warehouse, stop_send_runs, with_twilio
from tests.test_console import MESSAGE, build_demo_home, make_campaign, open_page, point_tenants_at

CAMPAIGN = dg.AssetKey("campaign")


def cli(*args: str) -> str:
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def finished_runs(home: Home, campaign_id: int, count: int = 1) -> list[dg.DagsterRun]:
    """The campaign's runs, newest first, once `count` of them exist and every one has finished."""
    deadline = time.monotonic() + 120
    with home_instance(home) as instance:
        while True:
            runs = instance.get_runs(dg.RunsFilter(tags={CAMPAIGN_TAG: str(campaign_id)}))
            if len(runs) >= count and all(run.is_finished for run in runs) or time.monotonic() > deadline:
                return runs
            time.sleep(0.2)


def materializations(home: Home, tenant_id: int, campaign_id: int) -> list[dict]:
    """The metadata of each materialization of the campaign's partition, oldest first."""
    with home_instance(home) as instance:
        records = instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=CAMPAIGN, asset_partitions=[f"t{tenant_id}-c{campaign_id}"]), limit=50
        ).records
    return [{k: v.value for k, v in r.asset_materialization.metadata.items()} for r in reversed(records)]


def assert_no_token_in_dagster(home: Home) -> None:
    """The auth token is in no file of the Dagster instance (run and event storage, logs) and no run's tags."""
    token = DEMO_AUTH_TOKEN.encode()
    for path in home.dagster_home.rglob("*"):
        if path.is_file():
            assert token not in path.read_bytes(), path
    with home_instance(home) as instance:
        assert all(DEMO_AUTH_TOKEN not in str(run.tags) + str(run.run_config) for run in instance.get_runs())


def test_cli_launch_sends_in_one_dagster_run_started_at_once_with_the_campaign_totals(home, simulator):
    small_warehouse(home, count=3)
    with_twilio(home)
    created = cli("campaign", "create", "--tenant", "1", "--name", "Spring", "--segment", "all_customers",
                  "--template", "Hi {customer_first_name}", "--rate", "0", "--json")  # fmt: skip
    campaign_id = int(created.split('"campaign_id": ')[1].split(",")[0])

    cli("campaign", "launch", str(campaign_id), "--tenant", "1")
    again = launch_send_run(home, 1, campaign_id, "launch", "tester")  # e.g. the console, while it runs
    with home_instance(home) as instance:  # the sensor's tick while it runs
        context = dg.build_sensor_context(instance=instance, resources=resources_for(home.root))
        requests = list(sensors.send_queue_sensor(context))
    [run] = finished_runs(home, campaign_id)

    assert again == run.run_id and requests == []
    assert run.status == dg.DagsterRunStatus.SUCCESS and run.job_name == "send_campaign_job"
    assert run.tags[STOPPED_TAG] == "completed" and run.tags[REASON_TAG] == "launch"
    assert run.tags[LAUNCHED_BY_TAG].startswith("cli")
    [totals] = materializations(home, 1, campaign_id)
    assert (totals["recipients"], totals["sent"], totals["failed"], totals["state"]) == (3, 3, 0, "completed")
    assert totals["template"] == "Hi {customer_first_name}" and totals["audience"]["segment"] == "all_customers"
    assert totals["launched_by"] == run.tags[LAUNCHED_BY_TAG] and "delivered" in totals
    assert len(simulator.accepted()) == 3
    assert_no_token_in_dagster(home)


def test_a_paused_run_is_tagged_paused_and_cli_resume_starts_a_new_run(home, simulator):
    ledger = with_twilio(home)
    campaign_id = manual(ledger, numbers(12), settings=CampaignSettings(rate_limit_per_s=10))
    foreground: dict = {}
    worker = threading.Thread(target=lambda: foreground.update(
        result=run_send_job_here(home, 1, campaign_id, actor="tester")))  # fmt: skip
    worker.start()
    while status(ledger, 1, campaign_id).counts["sent"] < 2 and worker.is_alive():
        time.sleep(0.02)
    pause(ledger, 1, campaign_id, reason="checking the wording")
    worker.join()

    cli("campaign", "resume", str(campaign_id), "--tenant", "1")
    resumed, paused = finished_runs(home, campaign_id, count=2)

    assert paused.run_id == foreground["result"][0] and paused.status == dg.DagsterRunStatus.SUCCESS
    assert paused.tags[STOPPED_TAG] == "paused" and paused.tags[LAUNCHED_BY_TAG] == "tester"
    assert (resumed.tags[REASON_TAG], resumed.tags[STOPPED_TAG]) == ("resume", "completed")
    first, second = materializations(home, 1, campaign_id)
    assert (first["stopped"], first["pause_reason"]) == ("paused", "checking the wording")
    assert (second["stopped"], second["sent"], second["generation"]) == ("completed", 12, 2)
    assert_no_token_in_dagster(home)


def test_cli_manual_send_and_campaign_run_are_runs_in_the_homes_instance_with_error_meanings(home, simulator):
    ledger = with_twilio(home)
    cli("send-manual", "--tenant", "1", "--to", numbers(1)[0], "--to", "+12025550011", "--template", "Hi")
    queued = manual(ledger, numbers(2, start=300))
    cli("campaign", "run", str(queued), "--tenant", "1")

    with home_instance(home) as instance:
        runs = instance.get_runs()
    [manual_run] = [r for r in runs if r.tags[CAMPAIGN_TAG] != str(queued)]
    [queued_run] = [r for r in runs if r.tags[CAMPAIGN_TAG] == str(queued)]
    assert (manual_run.tags[REASON_TAG], queued_run.tags[REASON_TAG]) == ("manual", "run")
    assert manual_run.tags[STOPPED_TAG] == queued_run.tags[STOPPED_TAG] == "completed"
    [totals] = materializations(home, 1, int(manual_run.tags[CAMPAIGN_TAG]))
    assert (totals["sent"], totals["failed"]) == (1, 1)
    assert totals["error_codes"] == {"21211": {"attempts": 1, "meaning": "The 'To' number is not a valid phone number"}}


def test_a_started_run_whose_process_is_gone_is_failed_and_no_longer_blocks_the_sensor(home, monkeypatch):
    campaign_id = manual(Ledger(home.ledger), numbers(2))
    monkeypatch.setattr(sensors, "STARTUP_GRACE_S", 0.0)
    with dg.instance_for_test() as instance:
        dead = instance.create_run_for_job(
            send_campaign_job, tags={CAMPAIGN_TAG: str(campaign_id)}, status=dg.DagsterRunStatus.STARTED,
            run_config={"ops": {"send_campaign": {"config": {"tenant_id": 1, "campaign_id": campaign_id}}}},
        )  # fmt: skip
        context = dg.build_sensor_context(instance=instance, resources=resources_for(home.root))
        requests = list(sensors.send_queue_sensor(context))
        dead_status = instance.get_run_by_id(dead.run_id).status

    assert dead_status == dg.DagsterRunStatus.FAILURE
    assert [r.run_key for r in requests] == [f"campaign-{campaign_id}-g1-r0"]


# --- the console -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def console_template(tmp_path_factory) -> Home:
    return build_demo_home(tmp_path_factory.mktemp("send-runs") / "home", customers=120)


@pytest.fixture
def console_home(console_template, simulator, tmp_path, monkeypatch) -> Iterator[Home]:
    shutil.copytree(console_template.root, tmp_path / "home")
    monkeypatch.setenv("BKNTC_SMS_HOME", str(tmp_path / "home"))
    home = Home.resolve(tmp_path / "home")
    point_tenants_at(home, simulator.base_url)
    with Ledger(home.ledger).write() as con:  # the fast simulator drains at once: no long-code limit of 1/s
        set_sender_throughput(con, 1, "+15550100001", 0)
    yield home
    stop_send_runs(home)


def test_console_send_now_starts_a_dagster_run_outside_the_console(console_home, simulator):
    app = open_page("audience")
    app.selectbox(key="aud_segment").set_value("all_customers").run()
    app.session_state[ui.MESSAGE] = MESSAGE
    app.switch_page("views/send.py").run()
    app.button(key="snd_campaign_review").click().run()
    app.button(key="snd_campaign_confirm").click().run()
    campaign_id = app.session_state[ui.FOCUS]  # the launched campaign, opened next on Campaigns

    [run] = finished_runs(console_home, campaign_id)

    assert (run.status, run.tags[STOPPED_TAG], run.tags[LAUNCHED_BY_TAG]) == (
        dg.DagsterRunStatus.SUCCESS, "completed", "operator@tests.example")  # the signed-in user  # fmt: skip
    assert materializations(console_home, 1, campaign_id)[-1]["sent"] == status(
        Ledger(console_home.ledger), 1, campaign_id).counts["sent"] > 0  # fmt: skip


def test_console_resume_starts_a_dagster_run_tagged_resume(console_home, simulator):
    campaign = make_campaign(console_home, 1, "Spring")
    pause(Ledger(console_home.ledger), 1, campaign.campaign_id)
    app = open_page("campaigns")
    app.button(key=f"cmp_resume_{campaign.campaign_id}").click().run()

    [run] = finished_runs(console_home, campaign.campaign_id)

    assert (run.tags[REASON_TAG], run.tags[STOPPED_TAG]) == ("resume", "completed")


def test_console_test_send_is_recorded_on_its_campaigns_partition(console_home, simulator):
    app = open_page("send", **{ui.MESSAGE: MESSAGE})
    app.text_input(key="snd_test_to").set_value("+14155552671")
    app.button(key="snd_test_send").click().run()

    with home_instance(console_home) as instance:
        [partition] = instance.get_dynamic_partitions("campaigns")
        runs = instance.get_runs()
    tenant_id, campaign_id = (int(part[1:]) for part in partition.split("-"))
    [recorded] = materializations(console_home, tenant_id, campaign_id)
    assert (recorded["reason"], recorded["sent"], recorded["launched_by"]) == ("test", 1, "operator@tests.example")
    assert runs == []  # sent by the console itself, for speed: an asset event without a run


def test_cli_resend_sends_its_new_campaign_in_a_dagster_run_tagged_resend(home, simulator):
    from orchestration.delivery.poll import client_for, poll_tenant
    from orchestration.sender import run_campaign

    ledger = with_twilio(home)
    origin = manual(ledger, [*numbers(1), "+12025550003"])  # the simulator reports the second undelivered (30003)
    run_campaign(home, 1, origin)
    poll_tenant(ledger, 1, client_for(home, ledger, 1), now=lambda: time.time() + 11)

    made = cli("campaign", "resend", str(origin), "--tenant", "1", "--only", "undelivered", "--json")
    again = int(made.split('"campaign_id": ')[1].split(",")[0])
    [run] = finished_runs(home, again)

    assert (run.tags[REASON_TAG], run.tags[STOPPED_TAG]) == ("resend", "completed")
    assert run.tags[LAUNCHED_BY_TAG].startswith("cli:")
    assert status(ledger, 1, again).counts["sent"] == 1 and len(simulator.accepted()) == 3  # one more message
