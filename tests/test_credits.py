"""SMS credits: a tenant is metered from its first top-up (operators only), launches are refused beyond the balance,
each accepted segment is debited once and a failed create is refunded, and a campaign that runs out pauses."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from orchestration.audiences import AudienceQuery
from orchestration.auth import audit
from orchestration.auth.actor import Actor, acting_as
from orchestration.cli import main
from orchestration.credits import balance, statement, topup
from orchestration.errors import UserError
from orchestration.sender import create_campaign, delivery_log, get_campaign, launch, resume, run_campaign
from orchestration.sender.faults import FAULT_EXIT_CODE
from tests.sending import FAST, TEMPLATE, manual, numbers, small_warehouse, with_twilio
from tests.test_crash_safety import SETTINGS, campaign_run, finish

pytestmark = pytest.mark.usefixtures("ledger_url")  # every test on SQLite and on PostgreSQL

OPERATOR = Actor("op@example.com", role="operator")
ADMIN = Actor("admin1@example.com", role="admin", tenant_id=1)
ANALYST = Actor("ann@example.com", role="analyst", tenant_id=1)
LONG = "Hi {customer_first_name}, " + "x" * 150  # two GSM-7 segments for every recipient here


def segment_campaign(ledger, warehouse, name: str = "All", template: str = TEMPLATE) -> int:
    return create_campaign(ledger, 1, name, template, AudienceQuery(1, "all_customers"), FAST).campaign_id


def used_by(ledger, campaign_id: int) -> dict:
    return next(row for row in statement(ledger, 1).consumption if row["campaign_id"] == campaign_id)


# --- metering and top-ups ---------------------------------------------------------------------------


def test_a_tenant_never_topped_up_is_not_metered_and_sends_without_limit(home, simulator):
    ledger = with_twilio(home)
    campaign_id = manual(ledger, numbers(3))

    summary = run_campaign(home, 1, campaign_id)

    assert summary.stopped == "completed" and summary.sent == 3
    assert balance(ledger, 1) is None
    assert statement(ledger, 1).as_dict() == {"tenant": 1, "metered": False, "balance": None, "topped_up": 0,
                                              "used": 0, "topups": [], "consumption": []}  # fmt: skip


def test_a_top_up_is_an_operators_and_is_audited(home):
    ledger = with_twilio(home)
    for actor in (ADMIN, ANALYST):
        with acting_as(actor), pytest.raises(UserError, match=r"may not do credits\.topup in tenant 1"):
            topup(ledger, 1, 500, "invoice 7")
    assert balance(ledger, 1) is None  # nothing written by the refused ones

    with acting_as(OPERATOR):
        assert topup(ledger, 1, 500, "invoice 7") == 500
        assert topup(ledger, 1, 250) == 750

    rows = audit.entries(ledger, 1, action="credits")
    assert list(rows["actor"]) == ["op@example.com", "op@example.com"]
    assert list(rows["object"]) == ["250 segments", "500 segments"]
    assert [t["note"] for t in statement(ledger, 1).topups] == ["", "invoice 7"]


@pytest.mark.parametrize("segments", [-5, 1_000_000_001, 2.5, "10"])
def test_a_top_up_that_is_not_a_whole_number_of_segments_in_range_is_refused(home, segments):
    ledger = with_twilio(home)
    with pytest.raises(UserError, match="--segments must be"):
        topup(ledger, 1, segments)
    assert balance(ledger, 1) is None


def test_credits_topup_and_show_on_the_command_line(home):
    with_twilio(home)
    runner = CliRunner()
    added = runner.invoke(main, ["credits", "topup", "--tenant", "1", "--segments", "1200", "--note", "plan S"])
    shown = runner.invoke(main, ["credits", "show", "--tenant", "1", "--json"])
    unmetered = runner.invoke(main, ["credits", "show", "--tenant", "2", "--json"])

    assert added.exit_code == 0 and "balance 1,200" in added.output
    document = json.loads(shown.output)
    assert (document["metered"], document["balance"], document["topped_up"]) == (True, 1200, 1200)
    assert document["topups"][0]["note"] == "plan S" and document["topups"][0]["actor"].startswith("cli:")
    assert json.loads(unmetered.output)["metered"] is False


def test_the_credit_ledger_is_append_only(home):
    ledger = with_twilio(home)
    topup(ledger, 1, 10)
    with ledger.write() as con, pytest.raises(Exception, match="append-only"):
        con.execute("UPDATE credit_entries SET segments = 1000")
    with ledger.write() as con, pytest.raises(Exception, match="append-only"):
        con.execute("DELETE FROM credit_entries")
    assert balance(ledger, 1) == 10


# --- launch -----------------------------------------------------------------------------------------


def test_a_launch_whose_estimate_exceeds_the_balance_is_refused_with_the_numbers(home):
    ledger = with_twilio(home)
    warehouse = small_warehouse(home, count=6)
    topup(ledger, 1, 11)
    campaign_id = segment_campaign(ledger, warehouse, template=LONG)

    with pytest.raises(UserError) as refused:
        launch(ledger, warehouse, 1, campaign_id)

    assert str(refused.value) == (f"Cannot launch campaign {campaign_id}: out of credits: 12 SMS segments needed for "
                                  "6 recipients, 11 left (top up 1 or more with `bkntc-sms credits topup`).")
    campaign = get_campaign(ledger, 1, campaign_id)
    assert (campaign.state, campaign.recipient_count) == ("draft", 0)
    assert len(delivery_log(ledger, 1, campaign_id)) == 0 and balance(ledger, 1) == 11

    topup(ledger, 1, 1)
    assert launch(ledger, warehouse, 1, campaign_id).state == "queued"


# --- consumption at send ----------------------------------------------------------------------------


def test_each_accepted_segment_is_debited_and_a_failed_create_is_refunded(home, simulator):
    ledger = with_twilio(home)
    topup(ledger, 1, 10)
    phones = [*numbers(3), "+12025550011"]  # ...0011: the simulator refuses it at create (21211)
    campaign_id = manual(ledger, phones)

    summary = run_campaign(home, 1, campaign_id)

    assert (summary.stopped, summary.sent, summary.failed) == ("completed", 3, 1)
    assert balance(ledger, 1) == 7
    assert used_by(ledger, campaign_id) | {"name": None} == {"campaign_id": campaign_id, "name": None,
                                                              "reserved": 4, "refunded": 1, "adjusted": 0, "used": 3}
    with ledger.read() as con:
        refund = con.execute("SELECT r.phone_e164 FROM credit_entries e JOIN recipients r USING (recipient_id) "
                             "WHERE e.kind = 'refund'").fetchall()  # fmt: skip
    assert [row[0] for row in refund] == ["+12025550011"]


def test_a_campaign_that_runs_out_mid_way_pauses_out_of_credits_and_resumes_after_a_top_up(home, simulator):
    ledger = with_twilio(home)
    warehouse = small_warehouse(home, count=12)
    topup(ledger, 1, 24)
    big = segment_campaign(ledger, warehouse, "Big", template=LONG)  # 12 recipients x 2 segments
    launch(ledger, warehouse, 1, big)
    small = manual(ledger, numbers(5))  # 5 x 1 segment, launched while the balance covered it too
    assert run_campaign(home, 1, small).sent == 5
    assert balance(ledger, 1) == 19

    summary = run_campaign(home, 1, big)

    campaign = get_campaign(ledger, 1, big)
    assert (summary.stopped, summary.sent) == ("paused", 9)  # 9 x 2 = 18 segments; the 10th needs 2, 1 is left
    assert campaign.pause_reason.startswith("out of credits: 2 SMS segments needed, 1 left")
    assert balance(ledger, 1) == 1
    assert list(delivery_log(ledger, 1, big)["state"]).count("pending") == 3
    with pytest.raises(UserError, match=r"Cannot resume campaign \d+: out of credits: 6 SMS segments needed for 3 "
                                        r"recipients, 1 left"):  # fmt: skip
        resume(ledger, 1, big)

    topup(ledger, 1, 5)
    resume(ledger, 1, big)
    assert run_campaign(home, 1, big).stopped == "completed"
    assert balance(ledger, 1) == 0
    assert used_by(ledger, big)["used"] == 24 and used_by(ledger, small)["used"] == 5
    assert len(simulator.accepted()) == 17


def test_a_send_process_killed_after_twilio_accepted_then_restarted_debits_each_message_once(home, simulator):
    ledger = with_twilio(home)
    phones = numbers(30)
    topup(ledger, 1, 100)
    campaign_id = manual(ledger, phones, settings=SETTINGS)

    crashed, crash_output = finish(campaign_run(campaign_id, "after_accept:5"))
    assert crashed == FAULT_EXIT_CODE, crash_output
    assert balance(ledger, 1) < 100 - 5  # the dead run's claim is still reserved: the 5 it sent stay paid
    code, output = finish(campaign_run(campaign_id))

    assert code == 0 and json.loads(output.splitlines()[0])["stopped"] == "completed", output
    assert len(simulator.accepted()) == 30
    assert balance(ledger, 1) == 70
    assert used_by(ledger, campaign_id)["used"] == 30


def test_preview_json_gives_the_balance_and_the_cost_of_the_message(home):
    ledger = with_twilio(home)
    small_warehouse(home, count=6)
    topup(ledger, 1, 11)
    runner = CliRunner()
    args = ["preview", "--tenant", "1", "--segment", "all_customers", "--json"]

    priced = json.loads(runner.invoke(main, [*args, "--template", LONG]).output)
    bare = json.loads(runner.invoke(main, args).output)

    assert priced["credits"] == {"metered": True, "balance": 11, "cost_segments": 12, "enough": False}
    assert bare["credits"] == {"metered": True, "balance": 11, "cost_segments": None, "enough": None}
