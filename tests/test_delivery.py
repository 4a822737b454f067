"""Delivery tracking against the Twilio simulator over real HTTP: Twilio's status precedence, tenant scoping,
polling by SID (fast and realistic lifecycles, failed fetches, the maximum age), the signed status-callback
receiver, and a campaign whose statuses arrive by the simulator's signed callbacks."""

from __future__ import annotations

import json
import time

import pandas as pd
import requests
from click.testing import CliRunner
from twilio.request_validator import RequestValidator

from orchestration.cli import main
from orchestration.delivery import apply_status, callback_url, set_callback_url
from orchestration.delivery.callbacks import CallbackServer
from orchestration.delivery.poll import MAX_AGE_S, client_for, poll_tenant
from orchestration.ledger import Ledger
from orchestration.sender import delivery_log, export_csv, run_campaign, status
from orchestration.simulator import DEMO_ACCOUNT_SID, DEMO_AUTH_TOKEN, DEMO_FROM
from orchestration.tenants import TwilioCredentials
from orchestration.tenants.twilio_client import twilio_client
from tests.fixtures.servers import free_port
from tests.sending import manual, numbers, with_twilio

UNDELIVERABLE = "+12025550005"  # the simulator ends it undelivered with 30005


def sent_campaign(home, phones, tenant_id=1):
    ledger = with_twilio(home, tenant_id)
    campaign_id = manual(ledger, phones, tenant_id=tenant_id)
    summary = run_campaign(home, tenant_id, campaign_id)
    assert summary.sent == len(phones)
    return ledger, campaign_id


def recipient(ledger: Ledger, sid: str) -> dict:
    with ledger.read() as con:
        row = con.execute(
            "SELECT delivery_status, delivery_error_code, delivered_at, delivery_next_check_at FROM recipients "
            "WHERE sid = ?", (sid,)).fetchone()
    return dict(row)


def events(ledger: Ledger, sid: str | None = None) -> list[dict]:
    with ledger.read() as con:
        rows = con.execute("SELECT * FROM delivery_events WHERE ? IS NULL OR sid = ? ORDER BY event_id",
                           (sid, sid)).fetchall()
    return [dict(row) for row in rows]


def sids(ledger: Ledger, campaign_id: int) -> dict[str, str]:
    log = delivery_log(ledger, 1, campaign_id)
    return dict(zip(log["phone_e164"], log["message_sid"], strict=True))


# --- precedence ---------------------------------------------------------------------------------------------


def test_a_sent_recipient_starts_queued_and_due_for_a_check(home, simulator):
    ledger, campaign_id = sent_campaign(home, numbers(2))
    for sid in sids(ledger, campaign_id).values():
        row = recipient(ledger, sid)
        assert row["delivery_status"] == "queued" and row["delivery_next_check_at"] is not None


def test_duplicated_and_out_of_order_reports_give_the_right_final_state(home, simulator):
    ledger, campaign_id = sent_campaign(home, numbers(2))
    first, second = sids(ledger, campaign_id).values()

    outcomes = [apply_status(ledger, 1, first, s, None, "callback", {"MessageStatus": s}).outcome
                for s in ("sent", "delivered", "sent", "delivered", "queued", "undelivered")]
    assert outcomes == ["applied", "applied", "stale", "stale", "stale", "stale"]
    assert recipient(ledger, first)["delivery_status"] == "delivered"
    assert recipient(ledger, first)["delivered_at"] is not None
    assert recipient(ledger, first)["delivery_next_check_at"] is None

    # the final status first, then the earlier ones: it stays final, with its error code
    outcomes = [apply_status(ledger, 1, second, s, code, "poll").outcome
                for s, code in (("undelivered", 30005), ("sent", None), ("sending", None), ("undelivered", None),
                                ("delivered", None))]
    assert outcomes == ["applied", "stale", "stale", "stale", "stale"]
    assert recipient(ledger, second)["delivery_status"] == "undelivered"
    assert recipient(ledger, second)["delivery_error_code"] == 30005
    assert recipient(ledger, second)["delivered_at"] is None
    assert len(events(ledger, first)) == 6 and len(events(ledger, second)) == 5  # every report kept
    assert [e["applied"] for e in events(ledger, second)] == [1, 0, 0, 0, 0]


