"""The gateway sends through the real `twilio` library, reports every outcome as a SendResult, and classifies it."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest

from orchestration.gateway import Action, Gateway, GatewayError, SendResult, classify, classify_error
from orchestration.simulator import DEMO_ACCOUNT_SID, DEMO_AUTH_TOKEN, DEMO_FROM
from tests.fixtures.servers import start_simulator

ALICE = "+14155550100"
BOB = "+14155550200"


@pytest.fixture
def gateway(simulator) -> Gateway:
    return Gateway(DEMO_ACCOUNT_SID, DEMO_AUTH_TOKEN, from_number=DEMO_FROM, base_url=simulator.base_url, timeout=2)


def test_send_returns_the_accepted_message(gateway, simulator):
    result = gateway.send(ALICE, "Hello")

    assert (result.ok, result.status, result.http_status, result.num_segments, result.kind) == (
        True, "queued", 201, 1, "accepted")
    assert [m["sid"] for m in simulator.accepted(ALICE)] == [result.sid]


def test_provider_refusal_is_a_result_not_an_exception(gateway):
    result = gateway.send("+14155550021", "Hello")

    assert (result.ok, result.error_code, result.http_status, result.kind) == (False, 21610, 400, "provider")
    assert result.error_message == "Attempt to send to unsubscribed recipient"


def test_429_reports_retry_after(gateway, simulator):
    simulator.configure(rate_429=1.0, retry_after_s=9)

    result = gateway.send(ALICE, "Hello")

    assert (result.error_code, result.http_status, result.retry_after) == (20429, 429, 9.0)


def test_per_sender_limit_reaches_the_gateway_as_429(gateway, simulator):
    simulator.configure(rate_limit_per_sender=2)

    results = [gateway.send(ALICE, "Hello") for _ in range(6)]

    assert sum(r.ok for r in results) <= 3
    assert {r.error_code for r in results if not r.ok} == {20429}


def test_server_error_is_reported_with_its_http_status(gateway, simulator):
    simulator.configure(error_rates={503: 1.0})

    result = gateway.send(ALICE, "Hello")

    assert (result.ok, result.http_status, result.error_code) == (False, 503, 20503)


def test_slow_answer_is_a_network_result_and_the_message_is_still_found(simulator):
    impatient = Gateway(DEMO_ACCOUNT_SID, DEMO_AUTH_TOKEN, DEMO_FROM, base_url=simulator.base_url, timeout=0.3)
    simulator.configure(slow_rate=1.0, slow_s=1.0)
    since = datetime.now(UTC)

    result = impatient.send(ALICE, "ambiguous")
    simulator.configure(slow_rate=0.0)

    assert (result.ok, result.kind, result.error_code) == (False, "network", None)
    assert impatient.find_sent(ALICE, since, "ambiguous") == [simulator.accepted(ALICE)[0]["sid"]]


def test_unreachable_server_is_a_network_result():
    stopped = start_simulator()
    url = stopped.base_url
    stopped.stop()
    gateway = Gateway(DEMO_ACCOUNT_SID, DEMO_AUTH_TOKEN, DEMO_FROM, base_url=url, timeout=1)

    result = gateway.send(ALICE, "Hello")

    assert (result.ok, result.kind, result.error_code) == (False, "network", None)


def test_find_sent_lists_matching_messages_newest_first(gateway):
    old = gateway.send(ALICE, "Hello").sid
    since = datetime.now(UTC)
    first = gateway.send(ALICE, "Hello").sid
    gateway.send(ALICE, "Other body")
    gateway.send(BOB, "Hello")
    second = gateway.send(ALICE, "Hello").sid

    found = gateway.find_sent(ALICE, since - timedelta(seconds=1), "Hello")

    assert found[:2] == [second, first]
    assert set(found) <= {old, first, second}


def test_find_sent_raises_gateway_error_when_twilio_cannot_answer(simulator):
    wrong = Gateway(DEMO_ACCOUNT_SID, "wrong-token", DEMO_FROM, base_url=simulator.base_url)

    with pytest.raises(GatewayError, match="HTTP 401"):
        wrong.find_sent(ALICE, datetime.now(UTC))


def test_check_account_accepts_good_credentials(gateway):
    ok, words = gateway.check_account()

    assert ok and "active" in words


def test_check_account_refuses_a_wrong_token_without_showing_it(simulator):
    ok, words = Gateway(DEMO_ACCOUNT_SID, "s3cret-wrong", DEMO_FROM, base_url=simulator.base_url).check_account()

    assert not ok and "20003" in words and "s3cret-wrong" not in words


def test_base_url_defaults_to_the_environment(simulator):
    gateway = Gateway(DEMO_ACCOUNT_SID, DEMO_AUTH_TOKEN, DEMO_FROM)

    assert gateway.send(ALICE, "via env").ok
    assert gateway.base_url == simulator.base_url


def test_twilio_edge_and_region_are_ignored(simulator, monkeypatch):
    monkeypatch.setenv("TWILIO_EDGE", "sydney")
    monkeypatch.setenv("TWILIO_REGION", "au1")
    gateway = Gateway(DEMO_ACCOUNT_SID, DEMO_AUTH_TOKEN, DEMO_FROM, base_url=simulator.base_url)

    assert gateway.send(ALICE, "edge").ok


def test_auth_token_never_appears_in_repr_or_results(simulator):
    token = "tok-" + "9" * 28
    gateway = Gateway(DEMO_ACCOUNT_SID, token, DEMO_FROM, base_url=simulator.base_url)

    refused = gateway.send(ALICE, "Hello")

    assert token not in repr(gateway) and token not in repr(refused)
    assert refused.error_code == 20003


def test_sixty_four_threads_share_one_gateway(gateway, simulator):
    numbers = [f"+1415555{i:04d}" for i in range(1100, 1740)]
    with ThreadPoolExecutor(max_workers=64) as pool:
        results = list(pool.map(lambda to: gateway.send(to, "Hi"), numbers))

    assert all(r.ok for r in results)
    assert len({r.sid for r in results}) == len(numbers) == len(simulator.accepted())


@pytest.mark.parametrize(
    ("code", "http_status", "action"),
    [
        (20429, 429, Action.THROTTLE), (30001, 400, Action.THROTTLE), (21611, 400, Action.THROTTLE),
            (None, 429, Action.THROTTLE), (21212, 400, Action.PAUSE), (20404, 404, Action.PAUSE),
            (21659, 400, Action.PAUSE), (21660, 400, Action.PAUSE), (30003, 400, Action.RETRY),
        (30008, 400, Action.RETRY), (20500, 500, Action.RETRY), (None, 502, Action.RETRY),
        (21211, 400, Action.FAIL), (21612, 400, Action.FAIL), (21614, 400, Action.FAIL),
        (30005, 400, Action.FAIL), (30006, 400, Action.FAIL), (21617, 400, Action.FAIL),
        (21610, 400, Action.SUPPRESS),
        (20003, 401, Action.PAUSE), (21408, 400, Action.PAUSE), (21606, 400, Action.PAUSE),
        (30034, 400, Action.PAUSE),
    ],
)
def test_classification_by_twilio_code(code, http_status, action):
    assert classify(SendResult(ok=False, error_code=code, http_status=http_status, kind="provider")) == action


def test_network_failure_is_retried():
    assert classify(SendResult(ok=False, kind="network")) == Action.RETRY


def test_stored_codes_classify_like_fresh_results():
    assert classify_error(21610) == Action.SUPPRESS


def test_classifying_a_success_is_a_bug():
    with pytest.raises(ValueError):
        classify(SendResult(ok=True, sid="SM" + "0" * 32))
