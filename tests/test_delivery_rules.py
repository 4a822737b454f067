"""The rules on delivery errors against the Twilio simulator over real HTTP: 30034 and a high 30007 share pause the
campaign with the reason, 30005 makes the number undeliverable (its own exclusion in previews and snapshots), and
30003 is re-sent only when the tenant allows it, at most N times, keeping the previous SID the recipient's."""

from __future__ import annotations

import json
import time
from collections import Counter

import pytest
from click.testing import CliRunner

from orchestration.audiences import AudienceQuery
from orchestration.cli import main
from orchestration.delivery import apply_status
from orchestration.delivery.poll import client_for, poll_tenant, sync_tenant
from orchestration.delivery.rules import resend_counts, sender_alert, undeliverable_numbers, update_rules
from orchestration.gateway.errors import DELIVERY_CODES, DeliveryAction, error_meaning
from orchestration.ledger import Ledger
from orchestration.sender import CampaignSettings, create_campaign, delivery_log, get_campaign, launch, run_campaign
from orchestration.simulator import DEMO_FROM
from tests.sending import FAST, TEMPLATE, manual, numbers, once_counted, with_twilio
from tests.test_segments import appointment, build_warehouse, customer

pytestmark = pytest.mark.usefixtures("ledger_url")  # every test on SQLite and on PostgreSQL

UNREGISTERED = "+12025550034"  # the simulator fails it with 30034
UNREACHABLE = "+12025550003"  # undelivered 30003
UNKNOWN_HANDSET = "+12015550005"  # undelivered 30005


def filtered(count: int) -> list[str]:
    """`count` numbers the simulator ends undelivered with 30007 (carrier filtering)."""
    return [f"+1{201 + i}5550007" for i in range(count)]


def creates_for(simulator, phone: str) -> int:
    return Counter(m["to"] for m in simulator.accepted())[phone]


def poll_after_first_chunk(home, ledger):
    """An on_chunk hook: after the first chunk is recorded, `delivery sync` as the sensor runs it (poll every
    delivery, then the rules between reports) while the campaign is still sending."""
    done = []

    def hook(summary) -> None:
        if not done:
            done.append(sync_tenant(home, 1, now=lambda: time.time() + 11))

    return hook, done


def test_every_delivery_rule_code_has_a_meaning_in_the_one_table():
    assert all(error_meaning(code) for code in DELIVERY_CODES)
    assert DELIVERY_CODES[30034] is DeliveryAction.PAUSE and DELIVERY_CODES[30007] is DeliveryAction.PAUSE_ON_SHARE


def test_a_30034_on_any_recipient_pauses_the_campaign_with_the_code_and_its_meaning(home, simulator):
    ledger = with_twilio(home)
    campaign_id = manual(ledger, [UNREGISTERED, *numbers(59)])  # the first chunk holds 50
    hook, polled = poll_after_first_chunk(home, ledger)

    summary = run_campaign(home, 1, campaign_id, on_chunk=hook)

    campaign = get_campaign(ledger, 1, campaign_id)
    assert polled[0].final == 50
    assert summary.stopped == "paused" and campaign.state == "paused"
    assert campaign.pause_reason.startswith("Twilio delivery error 30034: " + error_meaning(30034))
    assert len(simulator.accepted()) == 50  # nothing more was sent after the report


def test_a_30034_after_the_campaign_completed_is_recorded_and_flags_the_tenants_sender(home, simulator):
    ledger = with_twilio(home)
    with_twilio(home, 2)
    campaign_id = manual(ledger, [UNREGISTERED])
    assert run_campaign(home, 1, campaign_id).stopped == "completed"

    sync_tenant(home, 1, now=lambda: time.time() + 11)  # the report comes after the campaign completed
    shown = CliRunner().invoke(main, ["--home", str(home.root), "campaign", "status", str(campaign_id),
                                      "--tenant", "1", "--json"])
    text = CliRunner().invoke(main, ["--home", str(home.root), "campaign", "status", str(campaign_id),
                                     "--tenant", "1"])

    campaign = get_campaign(ledger, 1, campaign_id)
    assert (campaign.state, campaign.pause_reason) == ("completed", None)  # nothing left to pause
    assert delivery_log(ledger, 1, campaign_id).iloc[0]["delivery_error_code"] == 30034
    alert = json.loads(shown.output)["sender_alert"]
    assert (alert["code"], alert["campaign_id"], alert["campaign_state"]) == (30034, campaign_id, "completed")
    assert alert["sender"] == DEMO_FROM and alert["meaning"] == error_meaning(30034)
    assert "WARNING: Twilio reported sender " + DEMO_FROM + " blocked: 30034" in text.output
    assert sender_alert(ledger, 2) is None  # another tenant's sender is not flagged

    later = manual(ledger, numbers(1))
    run_campaign(home, 1, later)
    sync_tenant(home, 1, now=lambda: time.time() + 22)
    assert sender_alert(ledger, 1) is None  # a message delivered since: the sender works again


