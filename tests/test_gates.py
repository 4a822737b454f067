"""Claim-time gates: quiet hours in the recipient's local time (deferred to the window's next opening, never dropped,
never sent early, kept across a pause and a crash) and the frequency cap across campaigns; time is injected."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from click.testing import CliRunner

from orchestration.cli import main
from orchestration.errors import UserError
from orchestration.ledger import Ledger
from orchestration.sender import (
    CampaignSettings,
    get_campaign,
    pause,
    resume,
    run_campaign,
    tenant_campaigns_needing_run,
)
from orchestration.sender.faults import FAULT_ENV, FAULT_EXIT_CODE
from orchestration.sender.gates import FrequencyCap, SendRules, parse_frequency_cap
from orchestration.sender.quiet_hours import DEFAULT_WINDOW
from orchestration.tenants import get_settings, update_settings
from tests.reliability.harness import run_to_exit
from tests.sending import FAST, manual, with_twilio
from tests.test_segments import build_warehouse, customer

pytestmark = pytest.mark.usefixtures("ledger_url")  # every test on SQLite and on PostgreSQL

NEW_YORK, CHICAGO, LOS_ANGELES = "+12125550100", "+13125550100", "+12135550100"
IDAHO = "+12085550100"  # America/Boise or America/Los_Angeles: the number names two zones
FLORIDA, OKLAHOMA = "+13055550100", "+19185550100"
HOUR, DAY = 3600.0, 86_400.0


def utc(*parts: int) -> float:
    return datetime(*parts, tzinfo=UTC).timestamp()


WINTER = utc(2026, 12, 3, 13, 0)  # 08:00 in New York, 07:00 in Chicago, 05:00 in Los Angeles


def quiet_tenant(home, **settings) -> Ledger:
    """Tenant 1 on the simulator with the product's default rules (the suite turns them off), plus `settings`."""
    ledger = with_twilio(home)
    update_settings(ledger, 1, **{"quiet_hours": "08:00-21:00", "state_rules": "on", **settings})
    return ledger


def recipients(ledger: Ledger, campaign_id: int) -> dict[str, dict]:
    with ledger.read() as con:
        rows = con.execute("SELECT phone_e164, state, due_at, deferred_reason, skip_reason, timezone FROM recipients"
                           " WHERE campaign_id = ?", (campaign_id,)).fetchall()  # fmt: skip
    return {row["phone_e164"]: dict(row) for row in rows}


def sent_to(simulator) -> Counter:
    return Counter(message["to"] for message in simulator.accepted())


# --- settings ---------------------------------------------------------------------------------------


def test_tenant_settings_take_quiet_hours_state_rules_and_a_frequency_cap(home):
    code = CliRunner().invoke(main, ["tenant", "settings", "--tenant", "1", "--quiet-hours", "09:00-20:30",
                                     "--state-rules", "off", "--frequency-cap", "3/7d"])  # fmt: skip
    settings = get_settings(Ledger(home.ledger), 1)

    assert code.exit_code == 0, code.output
    assert "quiet hours: send 09:00-20:30 in the recipient's local time" in code.output
    assert (settings.quiet_hours, settings.state_rules, settings.frequency_cap) == ("09:00-20:30", False, "3/7d")


@pytest.mark.parametrize(("option", "value", "message"), [
    ("--quiet-hours", "9-17", "HH:MM-HH:MM"),
    ("--quiet-hours", "21:00-08:00", "must end after it starts"),
    ("--frequency-cap", "3 a week", "messages/period"),
    ("--frequency-cap", "0/7d", "messages/period"),
])  # fmt: skip
def test_a_bad_quiet_hours_or_cap_is_refused_and_nothing_is_written(home, option, value, message):
    result = CliRunner().invoke(main, ["tenant", "settings", "--tenant", "1", "--rate", "5", option, value])

    assert result.exit_code != 0 and message in result.output
    assert get_settings(Ledger(home.ledger), 1).rate_limit_per_s == 10.0


def test_a_frequency_cap_reads_days_or_hours_and_off():
    assert parse_frequency_cap("3/7d") == FrequencyCap(3, 7 * DAY)
    assert str(parse_frequency_cap("2/24h")) == "2/1d" and str(parse_frequency_cap("2/12h")) == "2/12h"
    assert parse_frequency_cap("off") is None
    with pytest.raises(UserError):
        parse_frequency_cap("3")