def test_another_tenants_sid_changes_nothing(home, simulator):
    ledger, campaign_id = sent_campaign(home, numbers(1))
    with_twilio(home, tenant_id=2)
    sid = next(iter(sids(ledger, campaign_id).values()))

    answer = apply_status(ledger, 2, sid, "undelivered", 30007, "callback")

    assert answer.outcome == "unmatched" and answer.recipient_id is None
    assert recipient(ledger, sid)["delivery_status"] == "queued"
    assert recipient(ledger, sid)["delivery_error_code"] is None
    assert apply_status(ledger, 1, sid, "delivered", None, "callback").outcome == "applied"
    assert recipient(ledger, sid)["delivery_status"] == "delivered"


def test_an_unknown_sid_is_kept_unmatched_and_changes_no_recipient(home, simulator):
    ledger, campaign_id = sent_campaign(home, numbers(1))
    before = {sid: recipient(ledger, sid) for sid in sids(ledger, campaign_id).values()}

    answer = apply_status(ledger, 1, "SM" + "0" * 32, "delivered", None, "callback")

    assert answer.outcome == "unmatched"
    assert {sid: recipient(ledger, sid) for sid in before} == before
    assert [e["recipient_id"] for e in events(ledger)] == [None]


# --- polling ------------------------------------------------------------------------------------------------


def later(seconds: float):
    return lambda: time.time() + seconds


def test_polling_moves_queued_to_delivered_and_undelivered_with_the_code(home, simulator):
    ledger, campaign_id = sent_campaign(home, [*numbers(2), UNDELIVERABLE])
    client = client_for(home, ledger, 1)

    nothing_due = poll_tenant(ledger, 1, client)  # the first check is 10 s after the send
    summary = poll_tenant(ledger, 1, client, now=later(11), batch=2)

    assert nothing_due.checked == 0
    assert summary.checked == 3 and summary.batches == 2 and summary.final == 3
    found = {phone: recipient(ledger, sid) for phone, sid in sids(ledger, campaign_id).items()}
    assert {p: r["delivery_status"] for p, r in found.items()} == {
        **dict.fromkeys(numbers(2), "delivered"), UNDELIVERABLE: "undelivered"}
    assert found[UNDELIVERABLE]["delivery_error_code"] == 30005
    assert all(r["delivery_next_check_at"] is None for r in found.values())
    assert {e["source"] for e in events(ledger)} == {"poll"}
    assert poll_tenant(ledger, 1, client, now=later(3600)).checked == 0  # final: never fetched again


def test_polling_follows_the_realistic_lifecycle(home, simulator):
    simulator.configure(mode="realistic", list_lag_s=0.0, delivery_delay_s=0.3)
    ledger, campaign_id = sent_campaign(home, [numbers(1)[0], UNDELIVERABLE])
    client = client_for(home, ledger, 1)
    seen: list[str] = []
    for step in range(1, 200):
        poll_tenant(ledger, 1, client, now=later(11 * step))
        seen = [e["status"] for e in events(ledger)]
        states = {recipient(ledger, sid)["delivery_status"] for sid in sids(ledger, campaign_id).values()}
        if states <= {"delivered", "undelivered"}:
            break
        time.sleep(0.1)
    found = {phone: recipient(ledger, sid) for phone, sid in sids(ledger, campaign_id).items()}
    assert found[numbers(1)[0]]["delivery_status"] == "delivered"
    assert (found[UNDELIVERABLE]["delivery_status"], found[UNDELIVERABLE]["delivery_error_code"]) == (
        "undelivered", 30005)
    assert set(seen) - {"delivered", "undelivered"}, "a poll saw the message before it was final"