def test_a_30007_share_pauses_only_past_the_threshold(home, simulator):
    ledger = with_twilio(home)
    update_rules(ledger, 1, filtered_pause_share=0.05, filtered_pause_min_final=20)
    below = manual(ledger, [*filtered(2), *numbers(58)])  # 2 of 50 final: 4%
    hook, _ = poll_after_first_chunk(home, ledger)
    assert run_campaign(home, 1, below, on_chunk=hook).stopped == "completed"

    above = manual(ledger, [*filtered(3), *numbers(57, start=200)])  # 3 of 50 final: 6%
    hook, _ = poll_after_first_chunk(home, ledger)
    summary = run_campaign(home, 1, above, on_chunk=hook)

    reason = get_campaign(ledger, 1, above).pause_reason
    assert summary.stopped == "paused"
    assert reason.startswith("Twilio delivery error 30007: " + error_meaning(30007))
    assert "3 of 50 final delivery outcomes" in reason
    assert get_campaign(ledger, 1, below).pause_reason is None


def test_a_pause_keeps_the_first_reason(home, simulator):
    ledger = with_twilio(home)
    campaign_id = manual(ledger, [UNREGISTERED, *numbers(59)])
    hook, _ = poll_after_first_chunk(home, ledger)
    run_campaign(home, 1, campaign_id, on_chunk=hook)
    first = get_campaign(ledger, 1, campaign_id).pause_reason
    sid = delivery_log(ledger, 1, campaign_id).set_index("phone_e164").loc[numbers(1)[0], "message_sid"]

    apply_status(ledger, 1, sid, "failed", 30034, "callback")  # a duplicate for another recipient: no change

    assert get_campaign(ledger, 1, campaign_id).pause_reason == first


def test_a_30005_makes_the_number_undeliverable_in_the_next_preview_and_snapshot(home, simulator):
    ledger = with_twilio(home)
    warehouse = build_warehouse(
        home.warehouse, [customer(100, phone=UNKNOWN_HANDSET), customer(101), customer(102)],
        [appointment(1, 100, 1_700_000_000), appointment(2, 101, 1_700_000_000)])
    campaign_id = manual(ledger, [UNKNOWN_HANDSET])
    run_campaign(home, 1, campaign_id)
    poll_tenant(ledger, 1, client_for(home, ledger, 1), now=lambda: time.time() + 11)

    marked = undeliverable_numbers(ledger, 1)
    listed = CliRunner().invoke(main, ["--home", str(home.root), "delivery", "undeliverable", "--tenant", "1"])
    result = CliRunner().invoke(main, ["--home", str(home.root), "preview", "--tenant", "1", "--segment",
                                       "all_customers", "--json"])
    campaign = create_campaign(ledger, 1, "Next", TEMPLATE, AudienceQuery(1, "all_customers"), FAST)
    launched = launch(ledger, warehouse, 1, campaign.campaign_id)

    sid = delivery_log(ledger, 1, campaign_id)["message_sid"].iloc[0]
    assert [(m["phone_e164"], m["error_code"], m["source_sid"]) for m in marked] == [(UNKNOWN_HANDSET, 30005, sid)]
    assert UNKNOWN_HANDSET in listed.output and error_meaning(30005) in listed.output
    preview = json.loads(result.output)
    assert preview["count"] == 2 and preview["excluded"]["undeliverable"] == 1
    assert launched.recipient_count == 2 and launched.excluded["undeliverable"] == 1
    assert UNKNOWN_HANDSET not in set(delivery_log(ledger, 1, campaign.campaign_id)["phone_e164"])


def test_a_number_marked_undeliverable_after_the_freeze_is_skipped_at_claim(home, simulator):
    ledger = with_twilio(home)
    first = manual(ledger, [UNKNOWN_HANDSET])
    run_campaign(home, 1, first)
    frozen = manual(ledger, [UNKNOWN_HANDSET, *numbers(1)])  # its recipients frozen before the 30005 is known
    sid = delivery_log(ledger, 1, first)["message_sid"].iloc[0]
    apply_status(ledger, 1, sid, "undelivered", 30005, "callback")

    summary = run_campaign(home, 1, frozen)

    log = delivery_log(ledger, 1, frozen).set_index("phone_e164")
    assert summary.sent == 1 and summary.skipped == 1
    assert log.loc[UNKNOWN_HANDSET, "state"] == "skipped" and log.loc[UNKNOWN_HANDSET, "skip_reason"] == "undeliverable"
    assert creates_for(simulator, UNKNOWN_HANDSET) == 1  # only the first campaign's message


