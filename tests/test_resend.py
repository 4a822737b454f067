"""Resend to the ones that did not get it: a campaign sent to the simulator over real HTTP with delivery failures
(by destination suffix), its statuses polled, then a new campaign to exactly the failed/undelivered/unknown
recipients, minus anyone suppressed since and numbers that cannot receive SMS; tenant-scoped, all or nothing."""

from __future__ import annotations

import json
import time

import pytest
from click.testing import CliRunner

from orchestration.cli import main
from orchestration.delivery.funnel import delivery_funnel
from orchestration.delivery.poll import MAX_AGE_S, client_for, poll_tenant
from orchestration.errors import UserError
from orchestration.ledger import Ledger
from orchestration.ledger.suppression import SuppressionList
from orchestration.sender import delivery_log, get_campaign, list_campaigns, resend, run_campaign
from tests.sending import manual, numbers, with_twilio

DELIVERED = numbers(2)
UNREACHABLE_HANDSET = "+12025550003"  # undelivered 30003: worth another try
FILTERED = "+12025550007"  # undelivered 30007 (carrier filter); this one is suppressed after the send
BLOCKED_SENDER = "+12025550034"  # failed 30034: Twilio reports it failed
NO_SUCH_HANDSET = "+12025550005"  # undelivered 30005: the number does not exist
INVALID = "+12025550011"  # the send fails at create with 21211: not a valid number
ORIGIN = [*DELIVERED, UNREACHABLE_HANDSET, FILTERED, BLOCKED_SENDER, NO_SUCH_HANDSET, INVALID]


def settled_campaign(home, phones, tenant_id=1, poll_after_s=11.0) -> tuple[Ledger, int]:
    """A manual campaign sent through the simulator, its delivery statuses polled `poll_after_s` later."""
    ledger = with_twilio(home, tenant_id)
    campaign_id = manual(ledger, phones, tenant_id=tenant_id)
    run_campaign(home, tenant_id, campaign_id)
    poll_tenant(ledger, tenant_id, client_for(home, ledger, tenant_id), now=lambda: time.time() + poll_after_s)
    return ledger, campaign_id


def phones_of(ledger: Ledger, tenant_id: int, campaign_id: int) -> dict[str, str]:
    log = delivery_log(ledger, tenant_id, campaign_id)
    return dict(zip(log["phone_e164"], log["body"], strict=True))


def campaign_count(ledger: Ledger) -> int:
    with ledger.read() as con:
        return con.execute("SELECT count(*) FROM campaigns").fetchone()[0]


def run_cli(*args: str):
    return CliRunner().invoke(main, list(args))


def test_resend_selects_exactly_the_failed_and_undelivered_minus_the_suppressed_since(home, simulator):
    ledger, origin = settled_campaign(home, ORIGIN)
    SuppressionList(ledger, 1).add(FILTERED, reason="asked us by phone")

    again = resend(ledger, 1, origin)

    sent_to = phones_of(ledger, 1, again.campaign_id)
    assert set(sent_to) == {UNREACHABLE_HANDSET, BLOCKED_SENDER}
    assert again.excluded == {"suppressed": 1, "undeliverable_number": 2}
    assert again.origin_campaign_id == origin and again.state == "queued" and again.recipient_count == 2
    before = phones_of(ledger, 1, origin)
    assert all(sent_to[phone] == before[phone] for phone in sent_to)  # the same message again


def test_only_undelivered_leaves_out_the_failed(home, simulator):
    ledger, origin = settled_campaign(home, ORIGIN)

    again = resend(ledger, 1, origin, only=("undelivered",))

    assert set(phones_of(ledger, 1, again.campaign_id)) == {UNREACHABLE_HANDSET, FILTERED}
    assert again.excluded == {"undeliverable_number": 1}


def test_only_unknown_takes_the_messages_without_a_final_status(home, simulator):
    ledger, origin = settled_campaign(home, DELIVERED[:1] + [UNREACHABLE_HANDSET], poll_after_s=MAX_AGE_S + 60)

    again = resend(ledger, 1, origin, only=("unknown",))

    assert set(phones_of(ledger, 1, again.campaign_id)) == set(DELIVERED[:1] + [UNREACHABLE_HANDSET])


def test_a_resend_is_sent_by_the_engine_and_its_funnel_counts_it(home, simulator):
    ledger, origin = settled_campaign(home, [*DELIVERED, UNREACHABLE_HANDSET, BLOCKED_SENDER])
    again = resend(ledger, 1, origin)

    summary = run_campaign(home, 1, again.campaign_id)

    assert summary.sent == 2 and get_campaign(ledger, 1, again.campaign_id).state == "completed"
    poll_tenant(ledger, 1, client_for(home, ledger, 1), now=lambda: time.time() + 11)
    funnel = delivery_funnel(ledger, 1, origin)
    assert (funnel.accepted, funnel.delivered, funnel.undelivered, funnel.failed) == (4, 2, 1, 1)
    assert funnel.delivery_rate == 0.5
    assert [(c["code"], c["recipients"]) for c in funnel.error_codes] == [(30003, 1), (30034, 1)]


