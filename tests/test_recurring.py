"""Recurring campaigns: each occurrence makes one campaign, frozen as of its time and sent by one Dagster run, and
nobody is messaged twice for the same appointment across occurrences; time is injected."""

from __future__ import annotations

import json
import logging
import time
from datetime import UTC, datetime

import dagster as dg
import pytest
from click.testing import CliRunner

from orchestration.audiences import AudienceQuery
from orchestration.auth.actor import Actor, acting_as
from orchestration.cli import main
from orchestration.defs.recurring.sensors import recurring_campaigns_sensor, recurring_run_requests
from orchestration.defs.resources import resources_for
from orchestration.defs.sending.instance import CAMPAIGN_TAG, STOPPED_TAG
from orchestration.defs.sending.jobs import send_campaign_job
from orchestration.errors import UserError
from orchestration.ledger import Ledger
from orchestration.recurring import definitions
from orchestration.recurring.definitions import parse_schedule
from orchestration.recurring.occurrences import make_due
from orchestration.sender import delivery_log, get_campaign, run_campaign, tenant_campaigns_needing_run
from tests.sending import small_warehouse, with_twilio
from tests.test_segments import appointment, build_warehouse, customer

pytestmark = pytest.mark.usefixtures("ledger_url")  # every test on SQLite and on PostgreSQL

HOUR, DAY = 3600, 86400
DAY1 = datetime(2026, 12, 2, 15, 0, tzinfo=UTC).timestamp()  # 10:00 in New York
DAY2 = DAY1 + DAY
REMINDER = "Hi {customer_first_name}, see you on {appointment_date} at {appointment_start_time}"
LOG = logging.getLogger("test_recurring")


def phone(cid: int) -> str:
    return f"+1201555{cid:04d}"


def reminder(ledger: Ledger, days: int = 2, added_at: float = DAY1 - HOUR, **options) -> int:
    """'Every day at 10:00 (New York), upcoming in the next `days` days' for tenant 1; returns its id."""
    return definitions.add(ledger, 1, "Reminder", parse_schedule(every="day at 10:00"),
                           AudienceQuery(1, "upcoming", days=days), REMINDER, timezone="America/New_York",
                           now=added_at, **options).recurring_id  # fmt: skip


def occurrence(home, ledger: Ledger, now: float) -> int:
    """Makes the occurrence due at `now` and runs its campaign to the end; returns the campaign id."""
    made = make_due(ledger, now)
    assert len(made) == 1 and made[0].campaign is not None, made
    summary = run_campaign(home, 1, made[0].campaign.campaign_id, now=now)
    assert summary.stopped == "completed", summary
    return made[0].campaign.campaign_id


def test_a_daily_reminder_on_two_days_never_messages_anyone_twice_for_the_same_appointment(home, simulator):
    ledger = with_twilio(home)
    customers = [customer(cid, phone=phone(cid)) for cid in (1, 2, 3)]
    build_warehouse(home.warehouse, customers, [
        appointment(11, 1, int(DAY1 + 5 * HOUR)),        # customer 1, day 1 afternoon: day 1's window only
        appointment(12, 1, int(DAY2 + 8 * HOUR)),        # customer 1 again, day 2 evening: both windows
        appointment(21, 2, int(DAY2 + 5 * HOUR)),        # customer 2, day 2 afternoon: both windows
        appointment(31, 3, int(DAY2 + DAY + 2 * HOUR)),  # customer 3, day 3: day 2's window only
    ])  # fmt: skip
    reminder(ledger, days=2)

    first = occurrence(home, ledger, DAY1 + 30)
    second = occurrence(home, ledger, DAY2 + 30)

    sent = [(m["to"], m["body"]) for m in simulator.accepted()]
    assert len(sent) == 4
    assert sorted(to for to, _ in sent[:2]) == [phone(1), phone(2)]  # day 1: customer 1 for appointment 11, customer 2
    assert sorted(to for to, _ in sent[2:]) == [phone(1), phone(3)]  # day 2: appointment 12 and customer 3's
    assert [to for to, _ in sent].count(phone(2)) == 1  # appointment 21 was in both windows: messaged once
    assert get_campaign(ledger, 1, second).excluded["already_messaged"] == 1
    assert get_campaign(ledger, 1, first).excluded["already_messaged"] == 0
    assert get_campaign(ledger, 1, second).name == "Reminder — 2026-12-03 10:00"


