"""The send engine against the Twilio simulator over real HTTP: exactly once, retries, error classes, pause/cancel."""

from __future__ import annotations

import threading
import time
from collections import Counter

import pytest

from orchestration.audiences import AudienceQuery
from orchestration.gateway import Gateway
from orchestration.sender import (
    CampaignRun,
    CampaignSettings,
    attempts_of,
    cancel,
    create_campaign,
    delivery_log,
    launch,
    pause,
    resume,
    run_campaign,
    status,
)
from orchestration.simulator import DEMO_ACCOUNT_SID, DEMO_AUTH_TOKEN, DEMO_FROM
from orchestration.tenants import update_settings
from orchestration.warehouse import Warehouse
from tests.sending import FAST, TEMPLATE, manual, numbers, once_counted, small_warehouse, state_of, with_twilio

pytestmark = pytest.mark.usefixtures("ledger_url")  # every test on SQLite and on PostgreSQL


def accepted_by_number(simulator) -> Counter:
    return Counter(message["to"] for message in simulator.accepted())


def test_segment_campaign_sends_each_recipient_exactly_once(home, simulator):
    ledger = with_twilio(home)
    warehouse = small_warehouse(home, count=25)
    query = AudienceQuery(1, "all_customers")
    campaign = create_campaign(ledger, 1, "Spring", TEMPLATE, query, FAST)
    launch(ledger, warehouse, 1, campaign.campaign_id)

    summary = run_campaign(home, 1, campaign.campaign_id)

    log = delivery_log(ledger, 1, campaign.campaign_id)
    assert summary.stopped == "completed" and summary.sent == 25
    assert accepted_by_number(simulator) == Counter(log["phone_e164"])
    assert {m["sid"] for m in simulator.accepted()} == set(log["message_sid"])
    assert {m["body"] for m in simulator.accepted()} == {f"Hi First{cid}, see you soon!" for cid in range(100, 125)}


def test_server_errors_are_looked_up_retried_with_back_off_then_failed_after_max_attempts(home, simulator):
    ledger = with_twilio(home)
    simulator.configure(error_rates={500: 1.0})
    campaign_id = manual(ledger, numbers(1), settings=CampaignSettings(rate_limit_per_s=0, retry_base_seconds=0.2))

    summary = run_campaign(home, 1, campaign_id)

    attempts = attempts_of(ledger, 1, campaign_id, 1)
    gaps = attempts["started_at"].diff().dt.total_seconds().dropna().tolist()
    assert summary.failed == 1 and summary.retried == 2 and summary.lookups == 3
    # a 5xx may follow the creation of the message: each is looked up before the next try, the last one too
    assert attempts["outcome"].tolist() == ["ambiguous", "ambiguous", "ambiguous", "failed"]
    assert gaps[0] >= 0.2 * 0.9 and gaps[1] >= 0.4 * 0.9  # base, then twice the base (+-10% jitter)
    assert simulator.accepted() == []


def test_429_waits_for_retry_after_and_does_not_consume_an_attempt(home, simulator):
    ledger = with_twilio(home)
    simulator.configure(rate_429=1.0, retry_after_s=1)
    campaign_id = manual(ledger, numbers(1), settings=CampaignSettings(rate_limit_per_s=0, retry_base_seconds=0.05,
                                                                      max_attempts=1))  # fmt: skip
    once_counted(simulator, "error_20429", 1, rate_429=0.0)  # the first try meets the 429, the next does not

    summary = run_campaign(home, 1, campaign_id)

    attempts = attempts_of(ledger, 1, campaign_id, 1)
    assert attempts["outcome"].tolist()[0] == "throttled" and attempts["outcome"].tolist()[-1] == "sent"
    assert attempts["error_code"].tolist()[0] == 20429
    assert (attempts["started_at"].iloc[-1] - attempts["started_at"].iloc[0]).total_seconds() >= 1.0
    assert summary.sent == 1 and summary.failed == 0 and summary.throttled >= 1  # max_attempts=1 and still sent


def test_unanswered_request_that_landed_is_not_sent_again(home, simulator, monkeypatch):
    monkeypatch.setenv("BKNTC_SMS_HTTP_TIMEOUT", "0.3")
    ledger = with_twilio(home)
    simulator.configure(slow_rate=1.0, slow_s=0.8)
    campaign_id = manual(ledger, numbers(1))
    once_counted(simulator, "slow", 1, slow_rate=0.0)  # only the first answer is late

    summary = run_campaign(home, 1, campaign_id)

    assert summary.sent == 1 and summary.recovered == 1
    assert accepted_by_number(simulator) == Counter(numbers(1))