def sync(home) -> dict:
    result = CliRunner().invoke(main, ["--home", str(home.root), "delivery", "sync", "--tenant", "1", "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def settle_deliveries(ledger: Ledger) -> None:
    with ledger.write() as con:  # every message due a check now (the fast simulator has settled them)
        con.execute("UPDATE recipients SET delivery_next_check_at = 0 WHERE delivery_next_check_at IS NOT NULL")


def test_a_30003_is_not_resent_while_retries_are_off(home, simulator):
    ledger = with_twilio(home)
    campaign_id = manual(ledger, [UNREACHABLE, *numbers(1)])
    run_campaign(home, 1, campaign_id)
    settle_deliveries(ledger)

    assert sync(home)["resends"] == 0
    assert creates_for(simulator, UNREACHABLE) == 1
    assert get_campaign(ledger, 1, campaign_id).state == "completed"


def test_a_30003_is_resent_at_most_n_times_keeping_each_previous_sid(home, simulator):
    ledger = with_twilio(home)
    result = CliRunner().invoke(main, ["--home", str(home.root), "tenant", "settings", "--tenant", "1",
                                       "--delivery-retries", "1", "--delivery-retry-delay", "0"])
    assert result.exit_code == 0, result.output
    campaign_id = manual(ledger, [UNREACHABLE, *numbers(1)])
    run_campaign(home, 1, campaign_id)
    first_sid = delivery_log(ledger, 1, campaign_id).set_index("phone_e164").loc[UNREACHABLE, "message_sid"]
    settle_deliveries(ledger)

    first_sync = sync(home)
    reopened = get_campaign(ledger, 1, campaign_id).state
    run_campaign(home, 1, campaign_id)
    settle_deliveries(ledger)
    second_sync = sync(home)

    log = delivery_log(ledger, 1, campaign_id).set_index("phone_e164")
    assert first_sync["resends"] == 1 and reopened == "queued"
    assert second_sync["resends"] == 0  # capped at 1
    assert creates_for(simulator, UNREACHABLE) == 2 and creates_for(simulator, numbers(1)[0]) == 1
    assert log.loc[UNREACHABLE, "message_sid"] != first_sid
    assert log.loc[UNREACHABLE, "delivery_status"] == "undelivered"
    assert resend_counts(ledger, 1, campaign_id) == {"delivery_resends": 1, "recipients": 1}
    with ledger.read() as con:
        kept = dict(con.execute("SELECT previous_sid, previous_error_code FROM delivery_resends").fetchone())
        attempts = [r[0] for r in con.execute("SELECT sid FROM attempts WHERE sid IS NOT NULL ORDER BY attempt_id")]
    assert kept == {"previous_sid": first_sid, "previous_error_code": 30003}
    assert first_sid in attempts and log.loc[UNREACHABLE, "message_sid"] in attempts
    # a late report for the old message is kept with the recipient and changes nothing
    late = apply_status(ledger, 1, first_sid, "delivered", None, "callback")
    assert late.outcome == "stale" and late.recipient_id is not None
    assert delivery_log(ledger, 1, campaign_id).set_index("phone_e164").loc[UNREACHABLE, "delivery_status"] == \
        "undelivered"


def test_an_ambiguous_resend_is_never_settled_by_the_previous_message(home, simulator):
    ledger = with_twilio(home)
    update_rules(ledger, 1, resend_max=1, resend_delay_s=0)
    settings = CampaignSettings(rate_limit_per_s=0, retry_base_seconds=0.05)
    campaign_id = manual(ledger, [UNREACHABLE], settings=settings)
    run_campaign(home, 1, campaign_id)
    first_sid = delivery_log(ledger, 1, campaign_id)["message_sid"].iloc[0]
    settle_deliveries(ledger)
    assert sync(home)["resends"] == 1

    simulator.configure(error_rates={500: 1.0})  # the re-send's answer is a 500: it may have landed, look it up
    once_counted(simulator, "error_20500", 1, error_rates={})
    summary = run_campaign(home, 1, campaign_id)

    log = delivery_log(ledger, 1, campaign_id)
    assert simulator.stats().get("error_20500", 0) >= 1  # the premise: the re-send was ambiguous
    assert summary.lookups >= 1 and summary.recovered == 0  # the old message (same number, same text) is not it
    assert creates_for(simulator, UNREACHABLE) == 2
    assert log["message_sid"].iloc[0] != first_sid and log["state"].iloc[0] == "sent"