def test_a_new_text_is_rendered_from_the_stored_name_and_number(home, simulator):
    ledger, origin = settled_campaign(home, [*DELIVERED, UNREACHABLE_HANDSET])

    again = resend(ledger, 1, origin, template="{customer_first_name}, try {customer_phone} again",
                   name="Second try")

    assert again.name == "Second try"
    assert phones_of(ledger, 1, again.campaign_id) == {UNREACHABLE_HANDSET: f"Pat, try {UNREACHABLE_HANDSET} again"}


def test_a_new_text_with_appointment_shortcodes_is_refused_and_nothing_is_written(home, simulator):
    ledger, origin = settled_campaign(home, [UNREACHABLE_HANDSET])
    before = campaign_count(ledger)

    with pytest.raises(UserError, match=r"\{appointment_date\}"):
        resend(ledger, 1, origin, template="See you on {appointment_date}")
    assert campaign_count(ledger) == before


def test_resend_with_nobody_to_resend_to_is_refused_and_writes_nothing(home, simulator):
    ledger, origin = settled_campaign(home, DELIVERED)
    before = campaign_count(ledger)

    result = run_cli("campaign", "resend", str(origin), "--tenant", "1", "--queue-only", "--json")

    assert result.exit_code == 2
    assert f"Campaign {origin} has no failed/undelivered/unknown recipients to resend to" in result.output
    assert campaign_count(ledger) == before


def test_resend_of_another_tenants_campaign_is_no_such_campaign(home, simulator):
    ledger, origin = settled_campaign(home, [UNREACHABLE_HANDSET], tenant_id=1)
    with_twilio(home, tenant_id=2)
    before = campaign_count(ledger)

    result = run_cli("campaign", "resend", str(origin), "--tenant", "2")

    assert result.exit_code == 2 and f"Campaign {origin} not found for tenant 2" in result.output
    assert campaign_count(ledger) == before and list_campaigns(ledger, 2) == []


def test_an_unknown_only_value_is_one_error(home, simulator):
    ledger, origin = settled_campaign(home, [UNREACHABLE_HANDSET])

    result = run_cli("campaign", "resend", str(origin), "--tenant", "1", "--only", "undelivered,bounced")

    assert result.exit_code == 2 and "--only takes one or more of failed, undelivered, unknown" in result.output


def test_cli_resend_links_the_origin_in_status_and_list(home, simulator):
    ledger, origin = settled_campaign(home, [*DELIVERED, UNREACHABLE_HANDSET, BLOCKED_SENDER])

    made = run_cli("campaign", "resend", str(origin), "--tenant", "1", "--only", "undelivered", "--queue-only",
                   "--json")
    assert made.exit_code == 0, made.output
    again = json.loads(made.output)
    shown = json.loads(run_cli("campaign", "status", str(again["campaign_id"]), "--tenant", "1", "--json").output)
    listed = json.loads(run_cli("campaign", "list", "--tenant", "1", "--json").output)
    origin_status = json.loads(run_cli("campaign", "status", str(origin), "--tenant", "1", "--json").output)

    assert again["origin_campaign_id"] == origin and again["recipient_count"] == 1
    assert shown["campaign"]["origin_campaign_id"] == origin
    assert {c["campaign_id"]: c["origin_campaign_id"] for c in listed} == {again["campaign_id"]: origin, origin: None}
    funnel = origin_status["funnel"]
    assert (funnel["accepted"], funnel["delivered"], funnel["undelivered"], funnel["failed"]) == (4, 2, 1, 1)
    assert funnel["senders"][0]["accepted"] == 4 and funnel["senders"][0]["delivery_rate"] == 0.5


def test_a_resend_is_audited_as_a_resend_of_its_origin_by_whoever_asked(home, simulator):
    from orchestration.auth import audit
    from orchestration.auth.actor import Actor, acting_as

    ledger, origin = settled_campaign(home, [UNREACHABLE_HANDSET, *DELIVERED])
    with acting_as(Actor("admin@example.com", role="admin", tenant_id=1)):
        again = resend(ledger, 1, origin)
    rows = audit.entries(ledger, 1)
    resends = rows[rows["action"] == "campaign.resend"]
    assert list(zip(resends["actor"], resends["object"], strict=True)) == [
        ("admin@example.com", f"campaign {again.campaign_id}")]
    assert list(rows[rows["object"] == f"campaign {again.campaign_id}"]["action"]) == ["campaign.resend"]  # one row