def test_quiet_hours_off_still_keeps_florida_and_oklahoma_to_8_to_20_under_state_rules():
    rules = SendRules(window=None, state_rules=True)
    assert rules.window_of(NEW_YORK) is None
    assert str(rules.window_of(FLORIDA)) == str(rules.window_of(OKLAHOMA)) == "08:00-20:00"
    assert replace(rules, state_rules=False).window_of(FLORIDA) is None


# --- quiet hours at claim time ------------------------------------------------------------------------


def test_recipients_in_three_zones_are_sent_inside_their_window_and_deferred_to_its_opening(home, simulator):
    ledger = quiet_tenant(home, timezone="America/New_York")
    campaign_id = manual(ledger, [NEW_YORK, CHICAGO, LOS_ANGELES])

    first = run_campaign(home, 1, campaign_id, now=WINTER, max_wait_s=0)  # 08:00 NY: its window has just opened
    held = recipients(ledger, campaign_id)

    assert (first.stopped, first.sent, first.deferred) == ("waiting", 1, 2)
    assert sent_to(simulator) == Counter([NEW_YORK])
    assert held[CHICAGO]["due_at"] == WINTER + HOUR and held[LOS_ANGELES]["due_at"] == WINTER + 3 * HOUR
    assert {held[CHICAGO]["deferred_reason"], held[LOS_ANGELES]["deferred_reason"]} == {"quiet_hours"}
    assert first.next_due_at == WINTER + HOUR  # the earliest deferred one: the sensor relaunches it then

    early = run_campaign(home, 1, campaign_id, now=WINTER + HOUR - 1, max_wait_s=0)  # 07:59:59 in Chicago
    second = run_campaign(home, 1, campaign_id, now=WINTER + HOUR, max_wait_s=0)
    third = run_campaign(home, 1, campaign_id, now=WINTER + 3 * HOUR, max_wait_s=0)

    assert (early.sent, early.stopped) == (0, "waiting")
    assert (second.sent, second.next_due_at) == (1, WINTER + 3 * HOUR)
    assert (third.sent, third.stopped) == (1, "completed")
    assert sent_to(simulator) == Counter([NEW_YORK, CHICAGO, LOS_ANGELES])


def test_a_recipient_at_the_windows_end_waits_for_the_next_morning(home, simulator):
    ledger = quiet_tenant(home)
    campaign_id = manual(ledger, [NEW_YORK, CHICAGO])
    nine_pm_new_york = utc(2026, 12, 4, 2, 0)  # 21:00 in New York (closed), 20:00 in Chicago (open)

    summary = run_campaign(home, 1, campaign_id, now=nine_pm_new_york, max_wait_s=0)

    assert (summary.sent, summary.deferred) == (1, 1) and sent_to(simulator) == Counter([CHICAGO])
    assert recipients(ledger, campaign_id)[NEW_YORK]["due_at"] == utc(2026, 12, 4, 13, 0)  # 08:00 EST


@pytest.mark.parametrize(("evening", "opening"), [
    (utc(2026, 3, 8, 3, 0), utc(2026, 3, 8, 12, 0)),  # 22:00 EST; the clocks spring forward: 08:00 EDT
    (utc(2026, 11, 1, 2, 0), utc(2026, 11, 1, 13, 0)),  # 22:00 EDT; the clocks fall back: 08:00 EST
])  # fmt: skip
def test_a_deferral_across_a_dst_change_opens_at_8_local_time(home, simulator, evening, opening):
    ledger = quiet_tenant(home)
    campaign_id = manual(ledger, [NEW_YORK])

    summary = run_campaign(home, 1, campaign_id, now=evening, max_wait_s=0)

    assert (summary.sent, summary.next_due_at) == (0, opening)
    assert run_campaign(home, 1, campaign_id, now=opening - 1, max_wait_s=0).sent == 0
    assert run_campaign(home, 1, campaign_id, now=opening, max_wait_s=0).sent == 1


