"""Status callbacks, inbound messages and opt-outs of the simulator, received by a real local HTTP server."""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl

import pytest
import requests
from click.testing import CliRunner
from openapi_schema_validator import OAS30Validator
from twilio.base.exceptions import TwilioRestException
from twilio.request_validator import RequestValidator

from orchestration.cli import main
from orchestration.simulator import DEFAULT_SERVICE_NUMBER, DEMO_ACCOUNT_SID, DEMO_AUTH_TOKEN, DEMO_FROM
from orchestration.simulator.spec import contract
from orchestration.tenants.credentials import TwilioCredentials
from orchestration.tenants.twilio_client import twilio_client

ALICE = "+14155550100"
BOB = "+14155550200"
OTHER_FROM = "+15005550007"
MG = "MG" + "ab" * 16
DEADLINE_S = 20.0


class Receiver:
    """A local webhook receiver: records every POST; answers the statuses in `failures` first, then 200."""

    def __init__(self, failures: list[int] | None = None) -> None:
        self.requests: list[tuple[str, dict[str, str], dict[str, str]]] = []
        self.failures = list(failures or [])
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # noqa: ANN002 - quiet
                pass

            def do_POST(self):  # noqa: N802 - the stdlib's name
                length = int(self.headers.get("Content-Length") or 0)
                form = dict(parse_qsl(self.rfile.read(length).decode()))
                with receiver._lock:
                    receiver.requests.append((self.path, dict(self.headers), form))
                    status = receiver.failures.pop(0) if receiver.failures else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()

    def forms(self, path: str | None = None) -> list[dict[str, str]]:
        with self._lock:
            return [form for p, _, form in self.requests if path is None or p == path]

    def wait_for(self, count: int, simulator=None) -> list[dict[str, str]]:
        deadline = time.monotonic() + DEADLINE_S
        while time.monotonic() < deadline:
            if len(self.forms()) >= count and (simulator is None or simulator.pending_webhooks() == 0):
                return self.forms()
            time.sleep(0.02)
        raise AssertionError(f"{len(self.forms())} webhooks arrived, {count} expected")

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    running = Receiver()
    yield running
    running.close()


@pytest.fixture
def client(simulator):
    return twilio_client(TwilioCredentials(DEMO_ACCOUNT_SID, DEMO_AUTH_TOKEN, DEMO_FROM, None, simulator.base_url))


def test_status_callbacks_are_signed_like_twilios(simulator, client, receiver):
    url = f"{receiver.url}/status?tenant=1"
    created = client.messages.create(to=ALICE, from_=DEMO_FROM, body="tracked", status_callback=url)

    receiver.wait_for(2, simulator)

    validator = RequestValidator(DEMO_AUTH_TOKEN)
    for path, headers, form in receiver.requests:
        assert path == "/status?tenant=1"
        assert validator.validate(url, form, headers["X-Twilio-Signature"])
        assert not RequestValidator("another token").validate(url, form, headers["X-Twilio-Signature"])
    forms = receiver.forms()
    assert [f["MessageStatus"] for f in forms] == ["sent", "delivered"]  # no callback for the initial status
    assert all(f["MessageSid"] == f["SmsSid"] == created.sid and f["SmsStatus"] == f["MessageStatus"] for f in forms)
    assert forms[-1]["AccountSid"] == DEMO_ACCOUNT_SID and forms[-1]["From"] == DEMO_FROM and forms[-1]["To"] == ALICE
    assert forms[-1]["ApiVersion"] == "2010-04-01" and "ErrorCode" not in forms[-1]
    assert len(forms[-1]["RawDlrDoneDate"]) == 10
    assert simulator.stats()["callbacks_sent"] == 2


def test_messaging_service_callbacks_start_with_queued(simulator, receiver):
    client = twilio_client(TwilioCredentials(DEMO_ACCOUNT_SID, DEMO_AUTH_TOKEN, None, MG, simulator.base_url))
    client.messages.create(to=ALICE, messaging_service_sid=MG, body="via service", status_callback=receiver.url)

    forms = receiver.wait_for(3, simulator)

    assert [f["MessageStatus"] for f in forms] == ["queued", "sent", "delivered"]
    assert all(f["MessagingServiceSid"] == MG and f["From"] == DEFAULT_SERVICE_NUMBER for f in forms)