def test_a_person_whose_earlier_message_failed_is_tried_again_by_the_next_occurrence(home, simulator):
    ledger = with_twilio(home)
    build_warehouse(home.warehouse, [customer(11, phone="+12015550011")],  # ...0011: refused at create (21211)
                    [appointment(1, 11, int(DAY2 + 5 * HOUR))])  # fmt: skip
    reminder(ledger, days=2)

    first = occurrence(home, ledger, DAY1 + 30)
    second = occurrence(home, ledger, DAY2 + 30)

    assert list(delivery_log(ledger, 1, first)["state"]) == ["failed"]
    assert list(delivery_log(ledger, 1, second)["state"]) == ["failed"]  # tried again, not "already messaged"


def test_a_segment_without_an_anchor_messages_each_customer_once_per_definition(home, simulator):
    ledger = with_twilio(home)
    small_warehouse(home, count=3)  # all appointments long past: lapsed
    definitions.add(ledger, 1, "Win back", parse_schedule(every="monday"), AudienceQuery(1, "lapsed", days=90),
                    "We miss you {customer_first_name}", timezone="America/New_York", now=DAY1 - DAY)  # fmt: skip
    monday = datetime(2026, 12, 7, 15, 0, tzinfo=UTC).timestamp()

    assert len(delivery_log(ledger, 1, occurrence(home, ledger, monday + 60))) == 3
    made = make_due(ledger, monday + 7 * DAY + 60)
    summary = run_campaign(home, 1, made[0].campaign.campaign_id, now=monday + 7 * DAY + 60)

    assert summary.stopped == "cancelled"  # nobody left: the empty audience cancels the occurrence
    assert get_campaign(ledger, 1, made[0].campaign.campaign_id).excluded["already_messaged"] == 3
    assert len(simulator.accepted()) == 3


# --- occurrences and the sensor ---------------------------------------------------------------------


def test_an_occurrence_is_made_once_and_asked_for_as_one_run_whatever_the_ticks(home):
    ledger = with_twilio(home)
    small_warehouse(home)
    recurring_id = reminder(ledger)

    before = recurring_run_requests(ledger, LOG, DAY1 - 60)
    first = recurring_run_requests(ledger, LOG, DAY1 + 30)
    again = recurring_run_requests(ledger, LOG, DAY1 + 60)

    assert before == []
    assert [r.run_key for r in first] == [r.run_key for r in again] == [f"recurring-{recurring_id}-{int(DAY1)}-g1"]
    campaign_id = int(first[0].tags[CAMPAIGN_TAG])
    campaign = get_campaign(ledger, 1, campaign_id)
    assert (campaign.state, campaign.send_at, campaign.freeze_pending) == ("queued", DAY1, 1)
    assert campaign.audience["as_of"].startswith("2026-12-02T15:00:00")
    assert tenant_campaigns_needing_run(ledger, 1, DAY1 + 60) == []  # its first run is this sensor's, not the queue's
    with ledger.read() as con:
        assert con.execute("SELECT count(*) FROM campaigns").fetchone()[0] == 1


def test_an_occurrence_later_than_its_max_lateness_is_skipped_and_the_next_one_is_made(home):
    ledger = with_twilio(home)
    reminder(ledger)

    late = make_due(ledger, DAY1 + 2 * HOUR)  # default lateness: 1 h
    nothing = make_due(ledger, DAY1 + 3 * HOUR)
    next_day = make_due(ledger, DAY2 + 60)

    assert late[0].campaign is None and late[0].skipped.startswith("missed: checked 7200 s after its time")
    assert nothing == []
    assert next_day[0].occurrence_at == DAY2 and next_day[0].campaign is not None


def test_after_downtime_only_the_latest_occurrence_is_made(home):
    ledger = with_twilio(home)
    reminder(ledger, max_lateness_s=None)

    made = make_due(ledger, DAY1 + 3 * DAY + 60)

    assert [m.occurrence_at for m in made] == [DAY1 + 3 * DAY]