def test_a_number_whose_region_spans_several_zones_follows_the_tenants_zone(home, simulator):
    ledger = quiet_tenant(home, timezone="America/New_York")
    campaign_id = manual(ledger, [IDAHO])
    half_past_seven_new_york = utc(2026, 12, 3, 12, 30)  # 05:30 in Boise, 04:30 in Los Angeles

    summary = run_campaign(home, 1, campaign_id, now=half_past_seven_new_york, max_wait_s=0)

    assert recipients(ledger, campaign_id)[IDAHO]["timezone"] is None  # no single zone of its own
    assert summary.next_due_at == utc(2026, 12, 3, 13, 0)  # 08:00 in New York, the tenant's zone


def test_without_a_tenant_zone_a_several_zone_number_waits_until_its_window_is_open_in_all(home, simulator):
    ledger = quiet_tenant(home)
    campaign_id = manual(ledger, [IDAHO])

    summary = run_campaign(home, 1, campaign_id, now=WINTER, max_wait_s=0)

    assert summary.next_due_at == utc(2026, 12, 3, 16, 0)  # 08:00 in Los Angeles (09:00 in Boise)


def test_the_anchor_appointments_client_timezone_is_the_recipients_zone(home):
    import pandas as pd

    from orchestration.sender.campaigns import _own_zones

    frame = pd.DataFrame({"phone_e164": [NEW_YORK, NEW_YORK, IDAHO],
                          "client_timezone": ["Europe/Berlin", None, "Not/AZone"]})  # fmt: skip

    assert _own_zones(frame) == ["Europe/Berlin", "America/New_York", None]


def test_a_campaigns_own_quiet_hours_override_the_tenants(home, simulator):
    ledger = quiet_tenant(home)
    early = manual(ledger, [NEW_YORK], settings=replace(FAST, quiet_hours="07:00-21:00"))
    anytime = manual(ledger, [CHICAGO], settings=replace(FAST, quiet_hours="off"))
    seven_new_york = utc(2026, 12, 3, 12, 0)  # 07:00 in New York, 06:00 in Chicago

    assert run_campaign(home, 1, early, now=seven_new_york, max_wait_s=0).sent == 1
    assert run_campaign(home, 1, anytime, now=seven_new_york, max_wait_s=0).sent == 1
    assert get_campaign(ledger, 1, anytime).quiet_hours == "off"


def test_florida_and_oklahoma_numbers_stop_at_8_pm_under_state_rules_and_not_without(home, simulator):
    ledger = quiet_tenant(home)
    campaign_id = manual(ledger, [NEW_YORK, FLORIDA, OKLAHOMA, CHICAGO])
    half_past_eight_new_york = utc(2026, 12, 4, 1, 30)  # 20:30 in New York and Miami, 19:30 in Tulsa and Chicago

    summary = run_campaign(home, 1, campaign_id, now=half_past_eight_new_york, max_wait_s=0)

    assert sent_to(simulator) == Counter([NEW_YORK, OKLAHOMA, CHICAGO]) and summary.deferred == 1
    update_settings(ledger, 1, state_rules="off")
    without = manual(ledger, [FLORIDA])
    assert run_campaign(home, 1, without, now=half_past_eight_new_york + 60, max_wait_s=0).sent == 1


def test_a_deferral_survives_a_pause_and_the_sensor_relaunches_the_campaign_when_it_is_due(home, simulator):
    ledger = quiet_tenant(home)
    campaign_id = manual(ledger, [NEW_YORK, LOS_ANGELES])
    opening = WINTER + 3 * HOUR  # 08:00 in Los Angeles

    run_campaign(home, 1, campaign_id, now=WINTER, max_wait_s=0)
    pause(ledger, 1, campaign_id)
    resume(ledger, 1, campaign_id)
    after_resume = run_campaign(home, 1, campaign_id, now=WINTER + 60, max_wait_s=0)

    assert (after_resume.sent, after_resume.stopped) == (0, "waiting")
    assert tenant_campaigns_needing_run(ledger, 1, now=opening - 1) == []
    assert [c for c, _ in tenant_campaigns_needing_run(ledger, 1, now=opening)] == [campaign_id]
    assert run_campaign(home, 1, campaign_id, now=opening, max_wait_s=0).stopped == "completed"
    assert sent_to(simulator) == Counter([NEW_YORK, LOS_ANGELES])