@pytest.mark.parametrize(("to", "statuses", "code"), [
    ("+14155550003", ["sent", "undelivered"], "30003"),
    ("+14155550007", ["sent", "undelivered"], "30007"),
    ("+14155550034", ["failed"], "30034"),
])
def test_delivery_errors_reach_the_callback_with_their_code(simulator, client, receiver, to, statuses, code):
    client.messages.create(to=to, from_=DEMO_FROM, body="doomed", status_callback=receiver.url)

    forms = receiver.wait_for(len(statuses), simulator)

    assert [f["MessageStatus"] for f in forms] == statuses
    assert forms[-1]["ErrorCode"] == code


def test_duplicate_callbacks_when_configured(simulator, client, receiver):
    simulator.configure(callback_duplicate_rate=1.0)

    client.messages.create(to=ALICE, from_=DEMO_FROM, body="twice", status_callback=receiver.url)

    forms = receiver.wait_for(4, simulator)
    assert sorted(f["MessageStatus"] for f in forms) == ["delivered", "delivered", "sent", "sent"]
    assert simulator.stats()["callbacks_duplicated"] == 2


def test_reordered_callbacks_deliver_the_final_status_first(simulator, client, receiver):
    simulator.configure(callback_reorder_rate=1.0)

    client.messages.create(to=ALICE, from_=DEMO_FROM, body="out of order", status_callback=receiver.url)

    forms = receiver.wait_for(2, simulator)
    assert [f["MessageStatus"] for f in forms] == ["delivered", "sent"]


def test_callbacks_are_retried_after_a_receivers_500(simulator, client):
    receiver = Receiver(failures=[500, 503])
    try:
        simulator.configure(callback_retry_backoff_s=0.05)
        client.messages.create(to=ALICE, from_=DEMO_FROM, body="retry me", status_callback=receiver.url)
        forms = receiver.wait_for(4, simulator)
    finally:
        receiver.close()

    stats = simulator.stats()
    assert len(forms) == 4 and {f["MessageStatus"] for f in forms} == {"sent", "delivered"}
    assert (stats["callbacks_failed"], stats["callbacks_sent"]) == (2, 2)  # each status taken once, in the end


def test_callbacks_give_up_after_the_bounded_retries(simulator, client):
    receiver = Receiver(failures=[500] * 100)
    try:
        simulator.configure(callback_retries=2, callback_retry_backoff_s=0.02)
        client.messages.create(to=ALICE, from_=DEMO_FROM, body="never taken", status_callback=receiver.url)
        forms = receiver.wait_for(6, simulator)
        time.sleep(0.2)
    finally:
        receiver.close()

    stats = simulator.stats()
    assert len(forms) == len(receiver.forms()) == 6  # 2 statuses x (1 attempt + 2 retries)
    assert (stats["callbacks_failed"], stats["callbacks_given_up"], stats.get("callbacks_sent", 0)) == (6, 2, 0)


def test_a_receiver_that_is_down_counts_as_failed(simulator, client):
    simulator.configure(callback_retries=0)

    client.messages.create(to=ALICE, from_=DEMO_FROM, body="nobody home", status_callback="http://127.0.0.1:9/x")

    deadline = time.monotonic() + DEADLINE_S
    while simulator.stats().get("callbacks_failed", 0) < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert simulator.stats()["callbacks_failed"] == 2


def inbound(simulator, body: str, from_: str = ALICE, to: str = DEMO_FROM) -> requests.Response:
    return requests.post(f"{simulator.base_url}/_sim/inbound", json={"from": from_, "to": to, "body": body},
                         timeout=10)


def test_stop_opts_out_then_start_opts_back_in(simulator, client):
    stopped = inbound(simulator, "  stop ")

    with pytest.raises(TwilioRestException) as refused:
        client.messages.create(to=ALICE, from_=DEMO_FROM, body="after stop")
    other_sender = client.messages.create(to=ALICE, from_=OTHER_FROM, body="another number")
    other_handset = client.messages.create(to=BOB, from_=DEMO_FROM, body="another handset")
    inbound(simulator, "START")
    again = client.messages.create(to=ALICE, from_=DEMO_FROM, body="after start")

    assert stopped.json()["opt_out_type"] == "STOP"
    assert (refused.value.status, refused.value.code) == (400, 21610)
    assert (other_sender.status, other_handset.status, again.status) == ("queued", "queued", "queued")
    assert (simulator.stats()["opt_outs"], simulator.stats()["opt_ins"]) == (1, 1)