def test_a_failed_fetch_leaves_the_recipient_due_later(home, simulator):
    ledger, campaign_id = sent_campaign(home, numbers(1))
    sid = next(iter(sids(ledger, campaign_id).values()))
    before = recipient(ledger, sid)["delivery_next_check_at"]
    nowhere = twilio_client(TwilioCredentials(DEMO_ACCOUNT_SID, DEMO_AUTH_TOKEN, from_number=DEMO_FROM,
                                              api_base_url=f"http://127.0.0.1:{free_port(range(34300, 34400))}"), 2)

    summary = poll_tenant(ledger, 1, nowhere, now=later(11))

    row = recipient(ledger, sid)
    assert summary.fetch_failures == 1 and summary.checked == 0
    assert row["delivery_status"] == "queued" and row["delivery_next_check_at"] > before
    assert events(ledger) == []
    assert poll_tenant(ledger, 1, client_for(home, ledger, 1), now=later(3600)).final == 1  # due, and found later


def test_no_final_status_within_the_maximum_age_is_unknown(home, simulator):
    ledger, campaign_id = sent_campaign(home, numbers(1))
    sid = next(iter(sids(ledger, campaign_id).values()))

    summary = poll_tenant(ledger, 1, client_for(home, ledger, 1), now=later(MAX_AGE_S + 60))

    assert summary.unknown == 1 and summary.checked == 0
    assert recipient(ledger, sid)["delivery_status"] == "unknown"
    assert recipient(ledger, sid)["delivery_next_check_at"] is None
    assert apply_status(ledger, 1, sid, "delivered", None, "callback").outcome == "applied"  # Twilio's word wins


def test_delivery_sync_cli_and_status_json(home, simulator):
    ledger, campaign_id = sent_campaign(home, [numbers(1)[0], UNDELIVERABLE])
    with ledger.write() as con:
        con.execute("UPDATE recipients SET delivery_next_check_at = 0")  # due now

    result = CliRunner().invoke(main, ["delivery", "sync", "--tenant", "1", "--campaign", str(campaign_id)])
    assert result.exit_code == 0, result.output
    assert "2 messages checked" in result.output

    shown = CliRunner().invoke(main, ["campaign", "status", str(campaign_id), "--tenant", "1", "--json"])
    delivery = json.loads(shown.output)["delivery"]
    assert delivery["delivered"] == 1 and delivery["undelivered"] == 1 and delivery["total"] == 2
    assert delivery["error_codes"]["30005"]["recipients"] == 1
    assert "Unknown destination handset" in delivery["error_codes"]["30005"]["meaning"]


# --- the status-callback receiver -------------------------------------------------------------------------


def post_signed(url: str, form: dict, token: str | None = DEMO_AUTH_TOKEN, signed_url: str | None = None):
    headers = {}
    if token is not None:
        headers["X-Twilio-Signature"] = RequestValidator(token).compute_signature(signed_url or url, form)
    return requests.post(url, data=form, headers=headers, timeout=5)


def callback_form(sid: str, status: str, code: int | None = None) -> dict:
    form = {"MessageSid": sid, "SmsSid": sid, "MessageStatus": status, "SmsStatus": status,
            "AccountSid": DEMO_ACCOUNT_SID, "From": DEMO_FROM, "To": "+12025550100", "ApiVersion": "2010-04-01"}
    if code is not None:
        form["ErrorCode"] = str(code)
    return form


def test_receiver_applies_signed_callbacks_and_refuses_bad_or_missing_signatures(home, simulator):
    ledger, campaign_id = sent_campaign(home, numbers(2))
    first, second = sids(ledger, campaign_id).values()
    with CallbackServer(home) as server:
        set_callback_url(ledger, 1, f"{server.url}/twilio/status")
        url = callback_url(ledger, 1)
        assert url == f"{server.url}/twilio/status?tenant=1"

        assert post_signed(url, callback_form(first, "delivered")).status_code == 204
        refused = [
            post_signed(url, callback_form(second, "undelivered", 30005), token="0" * 32).status_code,
            post_signed(url, callback_form(second, "undelivered", 30005), token=None).status_code,
            post_signed(url, callback_form(second, "undelivered", 30005),  # signed for another URL
                        signed_url=f"{server.url}/elsewhere?tenant=1").status_code,
            post_signed(url.replace("tenant=1", "tenant=2"), callback_form(second, "undelivered", 30005)).status_code,
        ]
        unknown = post_signed(url, callback_form("SM" + "f" * 32, "delivered"))

    assert refused == [403, 403, 403, 403]
    assert unknown.status_code == 204
    assert recipient(ledger, first)["delivery_status"] == "delivered"
    assert recipient(ledger, second)["delivery_status"] == "queued"  # nothing changed by the refused ones
    assert [e["sid"] for e in events(ledger)] == [first, "SM" + "f" * 32]
    kept = json.loads(events(ledger)[0]["raw_json"])
    assert kept["MessageStatus"] == "delivered" and DEMO_AUTH_TOKEN not in events(ledger)[0]["raw_json"]


