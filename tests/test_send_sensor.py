"""The send queue sensor handles each campaign and each tenant in isolation: one broken campaign is logged and
skipped, every other campaign still gets its run in the same tick; paused campaigns wait for resume."""

from __future__ import annotations

import logging
import time

import dagster as dg
import pytest

from orchestration.defs.resources import resources_for
from orchestration.defs.sending.instance import CAMPAIGN_TAG, GENERATION_TAG, TENANT_TAG
from orchestration.defs.sending.jobs import send_campaign_job
from orchestration.defs.sending.sensors import MAX_FAILED_RUNS, send_queue_sensor
from orchestration.errors import UserError
from orchestration.ledger import Ledger
from orchestration.sender import campaigns, cancel, get_campaign, pause
from tests.sending import manual, numbers


def evaluate(
    instance: dg.DagsterInstance, home, cursor: str | None = None, log: logging.Handler | None = None
) -> tuple[list[str], str]:
    """The run keys of one sensor tick, and the cursor it leaves; `log` also receives the sensor's log records."""
    context = dg.build_sensor_context(instance=instance, cursor=cursor, resources=resources_for(home.root))
    if log is not None:
        context.log.addHandler(log)
    return [request.run_key for request in send_queue_sensor(context)], context.cursor


def fail_runs(instance: dg.DagsterInstance, ledger: Ledger, tenant_id: int, campaign_id: int) -> None:
    """Records MAX_FAILED_RUNS failed send runs of the campaign's current generation."""
    generation = get_campaign(ledger, tenant_id, campaign_id).generation
    tags = {CAMPAIGN_TAG: str(campaign_id), TENANT_TAG: str(tenant_id), GENERATION_TAG: str(generation)}
    config = {"ops": {"send_campaign": {"config": {"tenant_id": tenant_id, "campaign_id": campaign_id}}}}
    for _ in range(MAX_FAILED_RUNS):
        instance.create_run_for_job(send_campaign_job, run_config=config, tags=tags, status=dg.DagsterRunStatus.FAILURE)


def strand(ledger: Ledger, campaign_id: int) -> None:
    """Leaves one of the campaign's recipients in 'sending' past its lease, as a crashed run does."""
    with ledger.write() as con:
        con.execute(
            "UPDATE recipients SET state = 'sending', claim_id = 'crashed', attempts = 1, lease_until = :past"
            " WHERE recipient_id = (SELECT MIN(recipient_id) FROM recipients WHERE campaign_id = :campaign_id)",
            {"campaign_id": campaign_id, "past": time.time() - 60},
        )


def set_state(ledger: Ledger, campaign_id: int, state: str) -> None:
    with ledger.write() as con:
        con.execute("UPDATE campaigns SET state = :state WHERE campaign_id = :id", {"state": state, "id": campaign_id})


def test_a_campaign_the_sensor_paused_does_not_stop_other_tenants_on_the_next_tick(home):
    ledger = Ledger(home.ledger)
    failing = manual(ledger, numbers(2))
    strand(ledger, failing)
    other = manual(ledger, numbers(2), tenant_id=2)
    with dg.instance_for_test() as instance:
        fail_runs(instance, ledger, 1, failing)
        first, cursor = evaluate(instance, home)
        second, _ = evaluate(instance, home, cursor)

    assert first == second == [f"campaign-{other}-g1-r0"]
    assert get_campaign(ledger, 1, failing).state == "paused"


def test_the_sensor_pauses_a_campaign_whose_runs_keep_failing_with_the_reason(home):
    ledger = Ledger(home.ledger)
    failing = manual(ledger, numbers(2))
    with dg.instance_for_test() as instance:
        fail_runs(instance, ledger, 1, failing)
        requests, _ = evaluate(instance, home)

    assert requests == []
    assert f"{MAX_FAILED_RUNS} send runs failed" in get_campaign(ledger, 1, failing).pause_reason


def test_pausing_a_paused_campaign_keeps_the_first_reason(home):
    ledger = Ledger(home.ledger)
    campaign_id = manual(ledger, numbers(2))
    pause(ledger, 1, campaign_id, reason="paused by a person")

    again = pause(ledger, 1, campaign_id, reason="3 send runs failed")

    assert again.state == "paused" and again.pause_reason == "paused by a person"


