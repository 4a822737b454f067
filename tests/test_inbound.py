"""Inbound opt-outs against the Twilio simulator over real HTTP both ways: replies reach the signed incoming-message
webhook of the callback receiver, or are listed by the poller (`inbound sync`); STOP suppresses with source
`inbound`, START lifts only what a STOP added, and each message counts once."""

from __future__ import annotations

import json
import time

import dagster as dg
import pytest
import requests
from click.testing import CliRunner
from twilio.request_validator import RequestValidator

from orchestration.cli import main
from orchestration.defs.delivery.sensors import inbound_poll_sensor
from orchestration.defs.resources import resources_for
from orchestration.delivery.callbacks import CallbackServer
from orchestration.delivery.inbound import inbound_messages, keyword
from orchestration.ledger.suppression import SuppressionList
from orchestration.simulator import DEMO_ACCOUNT_SID, DEMO_AUTH_TOKEN, DEMO_FROM
from orchestration.tenants import TokenCipher, TwilioCredentials, save_twilio
from tests.sending import with_twilio

REPLIER = "+12025550177"
OTHER_FROM = "+15005550099"


def reply(simulator, body: str, from_: str = REPLIER, to: str = DEMO_FROM) -> dict:
    """A handset's reply, through the simulator's HTTP admin path (as `bkntc-sms simulator-reply` does)."""
    answer = requests.post(f"{simulator.base_url}/_sim/inbound", json={"from": from_, "to": to, "body": body},
                           timeout=5)
    assert answer.status_code == 200
    return answer.json()["message"]