def test_a_paused_recurring_campaign_makes_nothing_and_resumes_from_the_next_time(home):
    ledger = with_twilio(home)
    recurring_id = reminder(ledger)

    definitions.pause(ledger, 1, recurring_id, now=DAY1 - 60)
    assert make_due(ledger, DAY1 + 30) == []
    definitions.resume(ledger, 1, recurring_id, now=DAY1 + 60)
    assert make_due(ledger, DAY1 + 120) == []  # day 1's time passed while paused: not made up
    assert [m.occurrence_at for m in make_due(ledger, DAY2 + 30)] == [DAY2]
    definitions.remove(ledger, 1, recurring_id)
    assert make_due(ledger, DAY2 + DAY + 30) == []
    assert definitions.list_recurring(ledger, 1) == []
    with pytest.raises(UserError, match="Cannot resume recurring campaign .*: it is removed"):
        definitions.resume(ledger, 1, recurring_id)


def test_another_tenants_recurring_campaign_is_not_found(home):
    ledger = with_twilio(home)
    recurring_id = reminder(ledger)
    with pytest.raises(UserError, match=f"Recurring campaign {recurring_id} not found for tenant 2"):
        definitions.pause(ledger, 2, recurring_id)
    assert definitions.list_recurring(ledger, 2) == []


def test_an_analyst_manages_recurring_campaigns_only_when_analysts_may_launch(home):
    ledger = with_twilio(home)
    with acting_as(Actor("ann@example.com", role="analyst", tenant_id=1)), \
            pytest.raises(UserError, match=r"may not do recurring\.manage in tenant 1"):
        reminder(ledger)
    assert definitions.list_recurring(ledger, 1) == []


@pytest.mark.parametrize(("options", "message"), [
    ({"cron": "0 10 * *"}, "--cron takes five cron fields"),
    ({"every": "fortnight"}, "--every takes day, weekday"),
    ({}, "Give the schedule as --cron"),
])  # fmt: skip
def test_a_schedule_that_is_not_one_is_refused_with_one_message(options, message):
    with pytest.raises(UserError, match=message):
        parse_schedule(**options)


def test_recurring_add_and_list_on_the_command_line(home):
    with_twilio(home)
    runner = CliRunner()
    added = runner.invoke(main, ["recurring", "add", "--tenant", "1", "--name", "Win back", "--segment", "lapsed",
                                 "--days", "90", "--template", "We miss you", "--every", "monday at 9:30",
                                 "--timezone", "Europe/Berlin", "--json"])  # fmt: skip
    listed = runner.invoke(main, ["recurring", "list", "--tenant", "1", "--json"])
    no_zone = runner.invoke(main, ["recurring", "add", "--tenant", "1", "--name", "x", "--segment", "lapsed",
                                   "--template", "x", "--cron", "0 10 * * *"])  # fmt: skip

    assert added.exit_code == 0, added.output
    found = json.loads(listed.output)
    assert [(r["cron"], r["timezone"], r["audience"]["segment"], r["audience"]["days"]) for r in found] == [
        ("30 9 * * 1", "Europe/Berlin", "lapsed", 90)]
    assert datetime.fromtimestamp(found[0]["next_at"], UTC).weekday() == 0
    assert no_zone.exit_code == 2 and "Give --timezone" in no_zone.output


# --- one Dagster run per occurrence -----------------------------------------------------------------


def test_the_sensor_starts_one_send_run_per_occurrence_that_sends_it(home, simulator):
    ledger = with_twilio(home)
    small_warehouse(home, count=2)
    # Daily at the minute that began a minute ago, created two minutes ago: one occurrence is due, and the next
    # is a day away (an every-minute schedule had its next occurrence fall due while the run sent, under load).
    due = datetime.fromtimestamp(time.time() - 60, UTC)
    definitions.add(ledger, 1, "Daily", f"{due.minute} {due.hour} * * *", AudienceQuery(1, "all_customers"), "Hello",
                    timezone="UTC", now=time.time() - 120)  # fmt: skip
    with dg.instance_for_test() as instance:
        context = dg.build_sensor_context(instance=instance, resources=resources_for(home.root))
        requests = list(recurring_campaigns_sensor(context))
        assert len(requests) == 1
        result = send_campaign_job.execute_in_process(
            run_config=requests[0].run_config, instance=instance, tags=requests[0].tags,
            resources=resources_for(home.root))  # fmt: skip
        run = instance.get_run_by_id(result.run_id)

        assert result.success and run.tags[STOPPED_TAG] == "completed"
        assert list(recurring_campaigns_sensor(dg.build_sensor_context(
            instance=instance, resources=resources_for(home.root)))) == []  # started: nothing more to ask for
    assert len(simulator.accepted()) == 2