def test_timeouts_are_retried_and_give_up_after_max_attempts(home, simulator, monkeypatch):
    monkeypatch.setenv("BKNTC_SMS_HTTP_TIMEOUT", "0.2")
    ledger = with_twilio(home)
    simulator.configure(slow_rate=1.0, slow_s=0.5)
    campaign_id = manual(ledger, numbers(1), settings=CampaignSettings(rate_limit_per_s=0, retry_base_seconds=0.05,
                                                                      max_attempts=2))  # fmt: skip
    # the simulator still accepts slow messages after the client gave up: a different body keeps them apart
    gateway = Gateway(DEMO_ACCOUNT_SID, DEMO_AUTH_TOKEN, DEMO_FROM, base_url=simulator.base_url, timeout=0.2)
    gateway.find_sent = lambda to, since, body=None: []  # the provider never received them
    summary = CampaignRun(ledger, 1, campaign_id, gateway).run()

    attempts = attempts_of(ledger, 1, campaign_id, 1)
    assert summary.failed == 1 and attempts["outcome"].tolist() == ["ambiguous", "ambiguous", "failed"]


def test_non_retryable_error_fails_at_once(home, simulator):
    ledger = with_twilio(home)
    campaign_id = manual(ledger, ["+12025550011"])  # the simulator answers 21211 (invalid To)

    summary = run_campaign(home, 1, campaign_id)

    row = delivery_log(ledger, 1, campaign_id).iloc[0]
    assert summary.failed == 1 and row["attempts"] == 1 and row["last_error_code"] == 21211


def test_opted_out_number_is_suppressed_for_later_campaigns_of_the_tenant(home, simulator):
    ledger = with_twilio(home)
    first = manual(ledger, ["+12025550021"])  # the simulator answers 21610 (replied STOP)
    run_campaign(home, 1, first)
    simulator.configure(suffix_errors={})  # the number would now be accepted, if anyone sent to it
    second = manual(ledger, ["+12025550021"])

    run_campaign(home, 1, second)

    assert delivery_log(ledger, 1, first).iloc[0]["skip_reason"] == "opted_out"
    assert delivery_log(ledger, 1, second).iloc[0]["skip_reason"] == "suppressed"
    assert simulator.accepted() == []


def test_opt_out_does_not_suppress_the_number_for_another_tenant(home, simulator):
    ledger = with_twilio(home, 1)
    with_twilio(home, 2)
    run_campaign(home, 1, manual(ledger, ["+12025550021"], tenant_id=1))
    simulator.configure(suffix_errors={})

    run_campaign(home, 2, other := manual(ledger, ["+12025550021"], tenant_id=2))

    assert delivery_log(ledger, 2, other).iloc[0]["state"] == "sent"


def test_number_suppressed_after_launch_is_skipped_at_claim_time(home, simulator):
    ledger = with_twilio(home)
    campaign_id = manual(ledger, numbers(3))
    with ledger.write() as con:
        con.execute("INSERT INTO suppression (tenant_id, phone_e164, source) VALUES (1, ?, 'manual')",
                    (numbers(3)[1],))  # fmt: skip

    run_campaign(home, 1, campaign_id)

    assert accepted_by_number(simulator) == Counter([numbers(3)[0], numbers(3)[2]])
    assert status(ledger, 1, campaign_id).skipped_by_reason == {"suppressed": 1}


@pytest.mark.parametrize("number", ["+12025550408", "+12025550606"])
def test_account_or_config_error_pauses_the_campaign_with_the_reason(home, simulator, number):
    ledger = with_twilio(home)
    campaign_id = manual(ledger, [number, *numbers(5)], settings=CampaignSettings(rate_limit_per_s=0))

    summary = run_campaign(home, 1, campaign_id)

    current = status(ledger, 1, campaign_id)
    assert summary.stopped == "paused" and current.campaign.state == "paused"
    assert "Twilio error" in current.campaign.pause_reason
    assert current.counts["failed"] == 0 and current.counts["pending"] >= 1


@pytest.mark.parametrize(("code", "meaning"), [(21212, "'From' number is not a valid"), (20404, "Account SID"),
                                               (20003, "auth token is wrong")])