def test_a_callback_for_tenant_a_signed_with_tenant_bs_token_is_refused(home, simulator):
    ledger, campaign_id = sent_campaign(home, numbers(1))
    sid = next(iter(sids(ledger, campaign_id).values()))
    other_token = "b" * 32
    with_b = Ledger(home.ledger)
    from orchestration.tenants import TokenCipher, save_twilio
    save_twilio(with_b, 2, TwilioCredentials("AC" + "b" * 32, other_token, from_number="+15005550006"),
                TokenCipher.for_home(home))
    with CallbackServer(home) as server:
        base = f"{server.url}/twilio/status"
        as_a = post_signed(f"{base}?tenant=1", callback_form(sid, "undelivered", 30007), token=other_token)
        as_b = post_signed(f"{base}?tenant=2", {**callback_form(sid, "undelivered", 30007),
                                                 "AccountSid": "AC" + "b" * 32}, token=other_token)
    assert as_a.status_code == 403
    assert as_b.status_code == 204  # valid for tenant 2, but the SID is not tenant 2's
    assert recipient(ledger, sid)["delivery_status"] == "queued"


# --- end to end: the simulator's signed callbacks ---------------------------------------------------------


def test_a_campaign_with_a_status_callback_ends_delivered_and_undelivered(home, simulator, tmp_path):
    ledger = with_twilio(home)
    phones = [*numbers(3), UNDELIVERABLE]
    with CallbackServer(home) as server:
        set_callback_url(ledger, 1, f"{server.url}/twilio/status")
        campaign_id = manual(ledger, phones)
        assert run_campaign(home, 1, campaign_id).sent == 4
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            states = {recipient(ledger, sid)["delivery_status"] for sid in sids(ledger, campaign_id).values()}
            # a report that outran the engine's record of its send is kept unmatched until the receiver's
            # sweep (every second) adopts it
            adopted = all(e["recipient_id"] is not None for e in events(ledger))
            if simulator.pending_webhooks() == 0 and states <= {"delivered", "undelivered"} and adopted:
                break
            time.sleep(0.05)

    found = {phone: recipient(ledger, sid) for phone, sid in sids(ledger, campaign_id).items()}
    assert {p: r["delivery_status"] for p, r in found.items()} == {
        **dict.fromkeys(numbers(3), "delivered"), UNDELIVERABLE: "undelivered"}
    assert found[UNDELIVERABLE]["delivery_error_code"] == 30005
    assert simulator.stats().get("callbacks_sent", 0) >= 8  # sent and a final status for each message
    assert {e["source"] for e in events(ledger)} == {"callback"}
    assert all(e["recipient_id"] is not None for e in events(ledger))

    out = tmp_path / "log.csv"
    export_csv(ledger, 1, campaign_id, out)
    exported = pd.read_csv(out, dtype={"phone_e164": str})
    assert {"delivery_status", "delivery_error_code", "delivered_at"} <= set(exported.columns)
    by_phone = exported.set_index(exported["phone_e164"].str.lstrip("'"))  # a leading + is escaped
    assert by_phone.loc[UNDELIVERABLE, "delivery_status"] == "undelivered"
    assert by_phone.loc[UNDELIVERABLE, "delivery_error_code"] == 30005
    assert by_phone.loc[numbers(3)[0], "delivered_at"].endswith("Z")
    assert status(ledger, 1, campaign_id).delivery["delivered"] == 3