RUN_AT = ("import sys; from orchestration.config import Home; from orchestration.sender import run_campaign; "
          "print(run_campaign(Home.resolve(), 1, int(sys.argv[1]), now=float(sys.argv[2]), max_wait_s=0).stopped)")


def run_process(campaign_id: int, now: float, fault: str | None = None) -> subprocess.CompletedProcess:
    """A send run at an injected time in its own process; `fault` kills it at a crash point (os._exit)."""
    env = {key: value for key, value in os.environ.items() if key != FAULT_ENV}
    env.update({FAULT_ENV: fault} if fault else {})
    return run_to_exit([sys.executable, "-c", RUN_AT, str(campaign_id), str(now)], env=env, timeout=120)


def test_a_deferral_survives_a_crash_of_the_run_that_made_it(home, simulator):
    ledger = quiet_tenant(home)
    campaign_id = manual(ledger, [NEW_YORK, LOS_ANGELES])

    crashed = run_process(campaign_id, WINTER, fault="before_request:1")  # after the claim that deferred LA
    held = recipients(ledger, campaign_id)
    recovered = run_process(campaign_id, WINTER + 60)

    assert crashed.returncode == FAULT_EXIT_CODE, crashed.stderr
    assert held[NEW_YORK]["state"] == "sending" and held[LOS_ANGELES]["due_at"] == WINTER + 3 * HOUR
    assert recovered.stdout.strip() == "waiting", recovered.stderr
    assert sent_to(simulator) == Counter([NEW_YORK])
    assert run_process(campaign_id, WINTER + 3 * HOUR).stdout.strip() == "completed"
    assert sent_to(simulator) == Counter([NEW_YORK, LOS_ANGELES])


def test_cancelling_a_campaign_skips_its_deferred_recipients(home, simulator):
    from orchestration.sender import cancel

    ledger = quiet_tenant(home)
    campaign_id = manual(ledger, [NEW_YORK, LOS_ANGELES])
    run_campaign(home, 1, campaign_id, now=WINTER, max_wait_s=0)

    cancel(ledger, 1, campaign_id)

    assert recipients(ledger, campaign_id)[LOS_ANGELES]["skip_reason"] == "cancelled"
    assert run_campaign(home, 1, campaign_id, now=WINTER + 3 * HOUR, max_wait_s=0).sent == 0


# --- the frequency cap --------------------------------------------------------------------------------


def test_the_frequency_cap_counts_every_campaign_of_the_tenant_and_skips_the_capped(home, simulator):
    ledger = quiet_tenant(home, frequency_cap="2/7d")
    noon = utc(2026, 12, 3, 17, 0)
    for hour in (0, 1):
        run_campaign(home, 1, manual(ledger, [NEW_YORK, CHICAGO]), now=noon + hour * HOUR, max_wait_s=0)

    third = manual(ledger, [NEW_YORK, LOS_ANGELES])
    summary = run_campaign(home, 1, third, now=noon + 2 * HOUR, max_wait_s=0)

    assert (summary.sent, summary.skipped, summary.stopped) == (1, 1, "completed")
    assert recipients(ledger, third)[NEW_YORK]["skip_reason"] == "frequency_cap"
    assert sent_to(simulator) == Counter({NEW_YORK: 2, CHICAGO: 2, LOS_ANGELES: 1})


def test_a_campaign_that_defers_at_the_cap_sends_when_the_oldest_counted_message_leaves_the_period(home, simulator):
    ledger = quiet_tenant(home, frequency_cap="2/7d")
    noon = utc(2026, 12, 3, 17, 0)
    for hour in (0, 1):
        run_campaign(home, 1, manual(ledger, [NEW_YORK]), now=noon + hour * HOUR, max_wait_s=0)
    deferring = manual(ledger, [NEW_YORK], settings=replace(FAST, on_cap="defer"))

    summary = run_campaign(home, 1, deferring, now=noon + 2 * HOUR, max_wait_s=0)

    sent_at = recipients_sent_at(ledger, NEW_YORK)
    assert (summary.sent, summary.deferred) == (0, 1)
    assert summary.next_due_at == pytest.approx(sent_at[0] + 7 * DAY)
    assert recipients(ledger, deferring)[NEW_YORK]["deferred_reason"] == "frequency_cap"
    assert run_campaign(home, 1, deferring, now=sent_at[0] + 7 * DAY + 1, max_wait_s=0).sent == 1