def webhooks_done(simulator, count: int) -> None:
    """Waits until the simulator has posted `count` incoming-message webhooks (an event, not a moment)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if simulator.stats().get("incoming_webhooks_sent", 0) >= count and simulator.pending_webhooks() == 0:
            return
        time.sleep(0.02)
    raise AssertionError(f"the simulator posted {simulator.stats()} webhooks, not {count}")


def entry(ledger, phone: str = REPLIER, tenant_id: int = 1):
    found = [e for e in SuppressionList(ledger, tenant_id).entries() if e.phone_e164 == phone]
    return found[0] if found else None


def sync(home, tenant_id: int = 1) -> dict:
    result = CliRunner().invoke(main, ["--home", str(home.root), "inbound", "sync", "--tenant", str(tenant_id),
                                       "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


@pytest.mark.parametrize(("body", "expected"), [
    ("STOP", "STOP"), (" stop. ", "STOP"), ("Stop", "STOP"), ("stop!!", "STOP"), ("  Unsubscribe\n", "UNSUBSCRIBE"),
    ("stop all", "STOP ALL"), ("STOPALL", "STOPALL"), ("optout", "OPTOUT"), ("revoke", "REVOKE"), ("End", "END"),
    ("quit.", "QUIT"), ("cancel", "CANCEL"), ("start", "START"), ("Yes!", "YES"), ("unstop", "UNSTOP"),
    ("STOP please", None), ("please stop", None), ("stopp", None), ("", None), ("HELP", None), ("st op", None),
])
def test_a_keyword_is_the_whole_body_in_any_case_without_surrounding_spaces_and_punctuation(body, expected):
    assert keyword(body) == expected


def test_stop_then_start_through_the_signed_webhook_suppresses_then_lifts(home, simulator):
    ledger = with_twilio(home)
    with CallbackServer(home) as server:
        simulator.configure(incoming_urls={DEMO_FROM: f"{server.url}/twilio/inbound?tenant=1"})
        stop = reply(simulator, " Stop. ")
        webhooks_done(simulator, 1)
        suppressed = entry(ledger)
        start = reply(simulator, "START")
        webhooks_done(simulator, 2)

    assert suppressed is not None and suppressed.source == "inbound" and suppressed.source_sid == stop["sid"]
    assert "replied STOP" in suppressed.reason and stop["sid"] in suppressed.reason
    assert entry(ledger) is None
    history = SuppressionList(ledger, 1).changes(REPLIER)
    assert [(c.change, c.source, c.source_sid) for c in history] == [
        ("removed", "inbound", start["sid"]), ("added", "inbound", stop["sid"])]
    assert [(m["sid"], m["outcome"], m["source"]) for m in inbound_messages(ledger, 1)] == [
        (start["sid"], "opted_in", "callback"), (stop["sid"], "opted_out", "callback")]


def test_the_webhook_answers_empty_twiml_and_refuses_bad_or_missing_signatures(home, simulator):
    ledger = with_twilio(home)
    form = {"MessageSid": "SM" + "1" * 32, "SmsSid": "SM" + "1" * 32, "AccountSid": DEMO_ACCOUNT_SID,
            "From": REPLIER, "To": DEMO_FROM, "Body": "STOP", "NumMedia": "0", "SmsStatus": "received"}
    with CallbackServer(home) as server:
        url = f"{server.url}/twilio/inbound?tenant=1"

        def post(token: str | None, signed_url: str = url):
            signature = RequestValidator(token).compute_signature(signed_url, form) if token else None
            headers = {"X-Twilio-Signature": signature} if signature else {}
            return requests.post(url, data=form, headers=headers, timeout=5)

        refused = [post("0" * 32).status_code, post(None).status_code,
                   post(DEMO_AUTH_TOKEN, f"{server.url}/twilio/status?tenant=1").status_code]
        nothing = (SuppressionList(ledger, 1).count(), inbound_messages(ledger, 1))
        accepted = post(DEMO_AUTH_TOKEN)

    assert refused == [403, 403, 403]
    assert nothing == (0, [])
    assert accepted.status_code == 200 and accepted.headers["Content-Type"].startswith("text/xml")
    assert accepted.text.endswith("<Response/>")
    assert entry(ledger).source == "inbound"


def test_an_inbound_stop_for_tenant_a_signed_with_tenant_bs_token_is_refused(home, simulator):
    ledger = with_twilio(home, 1)
    other_sid, other_token = "AC" + "b" * 32, "b" * 32
    save_twilio(ledger, 2, TwilioCredentials(other_sid, other_token, from_number=OTHER_FROM),
                TokenCipher.for_home(home))
    form = {"MessageSid": "SM" + "2" * 32, "AccountSid": DEMO_ACCOUNT_SID, "From": REPLIER, "To": DEMO_FROM,
            "Body": "STOP"}
    with CallbackServer(home) as server:
        def post(tenant: int, data: dict):
            url = f"{server.url}/twilio/inbound?tenant={tenant}"
            signature = RequestValidator(other_token).compute_signature(url, data)
            return requests.post(url, data=data, headers={"X-Twilio-Signature": signature}, timeout=5).status_code

        as_a = post(1, form)  # A's URL, B's token
        as_b = post(2, form)  # B's URL and token, but A's account and sender
        as_b_own_account = post(2, {**form, "AccountSid": other_sid})  # B's account, A's sender

    assert [as_a, as_b, as_b_own_account] == [403, 403, 403]
    assert SuppressionList(ledger, 1).count() == 0 and SuppressionList(ledger, 2).count() == 0
    assert inbound_messages(ledger, 1) == [] and inbound_messages(ledger, 2) == []


def test_stop_then_start_by_polling_and_a_second_sync_changes_nothing(home, simulator):
    ledger = with_twilio(home)
    reply(simulator, "stop")
    reply(simulator, "thanks, see you")
    first = sync(home)
    again = sync(home)
    suppressed = entry(ledger)
    reply(simulator, "Start")
    lifted = sync(home)

    assert first["recorded"] == 2 and first["outcomes"] == {"not_a_keyword": 1, "opted_out": 1}
    assert again["recorded"] == 0 and again["duplicates"] == 2
    assert suppressed.source == "inbound"
    assert lifted["outcomes"] == {"opted_in": 1} and entry(ledger) is None
    changes = SuppressionList(ledger, 1).changes(REPLIER)
    assert [c.change for c in changes] == ["removed", "added"]  # one change each, however often it syncs
    assert {m["source"] for m in inbound_messages(ledger, 1)} == {"poll"}


def test_start_on_a_hand_suppressed_number_keeps_it_suppressed(home, simulator):
    ledger = with_twilio(home)
    SuppressionList(ledger, 1).add(REPLIER, reason="asked on the phone")
    reply(simulator, "STOP")
    reply(simulator, "START")
    summary = sync(home)

    assert summary["outcomes"] == {"already_suppressed": 1, "kept_suppressed": 1}
    kept = entry(ledger)
    assert kept.source == "manual" and kept.reason == "asked on the phone"
    assert [c.change for c in SuppressionList(ledger, 1).changes(REPLIER)] == ["added"]


def test_the_webhook_and_the_poller_count_one_message_once(home, simulator):
    ledger = with_twilio(home)
    with CallbackServer(home) as server:
        simulator.configure(incoming_urls={DEMO_FROM: f"{server.url}/twilio/inbound?tenant=1"})
        reply(simulator, "QUIT")
        webhooks_done(simulator, 1)
    summary = sync(home)

    assert summary["listed"] == 1 and summary["recorded"] == 0 and summary["duplicates"] == 1
    assert len(SuppressionList(ledger, 1).changes()) == 1


def test_the_inbound_sensor_polls_each_tenant_and_isolates_a_failing_one(home, simulator):
    ledger = with_twilio(home, 1)
    save_twilio(ledger, 2, TwilioCredentials("AC" + "c" * 32, "c" * 32, from_number=OTHER_FROM),
                TokenCipher.for_home(home))  # an account the simulator does not know: its list fails
    reply(simulator, "unsubscribe")
    with dg.instance_for_test() as instance:
        context = dg.build_sensor_context(instance=instance, resources=resources_for(home.root))
        result = inbound_poll_sensor(context)

    assert "tenant 1: 1 new (opted_out 1)" in str(result.skip_message)
    assert "tenant 2: failed" in str(result.skip_message)
    assert entry(ledger).source == "inbound"


def test_suppression_list_and_history_show_the_inbound_source(home, simulator):
    with_twilio(home)
    stop = reply(simulator, "STOP")
    sync(home)
    runner = CliRunner()
    listed = runner.invoke(main, ["--home", str(home.root), "suppression", "list", "--tenant", "1"])
    history = runner.invoke(main, ["--home", str(home.root), "suppression", "history", "--tenant", "1", "--json"])
    exported = runner.invoke(main, ["--home", str(home.root), "suppression", "export", "--tenant", "1"])

    assert f"{REPLIER}\tinbound\t" in listed.output
    assert json.loads(history.output)[0] | {"changed_at": None} == {
        "phone_e164": REPLIER, "change": "added", "source": "inbound",
        "reason": f"replied STOP (message {stop['sid']})", "source_sid": stop["sid"], "changed_at": None}
    assert ",inbound," in exported.output and stop["sid"] in exported.output