@pytest.mark.parametrize("word", ["STOP", "stopall", "Stop All", "UNSUBSCRIBE", "cancel", "END", "quit", "OPTOUT",
                                  "revoke"])
def test_every_default_opt_out_keyword_opts_out(simulator, client, word):
    inbound(simulator, word)

    with pytest.raises(TwilioRestException) as refused:
        client.messages.create(to=ALICE, from_=DEMO_FROM, body="x")

    assert refused.value.code == 21610


@pytest.mark.parametrize("body", ["STOP please", "stopp", "help"])
def test_other_bodies_do_not_opt_out(simulator, client, body):
    inbound(simulator, body)

    assert client.messages.create(to=ALICE, from_=DEMO_FROM, body="x").status == "queued"


def test_stop_to_a_service_number_opts_out_of_the_messaging_service(simulator):
    simulator.configure(service_numbers={MG: ["+14155550901", "+14155550902"]})
    client = twilio_client(TwilioCredentials(DEMO_ACCOUNT_SID, DEMO_AUTH_TOKEN, None, MG, simulator.base_url))
    inbound(simulator, "STOP", to="+14155550902")

    with pytest.raises(TwilioRestException) as refused:
        client.messages.create(to=ALICE, messaging_service_sid=MG, body="x")

    assert refused.value.code == 21610


def test_inbound_messages_are_listed_like_twilios(simulator, client):
    client.messages.create(to=ALICE, from_=DEMO_FROM, body="hello")
    sid = inbound(simulator, "Thanks!").json()["message"]["sid"]

    listed = client.messages.list()
    raw = requests.get(f"{simulator.base_url}/2010-04-01/Accounts/{DEMO_ACCOUNT_SID}/Messages/{sid}.json",
                       auth=(DEMO_ACCOUNT_SID, DEMO_AUTH_TOKEN), timeout=10).json()

    assert [(m.direction, m.status, m.from_, m.to) for m in listed] == [
        ("inbound", "received", ALICE, DEMO_FROM), ("outbound-api", "delivered", DEMO_FROM, ALICE)]
    OAS30Validator({"components": {"schemas": contract().schemas},
                    "$ref": "#/components/schemas/api.v2010.account.message"}).validate(raw)
    assert [m["direction"] for m in simulator.accepted()] == ["outbound-api"]  # accepted(): outbound only
    assert simulator.stats()["inbound"] == 1


def test_inbound_is_posted_to_the_senders_incoming_webhook_signed(simulator, receiver):
    url = f"{receiver.url}/incoming"
    simulator.configure(incoming_urls={DEMO_FROM: url})

    inbound(simulator, "STOP")
    [form] = receiver.wait_for(1, simulator)

    _, headers, _ = receiver.requests[0]
    assert RequestValidator(DEMO_AUTH_TOKEN).validate(url, form, headers["X-Twilio-Signature"])
    assert (form["From"], form["To"], form["Body"], form["OptOutType"]) == (ALICE, DEMO_FROM, "STOP", "STOP")
    assert form["MessageSid"].startswith("SM") and form["AccountSid"] == DEMO_ACCOUNT_SID
    assert (form["NumMedia"], form["SmsStatus"]) == ("0", "received")


def test_inbound_needs_a_handset_and_a_sender(simulator):
    assert inbound(simulator, "STOP", from_="not a number").status_code == 400
    assert requests.post(f"{simulator.base_url}/_sim/inbound", data="[]", timeout=10).status_code == 400


def test_simulator_reply_cli_sends_a_stop(simulator, client):
    result = CliRunner().invoke(main, ["simulator-reply", "--url", simulator.base_url, "--from", ALICE,
                                       "--to", DEMO_FROM, "--body", "STOP"])

    assert result.exit_code == 0, result.output
    assert "(STOP)" in result.output
    with pytest.raises(TwilioRestException) as refused:
        client.messages.create(to=ALICE, from_=DEMO_FROM, body="x")
    assert refused.value.code == 21610


def test_simulator_reply_cli_reports_an_unreachable_simulator():
    result = CliRunner().invoke(main, ["simulator-reply", "--url", "http://127.0.0.1:9", "--from", ALICE,
                                       "--to", DEMO_FROM, "--body", "STOP"])

    assert result.exit_code != 0 and "Cannot reach" in result.output