def recipients_sent_at(ledger: Ledger, phone: str) -> list[float]:
    with ledger.read() as con:
        return sorted(row[0] for row in con.execute(
            "SELECT sent_at FROM recipients WHERE phone_e164 = ? AND state = 'sent'", (phone,)))


def test_two_overlapping_campaigns_never_pass_the_cap_together(home, simulator):
    ledger = quiet_tenant(home, frequency_cap="1/7d")
    phones = [f"+1212555{n:04d}" for n in range(200, 240)]
    first, second = manual(ledger, phones), manual(ledger, phones)
    noon = utc(2026, 12, 3, 17, 0)
    summaries = {}

    def run(campaign_id: int) -> None:
        summaries[campaign_id] = run_campaign(home, 1, campaign_id, now=noon, max_wait_s=0)

    threads = [threading.Thread(target=run, args=(campaign_id,)) for campaign_id in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert sent_to(simulator) == Counter(phones)  # each number once, whichever campaign got it
    assert summaries[first].sent + summaries[second].sent == len(phones)
    assert summaries[first].skipped + summaries[second].skipped == len(phones)


def test_florida_numbers_get_at_most_3_messages_in_24_hours_under_state_rules(home, simulator):
    ledger = quiet_tenant(home)
    noon = utc(2026, 12, 3, 17, 0)
    for hour in range(4):
        run_campaign(home, 1, manual(ledger, [FLORIDA, NEW_YORK]), now=noon + hour * HOUR, max_wait_s=0)
    next_day = manual(ledger, [FLORIDA])

    assert sent_to(simulator) == Counter({FLORIDA: 3, NEW_YORK: 4})
    sent = recipients_sent_at(ledger, FLORIDA)
    assert run_campaign(home, 1, next_day, now=sent[0] + DAY + 1, max_wait_s=0).sent == 1


def test_a_test_message_to_ones_own_phone_is_not_held_by_quiet_hours():
    rules = SendRules.for_campaign(None, type("TestSend", (), {"kind": "test"})())
    assert rules.window_of(FLORIDA) is None and rules.caps_of(FLORIDA) == ()
    assert SendRules().window == DEFAULT_WINDOW


# --- preview ------------------------------------------------------------------------------------------


def test_preview_json_reports_the_quiet_hours_deferral_and_the_frequency_cap(home, simulator):
    ledger = quiet_tenant(home, frequency_cap="1/7d", timezone="America/New_York")
    build_warehouse(home.warehouse, [customer(1, phone=NEW_YORK), customer(2, phone=CHICAGO),
                                     customer(3, phone=LOS_ANGELES)], [])  # fmt: skip
    run_campaign(home, 1, manual(ledger, [NEW_YORK]), now=WINTER, max_wait_s=0)  # NY is at its cap now

    result = CliRunner().invoke(main, ["preview", "--tenant", "1", "--segment", "all_customers", "--json",
                                       "--as-of", "2026-12-03T13:30:00Z"])  # fmt: skip
    assert result.exit_code == 0, (result.output, result.exception)
    document = json.loads(result.output)

    assert document["count"] == 2 and document["excluded"]["frequency_cap"] == 1
    assert document["deferred"]["quiet_hours"] == {"count": 2, "earliest_send_at": "2026-12-03T14:00:00Z",
                                                   "latest_send_at": "2026-12-03T16:00:00Z"}  # fmt: skip


def test_settings_changes_refuse_an_unknown_state_rules_value(home):
    with pytest.raises(UserError, match="on or off"):
        update_settings(Ledger(home.ledger), 1, state_rules="maybe")


def test_a_campaign_refuses_bad_quiet_hours_before_anything_is_written(home):
    ledger = with_twilio(home)
    with pytest.raises(UserError, match="HH:MM-HH:MM"):
        manual(ledger, [NEW_YORK], settings=CampaignSettings(quiet_hours="late"))
    with ledger.read() as con:
        assert con.execute("SELECT count(*) FROM campaigns").fetchone()[0] == 0
