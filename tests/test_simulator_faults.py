"""Fault injection of the simulator, seen through the official `twilio` library and plain HTTP."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import pytest
import requests
from twilio.base.exceptions import TwilioException, TwilioRestException

from orchestration.simulator import DEMO_ACCOUNT_SID, DEMO_AUTH_TOKEN, DEMO_FROM
from orchestration.tenants.credentials import TwilioCredentials
from orchestration.tenants.twilio_client import twilio_client

AUTH = (DEMO_ACCOUNT_SID, DEMO_AUTH_TOKEN)
ALICE = "+14155550100"


@pytest.fixture
def client(simulator):
    return twilio_client(TwilioCredentials(DEMO_ACCOUNT_SID, DEMO_AUTH_TOKEN, DEMO_FROM, None, simulator.base_url))


def messages_url(simulator) -> str:
    return f"{simulator.base_url}/2010-04-01/Accounts/{DEMO_ACCOUNT_SID}/Messages.json"


def post(simulator, form=None):
    return requests.post(messages_url(simulator), data=form or {"To": ALICE, "From": DEMO_FROM, "Body": "hi"},
                         auth=AUTH, timeout=10)


@pytest.mark.parametrize("code", [500, 503])
def test_error_after_create_leaves_exactly_one_created_message(simulator, client, code):
    simulator.configure(error_after_create_rates={code: 1.0})

    with pytest.raises(TwilioRestException) as failed:
        client.messages.create(to=ALICE, from_=DEMO_FROM, body="created anyway")

    assert failed.value.status == code
    assert [m["body"] for m in simulator.accepted()] == ["created anyway"]
    assert simulator.accepted()[0]["status"] == "delivered"  # it is sent all the same
    assert simulator.stats()["errors_after_create"] == 1


def test_a_502_after_create_has_a_load_balancers_html_body(simulator, client):
    simulator.configure(error_after_create_rates={502: 1.0})

    raw = post(simulator)
    with pytest.raises(TwilioRestException) as failed:
        client.messages.create(to=ALICE, from_=DEMO_FROM, body="behind the balancer")

    assert raw.status_code == 502 and raw.headers["Content-Type"].startswith("text/html")
    assert "502 Bad Gateway" in raw.text
    assert failed.value.status == 502
    assert len(simulator.accepted()) == 2


def test_a_502_before_create_creates_nothing(simulator):
    simulator.configure(error_rates={502: 1.0})

    raw = post(simulator)

    assert raw.status_code == 502 and "Bad Gateway" in raw.text
    assert simulator.accepted() == []
    assert simulator.stats()["error_20502"] == 1


def test_a_dropped_connection_after_create_is_a_connection_error_while_the_message_exists(simulator, client):
    simulator.configure(drop_after_create_rate=1.0)

    with pytest.raises(requests.ConnectionError):
        client.messages.create(to=ALICE, from_=DEMO_FROM, body="lost answer")

    assert [m["body"] for m in simulator.accepted()] == ["lost answer"]
    assert simulator.stats()["dropped_after_create"] == 1
    simulator.configure(drop_after_create_rate=0.0)
    [found] = client.messages.list(to=ALICE)  # a lookup finds it
    assert found.body == "lost answer"


def test_fault_kinds_come_in_their_configured_fractions(simulator):
    simulator.configure(error_rates={500: 0.2}, error_after_create_rates={503: 0.2}, drop_after_create_rate=0.2,
                        suffix_errors={})
    outcomes = []
    for _ in range(200):
        try:
            outcomes.append(post(simulator).status_code)
        except requests.ConnectionError:
            outcomes.append("dropped")
    stats = simulator.stats()

    assert 20 <= outcomes.count(500) <= 60 and 20 <= outcomes.count(503) <= 60
    assert 20 <= outcomes.count("dropped") <= 60
    assert len(simulator.accepted()) == 200 - outcomes.count(500)  # 503s and drops were created
    assert stats["errors_after_create"] == outcomes.count(503)
    assert stats["dropped_after_create"] == outcomes.count("dropped")


def test_slow_answers_are_created_and_answered_late(simulator, client):
    simulator.configure(slow_rate=1.0, slow_s=1.0)
    impatient = twilio_client(TwilioCredentials(DEMO_ACCOUNT_SID, DEMO_AUTH_TOKEN, DEMO_FROM, None,
                                                simulator.base_url), timeout=0.2)

    with pytest.raises(requests.Timeout):
        impatient.messages.create(to=ALICE, from_=DEMO_FROM, body="slow")

    assert [m["body"] for m in simulator.accepted()] == ["slow"]


def test_retry_after_in_seconds(simulator):
    simulator.configure(rate_429=1.0, retry_after_s=7, retry_after_form="seconds")

    answer = post(simulator)

    assert (answer.status_code, answer.json()["code"], answer.headers["Retry-After"]) == (429, 20429, "7")


def test_retry_after_as_an_http_date(simulator):
    simulator.configure(rate_429=1.0, retry_after_s=7, retry_after_form="http-date")

    answer = post(simulator)

    when = parsedate_to_datetime(answer.headers["Retry-After"])
    server_now = parsedate_to_datetime(answer.headers["Date"])
    assert answer.status_code == 429 and answer.headers["Retry-After"].endswith(" GMT")
    assert 6 <= (when - server_now).total_seconds() <= 9
    assert when > datetime.now(UTC)


def test_retry_after_left_out(simulator):
    simulator.configure(rate_429=1.0, retry_after_form="none")

    answer = post(simulator)

    assert answer.status_code == 429 and "Retry-After" not in answer.headers


def test_per_sender_rate_limit_uses_the_retry_after_form(simulator):
    simulator.configure(rate_limit_per_sender=1, retry_after_form="http-date")

    answers = [post(simulator) for _ in range(3)]

    refused = [a for a in answers if a.status_code == 429]
    assert refused and all(parsedate_to_datetime(a.headers["Retry-After"]) for a in refused)


def test_list_and_fetch_faults_make_a_lookup_fail(simulator, client):
    created = client.messages.create(to=ALICE, from_=DEMO_FROM, body="look me up")
    simulator.configure(list_error_rate=1.0)

    with pytest.raises(TwilioException) as listed:  # the library's paging raises the plain TwilioException
        client.messages.list(to=ALICE)
    with pytest.raises(TwilioRestException) as fetched:
        client.messages(created.sid).fetch()
    answers = [requests.get(messages_url(simulator), auth=AUTH, timeout=10) for _ in range(40)]

    assert listed.value.args[1].status_code in {500, 429} and fetched.value.status in {500, 429}
    assert {a.status_code for a in answers} == {500, 429}
    assert all("Retry-After" in a.headers for a in answers if a.status_code == 429)
    stats = simulator.stats()
    assert stats["list_errors"] == 42 and stats["lists"] == 41 and stats["fetches"] == 1


def test_list_faults_hit_about_their_fraction(simulator):
    simulator.configure(list_error_rate=0.25)

    codes = [requests.get(messages_url(simulator), auth=AUTH, timeout=10).status_code for _ in range(200)]

    assert 25 <= 200 - codes.count(200) <= 75


def test_new_settings_change_at_runtime_over_http(simulator):
    changes = {"mode": "realistic", "sender_throughput": {DEMO_FROM: 2}, "list_lag_s": 0.5, "delivery_delay_s": 1,
               "error_after_create_rates": {"502": 0.1}, "drop_after_create_rate": 0.1,
               "retry_after_form": "http-date", "queue_limit_s": 60, "list_error_rate": 0.05,
               "callback_duplicate_rate": 0.1, "callback_reorder_rate": 0.1,
               "incoming_urls": {DEMO_FROM: "http://127.0.0.1:9/in"}}

    answer = requests.post(f"{simulator.base_url}/_sim/config", data=json.dumps(changes), timeout=10)
    bad = requests.post(f"{simulator.base_url}/_sim/config", data=json.dumps({"mode": "warp"}), timeout=10)

    config = answer.json()
    assert config["mode"] == "realistic" and config["sender_throughput"] == {DEMO_FROM: 2.0}
    assert config["error_after_create_rates"] == {"502": 0.1}
    assert (config["retry_after_form"], config["queue_limit_s"], config["list_lag_s"]) == ("http-date", 60, 0.5)
    assert bad.status_code == 400


def test_fault_rates_may_not_add_up_past_one(simulator):
    with pytest.raises(ValueError):
        simulator.configure(error_after_create_rates={500: 0.6}, drop_after_create_rate=0.6)
    with pytest.raises(ValueError):
        simulator.configure(error_after_create_rates={504: 0.1})
