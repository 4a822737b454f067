"""Scheduled sends: never before the send time, never later than its max lateness (cancelled with the reason), the
audience frozen at the send time unless frozen at scheduling; time is injected, nothing sleeps on the clock."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

import dagster as dg
import pandas as pd
import pytest
from click.testing import CliRunner

from orchestration.audiences import AudienceQuery
from orchestration.cli import main
from orchestration.errors import UserError
from orchestration.ledger import Ledger
from orchestration.sender import (
    Schedule,
    create_campaign,
    delivery_log,
    expire_missed_schedules,
    get_campaign,
    launch,
    pause,
    resume,
    run_campaign,
    tenant_campaigns_needing_run,
)
from orchestration.sender.schedule import format_lateness, parse_lateness, parse_send_at, verdict
from orchestration.tenants import update_settings
from orchestration.warehouse.sync import build_facts
from tests.sending import FAST, TEMPLATE, small_warehouse, with_twilio
from tests.test_segments import customer
from tests.test_send_sensor import evaluate

TEN = datetime(2026, 12, 2, 10, 0, tzinfo=UTC).timestamp()  # the send time of every scheduled campaign here
HOUR = 3600.0


def scheduled(ledger: Ledger, warehouse, freeze_at: str = "send", lateness: float | None = 2 * HOUR,
              send_at: float = TEN, launched_at: float | None = None) -> int:  # fmt: skip
    """A launched campaign to all customers of tenant 1, scheduled for `send_at`; returns its id."""
    now = send_at - HOUR if launched_at is None else launched_at
    campaign = create_campaign(ledger, 1, "Reminder", TEMPLATE, AudienceQuery(1, "all_customers"), FAST,
                               schedule=Schedule(send_at, lateness, freeze_at), now=now)  # fmt: skip
    launch(ledger, warehouse, 1, campaign.campaign_id, now=now)
    return campaign.campaign_id


def add_customer(warehouse, customer_id: int) -> None:
    """One more customer of tenant 1 in the warehouse (joins all_customers)."""
    with warehouse.writer() as con:
        frame = pd.DataFrame([customer(customer_id, tenant=1, phone=f"+1201555{customer_id:04d}")])  # noqa: F841
        con.execute("INSERT INTO customers BY NAME SELECT * FROM frame")
        build_facts(con, datetime.now(UTC))


def cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.output


# --- the time, the lateness, the verdict ------------------------------------------------------------


def test_a_send_time_with_an_offset_or_z_is_read_as_that_instant():
    assert parse_send_at("2026-12-02T05:00:00-05:00", None) == TEN
    assert parse_send_at("2026-12-02T10:00Z", None) == TEN


def test_a_send_time_without_an_offset_is_read_in_the_tenants_zone():
    assert parse_send_at("2026-12-02T05:00", "America/New_York") == TEN


def test_a_send_time_without_an_offset_is_refused_when_the_tenant_has_no_zone():
    with pytest.raises(UserError, match="no UTC offset and the tenant has no time zone"):
        parse_send_at("2026-12-02T05:00", None)


@pytest.mark.parametrize(("text", "seconds"), [("2h", 7200), ("90m", 5400), ("1h30m", 5400), ("1d", 86400),
                                                ("45s", 45), ("off", None)])  # fmt: skip
def test_max_lateness_reads_durations_and_off(text, seconds):
    assert parse_lateness(text) == seconds
    assert format_lateness(seconds) == {"90m": "1h30m"}.get(text, text)


def test_a_max_lateness_that_is_not_a_duration_is_refused():
    with pytest.raises(UserError, match="--max-lateness takes a duration"):
        parse_lateness("two hours")


def test_a_schedule_is_early_before_due_until_its_lateness_then_missed_unless_lateness_is_off():
    assert verdict(TEN, 2 * HOUR, TEN - 1) == "early"
    assert verdict(TEN, 2 * HOUR, TEN) == verdict(TEN, 2 * HOUR, TEN + 2 * HOUR) == "due"
    assert verdict(TEN, 2 * HOUR, TEN + 2 * HOUR + 1) == "missed"
    assert verdict(TEN, None, TEN + 100 * HOUR) == "due"


# --- the engine's run start ------------------------------------------------------------------------


def test_a_schedule_due_now_is_sent_with_the_audience_frozen_at_send_time(home, simulator):
    ledger = with_twilio(home)
    warehouse = small_warehouse(home, count=3)
    campaign_id = scheduled(ledger, warehouse)
    assert get_campaign(ledger, 1, campaign_id).recipient_count == 0  # nothing frozen at launch
    add_customer(warehouse, 900)  # joins the audience after launch, before the send time

    summary = run_campaign(home, 1, campaign_id, now=TEN)

    assert summary.stopped == "completed" and summary.sent == 4
    assert sorted(m["to"] for m in simulator.accepted())[-1] == "+12015550900"


def test_a_run_that_died_while_freezing_at_send_time_is_redone_by_the_next_run_each_recipient_once(home, simulator):
    ledger = with_twilio(home)
    campaign_id = scheduled(ledger, small_warehouse(home, count=3))
    with ledger.write() as con:  # as a run leaves it that died after its first rows: sending, still to freeze
        con.execute("UPDATE campaigns SET state = 'sending', first_run_at = :t WHERE campaign_id = :id",
                    {"t": TEN, "id": campaign_id})  # fmt: skip
        con.execute("INSERT INTO recipients (campaign_id, customer_id, phone_e164, body, segments)"
                    " VALUES (:id, 100, '+12015550100', 'partial', 1)", {"id": campaign_id})

    requests = tenant_campaigns_needing_run(ledger, 1, now=TEN + 60)
    summary = run_campaign(home, 1, campaign_id, now=TEN + 60)

    assert requests == [(campaign_id, 1)]
    assert summary.stopped == "completed" and summary.sent == 3
    assert sorted(m["to"] for m in simulator.accepted()) == ["+12015550100", "+12015550101", "+12015550102"]
    assert "partial" not in {m["body"] for m in simulator.accepted()}


def test_freeze_at_schedule_sends_to_the_audience_as_it_was_at_launch(home, simulator):
    ledger = with_twilio(home)
    warehouse = small_warehouse(home, count=3)
    campaign_id = scheduled(ledger, warehouse, freeze_at="schedule")
    add_customer(warehouse, 900)

    summary = run_campaign(home, 1, campaign_id, now=TEN)

    assert summary.stopped == "completed" and summary.sent == 3
    assert "+12015550900" not in {m["to"] for m in simulator.accepted()}


def test_a_schedule_in_the_future_is_not_sent_and_the_run_says_scheduled(home, simulator):
    ledger = with_twilio(home)
    campaign_id = scheduled(ledger, small_warehouse(home, count=3))

    summary = run_campaign(home, 1, campaign_id, now=TEN - 60)

    campaign = get_campaign(ledger, 1, campaign_id)
    assert summary.stopped == "scheduled" and summary.next_due_at == TEN and summary.sent == 0
    assert simulator.accepted() == []
    assert campaign.state == "queued" and campaign.freeze_pending == 1 and campaign.first_run_at is None


def test_a_schedule_missed_by_more_than_its_lateness_is_not_sent_and_says_why(home, simulator):
    ledger = with_twilio(home)
    campaign_id = scheduled(ledger, small_warehouse(home, count=3), freeze_at="schedule")

    summary = run_campaign(home, 1, campaign_id, now=TEN + 3 * HOUR + 5 * 60)

    campaign = get_campaign(ledger, 1, campaign_id)
    reason = "missed_schedule: scheduled 2026-12-02 10:00 UTC, checked 2026-12-02 13:05 UTC, max lateness 2h"
    assert summary.stopped == "cancelled" and summary.pause_reason == reason
    assert campaign.state == "cancelled" and campaign.pause_reason == reason
    assert simulator.accepted() == []
    assert set(delivery_log(ledger, 1, campaign_id)["skip_reason"]) == {"missed_schedule"}


def test_the_missed_reason_is_in_the_tenants_zone_when_it_has_one(home):
    ledger = Ledger(home.ledger)
    update_settings(ledger, 1, timezone="America/New_York")
    campaign_id = scheduled(ledger, small_warehouse(home, count=1))

    [missed] = expire_missed_schedules(ledger, 1, now=TEN + 3 * HOUR)

    assert missed.campaign_id == campaign_id
    assert missed.pause_reason == ("missed_schedule: scheduled 2026-12-02 05:00 EST, checked 2026-12-02 08:00 EST, "
                                   "max lateness 2h")


def test_a_schedule_missed_within_its_lateness_is_sent(home, simulator):
    ledger = with_twilio(home)
    campaign_id = scheduled(ledger, small_warehouse(home, count=3))

    summary = run_campaign(home, 1, campaign_id, now=TEN + HOUR + 59 * 60)

    assert summary.stopped == "completed" and summary.sent == 3


def test_max_lateness_off_sends_a_schedule_however_late(home, simulator):
    ledger = with_twilio(home)
    campaign_id = scheduled(ledger, small_warehouse(home, count=2), lateness=None)

    summary = run_campaign(home, 1, campaign_id, now=TEN + 50 * HOUR)

    assert summary.stopped == "completed" and summary.sent == 2


def test_creating_or_launching_an_already_missed_schedule_is_refused_and_nothing_is_queued(home):
    ledger = Ledger(home.ledger)
    warehouse = small_warehouse(home, count=1)
    query = AudienceQuery(1, "all_customers")
    with pytest.raises(UserError, match="Cannot schedule it: missed_schedule: scheduled 2026-12-02 10:00 UTC"):
        create_campaign(ledger, 1, "Late", TEMPLATE, query, FAST, schedule=Schedule(TEN), now=TEN + 3 * HOUR)
    draft = create_campaign(ledger, 1, "Late", TEMPLATE, query, FAST, schedule=Schedule(TEN), now=TEN - HOUR)

    with pytest.raises(UserError, match=f"Cannot launch campaign {draft.campaign_id}: missed_schedule"):
        launch(ledger, warehouse, 1, draft.campaign_id, now=TEN + 3 * HOUR)
    assert get_campaign(ledger, 1, draft.campaign_id).state == "draft"


# --- the send sensor's rule ------------------------------------------------------------------------


def test_the_sensor_rule_selects_a_schedule_only_from_its_time_to_its_lateness(home):
    ledger = Ledger(home.ledger)
    campaign_id = scheduled(ledger, small_warehouse(home, count=1))

    assert tenant_campaigns_needing_run(ledger, 1, now=TEN - 1) == []
    assert tenant_campaigns_needing_run(ledger, 1, now=TEN) == [(campaign_id, 1)]
    assert tenant_campaigns_needing_run(ledger, 1, now=TEN + 2 * HOUR + 1) == []


def test_a_paused_scheduled_campaign_is_not_sent_at_its_time_and_resumed_it_is(home):
    ledger = Ledger(home.ledger)
    campaign_id = scheduled(ledger, small_warehouse(home, count=1))
    pause(ledger, 1, campaign_id)

    at_its_time_paused = tenant_campaigns_needing_run(ledger, 1, now=TEN)
    resume(ledger, 1, campaign_id)

    assert at_its_time_paused == []
    assert tenant_campaigns_needing_run(ledger, 1, now=TEN - 1) == []  # resumed early: still waits for its time
    assert tenant_campaigns_needing_run(ledger, 1, now=TEN) == [(campaign_id, 2)]
    assert expire_missed_schedules(ledger, 1, now=TEN + HOUR) == []


def test_the_send_sensor_runs_a_due_schedule_waits_for_a_future_one_and_cancels_a_missed_one(home):
    ledger = Ledger(home.ledger)
    warehouse = small_warehouse(home, count=1)
    now = time.time()
    due = scheduled(ledger, warehouse, send_at=now - 60, launched_at=now - 120)
    future = scheduled(ledger, warehouse, send_at=now + 6 * HOUR, launched_at=now)
    missed = scheduled(ledger, warehouse, send_at=now - 3 * HOUR, launched_at=now - 4 * HOUR)

    with dg.instance_for_test() as instance:
        requests, _ = evaluate(instance, home)

    assert requests == [f"campaign-{due}-g1-r0"]
    assert get_campaign(ledger, 1, future).state == "queued"
    assert get_campaign(ledger, 1, missed).state == "cancelled"
    assert get_campaign(ledger, 1, missed).pause_reason.startswith("missed_schedule: scheduled ")


# --- the command line ------------------------------------------------------------------------------


def test_cli_refuses_a_send_time_without_offset_for_a_tenant_without_zone(home):
    code, output = cli("campaign", "create", "--tenant", "1", "--name", "x", "--segment", "all_customers",
                       "--template", TEMPLATE, "--send-at", "2030-01-01T10:00")  # fmt: skip

    assert code == 2 and "has no UTC offset and the tenant has no time zone" in output
    assert json.loads(cli("campaign", "list", "--tenant", "1", "--json")[1]) == []


def test_cli_schedules_in_the_tenants_zone_shows_the_time_and_refuses_an_early_run(home):
    with_twilio(home)
    small_warehouse(home, count=2)
    assert cli("tenant", "settings", "--tenant", "1", "--timezone", "America/New_York")[0] == 0
    code, output = cli("campaign", "create", "--tenant", "1", "--name", "Later", "--segment", "all_customers",
                       "--template", TEMPLATE, "--send-at", "2099-01-05T09:30", "--max-lateness", "90m",
                       "--json")  # fmt: skip
    campaign_id = json.loads(output)["campaign_id"]
    launched, launch_output = cli("campaign", "launch", str(campaign_id), "--tenant", "1")

    _, status_output = cli("campaign", "status", str(campaign_id), "--tenant", "1")
    run_code, run_output = cli("campaign", "run", str(campaign_id), "--tenant", "1")

    assert code == 0 and json.loads(output)["send_at_iso"] == "2099-01-05T14:30:00+00:00"
    assert launched == 0 and "queued for 2099-01-05 09:30 EST; its audience is frozen then" in launch_output
    assert "scheduled for 2099-01-05 09:30 EST (max lateness 1h30m, audience frozen at send time)" in status_output
    assert run_code == 2 and "is scheduled for 2099-01-05 09:30 EST: it is not sent before then" in run_output