@pytest.mark.parametrize("finish", [cancel, lambda ledger, t, c: set_state(ledger, c, "completed")])
def test_pausing_a_finished_campaign_is_refused(home, finish):
    ledger = Ledger(home.ledger)
    campaign_id = manual(ledger, numbers(2))
    finish(ledger, 1, campaign_id)

    with pytest.raises(UserError, match=f"Cannot pause campaign {campaign_id}"):
        pause(ledger, 1, campaign_id)


def test_a_campaign_cancelled_while_the_sensor_pauses_it_is_skipped_and_others_still_run(home, monkeypatch):
    ledger = Ledger(home.ledger)
    failing = manual(ledger, numbers(2))
    other = manual(ledger, numbers(2, start=200))
    real_pause = campaigns.pause

    def cancelled_meanwhile(ledger, tenant_id, campaign_id, reason):
        cancel(ledger, tenant_id, campaign_id)
        return real_pause(ledger, tenant_id, campaign_id, reason=reason)

    monkeypatch.setattr("orchestration.defs.sending.sensors.pause", cancelled_meanwhile)
    with dg.instance_for_test() as instance:
        fail_runs(instance, ledger, 1, failing)
        requests, _ = evaluate(instance, home)

    assert requests == [f"campaign-{other}-g1-r0"]


def test_a_campaign_row_that_cannot_be_read_is_logged_and_skipped_while_others_still_run(home, caplog):
    ledger = Ledger(home.ledger)
    broken = manual(ledger, numbers(2))
    other = manual(ledger, numbers(2), tenant_id=2)
    with dg.instance_for_test() as instance:
        fail_runs(instance, ledger, 1, broken)
        with ledger.write() as con:
            con.execute("UPDATE campaigns SET excluded_json = 'not json' WHERE campaign_id = ?", (broken,))
        requests, _ = evaluate(instance, home, log=caplog.handler)

    assert requests == [f"campaign-{other}-g1-r0"]
    assert any(f"Campaign {broken}" in r.getMessage() and "skipped" in r.getMessage() for r in caplog.records)


def test_a_tenant_whose_campaigns_cannot_be_selected_does_not_stop_other_tenants(home, monkeypatch, caplog):
    ledger = Ledger(home.ledger)
    manual(ledger, numbers(2))
    other = manual(ledger, numbers(2), tenant_id=2)
    real_select = campaigns.tenant_campaigns_needing_run

    def broken_for_tenant_1(ledger, tenant_id, now=None):
        if tenant_id == 1:
            raise RuntimeError("database disk image is malformed")
        return real_select(ledger, tenant_id, now)

    monkeypatch.setattr("orchestration.defs.sending.sensors.tenant_campaigns_needing_run", broken_for_tenant_1)
    with dg.instance_for_test() as instance:
        requests, _ = evaluate(instance, home, log=caplog.handler)

    assert requests == [f"campaign-{other}-g1-r0"]
    assert any("Tenant 1" in r.getMessage() and "malformed" in r.getMessage() for r in caplog.records)


def test_a_paused_campaign_with_stranded_recipients_gets_no_run(home):
    ledger = Ledger(home.ledger)
    campaign_id = manual(ledger, numbers(2))
    pause(ledger, 1, campaign_id)
    strand(ledger, campaign_id)
    with dg.instance_for_test() as instance:
        requests, _ = evaluate(instance, home)

    assert requests == []


def test_a_cancelled_campaign_with_stranded_recipients_gets_no_run(home):
    ledger = Ledger(home.ledger)
    campaign_id = manual(ledger, numbers(2))
    strand(ledger, campaign_id)
    cancel(ledger, 1, campaign_id)
    with dg.instance_for_test() as instance:
        requests, _ = evaluate(instance, home)

    assert requests == []


def test_a_sending_campaign_with_a_stranded_recipient_and_nothing_due_gets_a_run(home):
    ledger = Ledger(home.ledger)
    campaign_id = manual(ledger, numbers(1))
    strand(ledger, campaign_id)
    set_state(ledger, campaign_id, "sending")
    with dg.instance_for_test() as instance:
        requests, _ = evaluate(instance, home)

    assert requests == [f"campaign-{campaign_id}-g1-r0"]