def test_sender_setup_errors_pause_the_campaign_and_fail_no_recipient(home, simulator, code, meaning):
    ledger = with_twilio(home)
    simulator.configure(error_rates={code: 1.0}, suffix_errors={})
    campaign_id = manual(ledger, numbers(20), settings=CampaignSettings(rate_limit_per_s=0, failure_streak_pause=50))

    summary = run_campaign(home, 1, campaign_id)

    current = status(ledger, 1, campaign_id)
    assert summary.stopped == "paused" and f"Twilio error {code}" in current.campaign.pause_reason
    assert meaning in current.campaign.pause_reason
    assert current.counts["failed"] == 0 and current.counts["pending"] == 20  # nobody lost an attempt to it
    assert summary.error_codes[code] >= 1


def test_a_streak_of_failures_auto_pauses_the_campaign(home, simulator):
    ledger = with_twilio(home)
    simulator.configure(error_rates={21612: 1.0})
    settings = CampaignSettings(rate_limit_per_s=5, failure_streak_pause=3)
    campaign_id = manual(ledger, numbers(10), settings=settings)

    summary = run_campaign(home, 1, campaign_id)

    campaign = status(ledger, 1, campaign_id).campaign
    assert summary.stopped == "paused" and "3 failed attempts in a row" in campaign.pause_reason
    assert summary.failed < 10


def test_pause_during_a_send_stops_it_and_resume_finishes_exactly_once(home, simulator):
    ledger = with_twilio(home)
    phones = numbers(40)
    campaign_id = manual(ledger, phones, settings=CampaignSettings(rate_limit_per_s=20))
    results = []
    worker = threading.Thread(target=lambda: results.append(run_campaign(home, 1, campaign_id)))
    worker.start()
    while len(simulator.accepted()) < 5:
        time.sleep(0.02)

    pause(ledger, 1, campaign_id)
    worker.join(timeout=10)
    sent_while_paused = len(simulator.accepted())
    resume(ledger, 1, campaign_id)
    final = run_campaign(home, 1, campaign_id)

    assert results[0].stopped == "paused" and sent_while_paused < len(phones)
    assert final.stopped == "completed"
    assert accepted_by_number(simulator) == Counter(phones)


def test_cancel_during_a_send_stops_it_and_skips_the_rest(home, simulator):
    ledger = with_twilio(home)
    campaign_id = manual(ledger, numbers(40), settings=CampaignSettings(rate_limit_per_s=20))
    results = []
    worker = threading.Thread(target=lambda: results.append(run_campaign(home, 1, campaign_id)))
    worker.start()
    while len(simulator.accepted()) < 5:
        time.sleep(0.02)

    cancel(ledger, 1, campaign_id)
    worker.join(timeout=10)

    current = status(ledger, 1, campaign_id)
    assert results[0].stopped == "cancelled"
    assert current.counts["sent"] == len(simulator.accepted()) < 40
    assert current.counts["sent"] + current.skipped_by_reason["cancelled"] == 40


def test_a_second_run_does_not_work_a_campaign_another_run_owns(home, simulator):
    ledger = with_twilio(home)
    campaign_id = manual(ledger, numbers(20), settings=CampaignSettings(rate_limit_per_s=20))
    worker = threading.Thread(target=lambda: run_campaign(home, 1, campaign_id))
    worker.start()
    while not simulator.accepted():
        time.sleep(0.02)

    second = run_campaign(home, 1, campaign_id)
    worker.join(timeout=10)

    assert second.stopped == "busy" and second.sent == 0
    assert accepted_by_number(simulator) == Counter(numbers(20))


def test_tenant_rate_limit_is_the_default_for_a_campaign(home, simulator):
    ledger = with_twilio(home)
    update_settings(ledger, 1, rate_limit_per_s=7)

    campaign = create_campaign(ledger, 1, "x", TEMPLATE, AudienceQuery(1, "all_customers"))

    assert campaign.rate_limit_per_s == 7 and state_of(ledger, 1, campaign.campaign_id) == "draft"


def test_warehouse_is_only_needed_for_segment_campaigns(home, simulator):
    ledger = with_twilio(home)
    assert not Warehouse(home.warehouse).exists

    summary = run_campaign(home, 1, manual(ledger, numbers(2)))

    assert summary.sent == 2
