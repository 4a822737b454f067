"""The Twilio simulator speaks Twilio's Messages API as the official `twilio` library expects it."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path

import pytest
import requests
from openapi_schema_validator import OAS30Validator
from twilio.base.exceptions import TwilioRestException

from orchestration.simulator import DEMO_ACCOUNT_SID, DEMO_AUTH_TOKEN, DEMO_FROM, Simulator
from orchestration.simulator.spec import contract
from orchestration.tenants.credentials import TwilioCredentials
from orchestration.tenants.twilio_client import twilio_client
from tests.fixtures.servers import start_simulator

AUTH = (DEMO_ACCOUNT_SID, DEMO_AUTH_TOKEN)
ALICE = "+14155550100"
BOB = "+14155550200"
MG = "MG" + "ab" * 16


@pytest.fixture
def client(simulator):
    return twilio_client(TwilioCredentials(DEMO_ACCOUNT_SID, DEMO_AUTH_TOKEN, DEMO_FROM, None, simulator.base_url))


def messages_url(simulator: Simulator) -> str:
    return f"{simulator.base_url}/2010-04-01/Accounts/{DEMO_ACCOUNT_SID}/Messages.json"


def post(simulator: Simulator, form: dict, auth=AUTH) -> requests.Response:
    return requests.post(messages_url(simulator), data=form, auth=auth, timeout=10)


def validator(schema_name: str | None = None, schema: dict | None = None) -> OAS30Validator:
    spec = contract()
    root = {"components": {"schemas": spec.schemas}}
    root.update(schema or {"$ref": f"#/components/schemas/{schema_name}"})
    return OAS30Validator(root)


def test_library_creates_and_fetches_a_message(client, simulator):
    created = client.messages.create(to=ALICE, from_=DEMO_FROM, body="Hello Alice")

    fetched = client.messages(created.sid).fetch()

    assert re.fullmatch(r"SM[0-9a-f]{32}", created.sid)
    assert (created.status, created.date_sent, created.price) == ("queued", None, None)
    # fast mode (the default): the sender's queue drains at once, so the message is already delivered
    assert (fetched.to, fetched.from_, fetched.body, fetched.status) == (ALICE, DEMO_FROM, "Hello Alice", "delivered")
    assert fetched.date_sent is not None
    assert [m["sid"] for m in simulator.accepted()] == [created.sid]


def test_list_filtered_by_to_is_newest_first_across_pages_of_two(client):
    sent = [client.messages.create(to=ALICE, from_=DEMO_FROM, body=f"n{i}").sid for i in range(5)]
    client.messages.create(to=BOB, from_=DEMO_FROM, body="other")

    listed = client.messages.list(to=ALICE, page_size=2)

    assert [m.sid for m in listed] == sent[::-1]


def test_pages_follow_next_page_uri_until_the_last(client):
    for i in range(5):
        client.messages.create(to=ALICE, from_=DEMO_FROM, body=f"n{i}")
    page = client.messages.page(to=ALICE, page_size=2)
    sizes = []
    while page is not None:
        sizes.append(len(list(page)))
        page = page.next_page()

    assert sizes == [2, 2, 1]


def test_stream_with_limit_stops_after_limit(client):
    for i in range(5):
        client.messages.create(to=ALICE, from_=DEMO_FROM, body=f"n{i}")

    assert [m.body for m in client.messages.stream(to=ALICE, limit=3, page_size=2)] == ["n4", "n3", "n2"]


def test_date_sent_filters_select_by_send_time(client):
    client.messages.create(to=ALICE, from_=DEMO_FROM, body="now")
    now = datetime.now(UTC)

    assert len(client.messages.list(to=ALICE, date_sent_after=now - timedelta(minutes=1))) == 1
    assert len(client.messages.list(to=ALICE, date_sent_after=now + timedelta(minutes=1))) == 0
    assert len(client.messages.list(to=ALICE, date_sent_before=now - timedelta(days=1))) == 0
    assert len(client.messages.list(to=ALICE, date_sent=now.strftime("%Y-%m-%d"))) == 1


def test_missing_to_is_refused_with_21604(simulator):
    response = post(simulator, {"From": DEMO_FROM, "Body": "hi"})

    assert response.status_code == 400
    assert response.json() == {
        "code": 21604,
        "message": "A 'To' phone number is required.",
        "more_info": "https://www.twilio.com/docs/errors/21604",
        "status": 400,
    }


def test_library_raises_twilio_rest_exception_for_missing_to(client):
    with pytest.raises(TwilioRestException) as refused:
        client.messages.create(to="", from_=DEMO_FROM, body="hi")

    assert (refused.value.status, refused.value.code) == (400, 21604)


def test_to_not_in_e164_is_refused_with_21211(simulator):
    assert post(simulator, {"To": "4155550100", "From": DEMO_FROM, "Body": "hi"}).json()["code"] == 21211


def test_missing_sender_is_refused_with_21603(simulator):
    assert post(simulator, {"To": ALICE, "Body": "hi"}).json()["code"] == 21603


def test_missing_body_is_refused_with_21602(simulator):
    assert post(simulator, {"To": ALICE, "From": DEMO_FROM}).json()["code"] == 21602


def test_unknown_parameter_is_refused(simulator):
    response = post(simulator, {"To": ALICE, "From": DEMO_FROM, "Body": "hi", "Boddy": "typo"})

    assert (response.status_code, response.json()["code"]) == (400, 20001)


def test_parameter_of_the_wrong_type_is_refused(simulator):
    response = post(simulator, {"To": ALICE, "From": DEMO_FROM, "Body": "hi", "ValidityPeriod": "soon"})

    assert response.json()["code"] == 20001


def test_wrong_token_is_refused_with_20003(simulator):
    response = post(simulator, {"To": ALICE, "From": DEMO_FROM, "Body": "hi"}, auth=(DEMO_ACCOUNT_SID, "wrong"))

    assert response.status_code == 401
    assert response.json() == {
        "code": 20003,
        "message": "Authenticate",
        "more_info": "https://www.twilio.com/docs/errors/20003",
        "status": 401,
    }


@pytest.mark.parametrize(
    ("to", "code"),
    [("+14155550021", 21610), ("+14155550011", 21211), ("+14155550014", 21614), ("+14155550408", 21408)],
)
def test_destination_suffix_picks_the_error(simulator, to, code):
    response = post(simulator, {"To": to, "From": DEMO_FROM, "Body": "hi"})

    assert (response.status_code, response.json()["code"]) == (400, code)
    assert simulator.accepted() == []


def test_error_rate_refuses_about_that_fraction_of_creates(simulator):
    simulator.configure(error_rates={21612: 0.25}, suffix_errors={})
    with requests.Session() as session:
        form = {"To": ALICE, "From": DEMO_FROM, "Body": "x"}
        codes = [session.post(messages_url(simulator), data=form, auth=AUTH).status_code for _ in range(400)]

    refused = codes.count(400)
    assert 60 <= refused <= 140  # 100 expected; seeded, so the bound is never flaky
    assert len(simulator.accepted()) == 400 - refused


def test_http_500_rate_answers_twilio_20500(simulator):
    simulator.configure(error_rates={500: 1.0})

    response = post(simulator, {"To": ALICE, "From": DEMO_FROM, "Body": "hi"})

    assert (response.status_code, response.json()["code"]) == (500, 20500)


def test_injected_429_carries_retry_after(simulator):
    simulator.configure(rate_429=1.0, retry_after_s=4)

    response = post(simulator, {"To": ALICE, "From": DEMO_FROM, "Body": "hi"})

    assert (response.status_code, response.json()["code"], response.headers["Retry-After"]) == (429, 20429, "4")


def test_per_sender_throughput_limit_answers_429_beyond_it(simulator):
    simulator.configure(rate_limit_per_sender=5)
    with requests.Session() as session:
        codes = [
            session.post(messages_url(simulator), data={"To": ALICE, "From": DEMO_FROM, "Body": "x"}, auth=AUTH)
            for _ in range(20)
        ]
        other_sender = session.post(messages_url(simulator), data={"To": ALICE, "From": "+15005550007", "Body": "x"},
                                    auth=AUTH)

    statuses = [r.status_code for r in codes]
    assert 5 <= statuses.count(201) <= 7  # a burst of 5, plus what refills while the loop runs
    assert all(r.headers["Retry-After"] == "1" for r in codes if r.status_code == 429)
    assert other_sender.status_code == 201


def test_messaging_service_create_is_accepted_without_from(simulator):
    response = post(simulator, {"To": ALICE, "MessagingServiceSid": MG, "Body": "hi"})

    message = response.json()
    assert (response.status_code, message["status"], message["from"], message["messaging_service_sid"]) == (
        201, "accepted", None, MG)


def test_create_fetch_list_and_account_validate_against_the_spec(simulator):
    created = post(simulator, {"To": ALICE, "From": DEMO_FROM, "Body": "Ünïcødé ✓"}).json()
    fetched = requests.get(f"{simulator.base_url}{created['uri']}", auth=AUTH, timeout=10).json()
    listed = requests.get(messages_url(simulator), params={"To": ALICE, "PageSize": 1}, auth=AUTH, timeout=10).json()
    account = requests.get(f"{simulator.base_url}/2010-04-01/Accounts/{DEMO_ACCOUNT_SID}.json", auth=AUTH,
                           timeout=10).json()

    for message in (created, fetched):
        validator("api.v2010.account.message").validate(message)
        assert set(message) == set(contract().message_properties)
        parsedate_to_datetime(message["date_created"])
    validator(schema=contract().list_response).validate(listed)
    validator("api.v2010.account").validate(account)
    assert set(account) == set(contract().account_properties)


def test_accepted_messages_are_readable_and_resettable_over_http(simulator):
    post(simulator, {"To": ALICE, "From": DEMO_FROM, "Body": "one"})
    post(simulator, {"To": BOB, "From": DEMO_FROM, "Body": "two"})

    to_bob = requests.get(f"{simulator.base_url}/_sim/messages", params={"to": BOB}, timeout=10).json()["messages"]
    requests.post(f"{simulator.base_url}/_sim/reset", timeout=10)

    assert [m["body"] for m in to_bob] == ["two"]
    assert requests.get(f"{simulator.base_url}/_sim/messages", timeout=10).json() == {"messages": []}


def test_fault_settings_change_at_runtime_over_http(simulator):
    changed = requests.post(f"{simulator.base_url}/_sim/config", data=json.dumps({"error_rates": {"503": 1.0}}),
                            timeout=10)

    assert changed.json()["error_rates"] == {"20503": 1.0}
    assert post(simulator, {"To": ALICE, "From": DEMO_FROM, "Body": "hi"}).status_code == 503


def test_record_file_survives_a_restart(tmp_path):
    record = tmp_path / "accepted.jsonl"
    first = start_simulator(record=record)
    try:
        sid = post(first, {"To": ALICE, "From": DEMO_FROM, "Body": "kept"}).json()["sid"]
    finally:
        first.stop()
    second = start_simulator(record=record)
    try:
        fetched = requests.get(f"{messages_url(second)[:-5]}/{sid}.json", auth=AUTH, timeout=10)
    finally:
        second.stop()

    assert fetched.json()["body"] == "kept"


def test_cli_prints_its_base_url_and_the_demo_account():
    process = subprocess.Popen(
        [str(Path(sys.executable).with_name("bkntc-sms")), "simulator", "--port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )
    try:
        lines = [process.stdout.readline() for _ in range(3)]
        base = lines[0].split()[-1]
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                account = requests.get(f"{base}/2010-04-01/Accounts/{DEMO_ACCOUNT_SID}.json", auth=AUTH, timeout=2)
                break
            except requests.ConnectionError:
                time.sleep(0.1)
    finally:
        process.terminate()
        process.wait(timeout=10)

    # --port 0 binds a port the system picks (a fixed port can be taken by another test's server under xdist):
    # the printed URL names the bound port, and it is the one that answered
    assert re.fullmatch(r"http://127\.0\.0\.1:[1-9][0-9]*", base)
    assert DEMO_ACCOUNT_SID in lines[2] and DEMO_AUTH_TOKEN in lines[2]
    assert account.json()["status"] == "active"


def test_cli_flags_set_the_new_fault_settings():
    process = subprocess.Popen(
        [str(Path(sys.executable).with_name("bkntc-sms")), "simulator", "--port", "0", "--mode", "realistic",
         "--throughput", f"{DEMO_FROM}=2.5", "--throughput", "MG" + "ab" * 16 + "=20", "--list-lag", "0.25",
         "--delivery-delay", "1.5", "--error-after-create", "502=0.1", "--drop-after-create", "0.05",
         "--retry-after-form", "http-date", "--queue-limit-seconds", "600", "--list-error-rate", "0.02",
         "--callback-duplicate-rate", "0.1", "--incoming-url", f"{DEMO_FROM}=http://127.0.0.1:9/in"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )
    try:
        base = process.stdout.readline().split()[-1]
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                config = requests.get(f"{base}/_sim/config", timeout=2).json()
                break
            except requests.ConnectionError:
                time.sleep(0.1)
    finally:
        process.terminate()
        process.wait(timeout=10)

    assert config["mode"] == "realistic"
    assert config["sender_throughput"] == {DEMO_FROM: 2.5, "MG" + "ab" * 16: 20.0}
    assert (config["list_lag_s"], config["delivery_delay_s"], config["queue_limit_s"]) == (0.25, 1.5, 600.0)
    assert config["error_after_create_rates"] == {"502": 0.1}
    assert (config["drop_after_create_rate"], config["retry_after_form"], config["list_error_rate"]) == (
        0.05, "http-date", 0.02)
    assert config["callback_duplicate_rate"] == 0.1
    assert config["incoming_urls"] == {DEMO_FROM: "http://127.0.0.1:9/in"}


def test_cli_refuses_an_unknown_mode():
    from click.testing import CliRunner

    from orchestration.cli import main

    result = CliRunner().invoke(main, ["simulator", "--port", "0", "--mode", "warp"])

    assert result.exit_code != 0 and "warp" in result.output


def test_realistic_preset_has_twilios_lags_and_fast_has_none():
    from orchestration.simulator import Faults

    realistic, fast = Faults.realistic(queue_limit_s=60), Faults()

    assert (realistic.mode, realistic.effective_list_lag_s, realistic.effective_delivery_delay_s) == (
        "realistic", 1.0, 2.0)
    assert realistic.queue_limit_s == 60
    assert (fast.mode, fast.effective_list_lag_s, fast.effective_delivery_delay_s) == ("fast", 0.0, 0.0)
    assert Faults(mode="realistic").effective_list_lag_s == 1.0  # None means the mode's default
