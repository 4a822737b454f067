"""Exactly once against Twilio as it really is: queued senders, 5xx after create, dropped connections, throttles.

Each test is one defect the sender had against a Twilio-like server (issue "Twilio as it really is"); each sets up
the provider behaviour it is about on the simulator and proves that it happened (counted from the simulator's
own record), then counts what the sender did about it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from orchestration.gateway import Gateway
from orchestration.sender import CampaignRun, CampaignSettings, delivery_log, get_campaign, pause, run_campaign
from orchestration.sender.faults import FAULT_ENV, FAULT_EXIT_CODE
from orchestration.simulator import DEMO_ACCOUNT_SID, DEMO_AUTH_TOKEN, DEMO_FROM
from tests.sending import manual, numbers, once_counted, with_twilio

pytestmark = pytest.mark.usefixtures("ledger_url")  # every test on SQLite and on PostgreSQL

SETTLE = "1.5"  # the sender's lookup waits this long; the realistic list shows a message 1 s after creation


@pytest.fixture
def realistic(simulator, monkeypatch):
    """The simulator in realistic mode: the demo sender drains 1 message/s, the list lags 1 s."""
    simulator.configure(mode="realistic", sender_throughput={DEMO_FROM: 1.0}, list_lag_s=1.0, delivery_delay_s=0.5)
    monkeypatch.setenv("BKNTC_SMS_LOOKUP_SETTLE_S", SETTLE)
    monkeypatch.setenv("BKNTC_SMS_HTTP_TIMEOUT", "2")
    return simulator


def creates_per_number(simulator) -> Counter:
    return Counter(message["to"] for message in simulator.accepted())


def wait_until_due(ledger, campaign_id: int) -> None:
    """Sleeps until the campaign's earliest pending recipient is due (the test's own look at the ledger)."""
    with ledger.read() as con:
        due = con.execute("SELECT min(due_at) FROM recipients WHERE campaign_id = ? AND state = 'pending'",
                          (campaign_id,)).fetchone()[0]  # fmt: skip
    if due is not None:
        time.sleep(max(0.0, due - time.time()) + 0.05)


def test_lookup_finds_a_message_still_queued_at_its_sender(realistic):
    gateway = Gateway(DEMO_ACCOUNT_SID, DEMO_AUTH_TOKEN, DEMO_FROM, base_url=realistic.base_url, timeout=5)
    since = datetime.now(UTC) - timedelta(seconds=5)
    sids = [gateway.send(f"+1202555{n:04d}", "Queued behind the others").sid for n in range(3000, 3004)]
    last = sids[-1]
    time.sleep(1.2)  # past the list lag, well before a 1 msg/s sender reaches the 4th message

    queued = realistic.message(last)
    found = gateway.find_sent("+12025553003", since=since, body="Queued behind the others")

    assert queued["status"] == "queued" and queued["date_sent"] is None  # the premise: not sent yet
    assert found == [last]


def test_lookup_survives_smart_encoding_and_link_shortening_but_not_another_text(realistic):
    gateway = Gateway(DEMO_ACCOUNT_SID, DEMO_AUTH_TOKEN, DEMO_FROM, base_url=realistic.base_url, timeout=5)
    since = datetime.now(UTC) - timedelta(seconds=5)
    sid = gateway.send("+12025553100", "Don't miss it - book at https://twil.io/abc").sid
    time.sleep(1.2)

    assert gateway.find_sent("+12025553100", since, "Don\u2019t miss it \u2014 book at https://example.com/x") == [sid]
    assert gateway.find_sent("+12025553100", since, "Another campaign's text") == []


def test_a_5xx_after_the_message_was_created_is_looked_up_not_resent(home, realistic):
    ledger = with_twilio(home)
    realistic.configure(error_after_create_rates={502: 1.0})
    campaign_id = manual(ledger, numbers(4), settings=CampaignSettings(rate_limit_per_s=0, retry_base_seconds=0.05))
    once_counted(realistic, "errors_after_create", 4, error_after_create_rates={})

    summary = run_campaign(home, 1, campaign_id)

    log = delivery_log(ledger, 1, campaign_id)
    assert realistic.stats().get("errors_after_create", 0) >= 4  # the premise: every first answer was a 502
    assert creates_per_number(realistic) == Counter(numbers(4))
    assert summary.recovered == 4 and set(log["state"]) == {"sent"}
    assert sorted(log["message_sid"]) == sorted(m["sid"] for m in realistic.accepted())


def test_the_need_to_look_up_survives_a_second_crash(home, realistic):
    ledger = with_twilio(home)
    phone = numbers(1)
    campaign_id = manual(ledger, phone, settings=CampaignSettings(rate_limit_per_s=0, retry_base_seconds=8))
    realistic.configure(drop_after_create_rate=1.0)
    first = run_campaign(home, 1, campaign_id, max_wait_s=0)  # the answer is lost; the message exists
    realistic.configure(drop_after_create_rate=0.0)
    wait_until_due(ledger, campaign_id)  # 8 s later: beyond the look-back slack of the claim that follows
    env = {**os.environ, FAULT_ENV: "after_claim:1"}
    # output to a file, not a pipe: Dagster's compute-log `tail -F` children can outlive a crashed run holding a
    # pipe open (tests/test_crash_safety.py: campaign_run)
    with tempfile.TemporaryFile() as output:
        crashed = subprocess.run([sys.executable, "-m", "orchestration.cli.entry", "campaign", "run", str(campaign_id),
                                  "--tenant", "1"], env=env, stdout=output, stderr=output, timeout=120)  # fmt: skip
    with ledger.read() as con:
        stranded = con.execute("SELECT state FROM recipients WHERE campaign_id = ?", (campaign_id,)).fetchone()[0]
    wait_until_due(ledger, campaign_id)

    summary = run_campaign(home, 1, campaign_id, max_wait_s=30)

    assert first.error_codes == Counter({"network": 1}) and crashed.returncode == FAULT_EXIT_CODE
    assert stranded == "sending"  # the premise: the second life died holding the claim
    assert creates_per_number(realistic) == Counter(phone)
    assert summary.recovered == 1 and summary.stranded == 1


def test_a_failed_lookup_leaves_the_recipient_to_verify_and_never_resends(home, realistic):
    ledger = with_twilio(home)
    phone = numbers(1)
    campaign_id = manual(ledger, phone, settings=CampaignSettings(rate_limit_per_s=0, retry_base_seconds=0.05))
    realistic.configure(drop_after_create_rate=1.0)
    run_campaign(home, 1, campaign_id, max_wait_s=0)
    realistic.configure(drop_after_create_rate=0.0, list_error_rate=1.0)
    wait_until_due(ledger, campaign_id)

    failing = run_campaign(home, 1, campaign_id, max_wait_s=0)
    realistic.configure(list_error_rate=0.0)
    wait_until_due(ledger, campaign_id)
    settled = run_campaign(home, 1, campaign_id, max_wait_s=5)

    assert failing.lookup_failures >= 1 and failing.sent == 0 and failing.stopped == "waiting"
    assert creates_per_number(realistic) == Counter(phone)
    assert settled.recovered == 1 and settled.stopped == "completed"


def test_a_throttle_storm_fails_nobody(home, simulator):
    ledger = with_twilio(home)
    simulator.configure(rate_429=0.3, retry_after_s=1, suffix_errors={})
    campaign_id = manual(ledger, numbers(20), settings=CampaignSettings(rate_limit_per_s=0, max_attempts=1,
                                                                        retry_base_seconds=0.05))  # fmt: skip

    summary = run_campaign(home, 1, campaign_id)

    assert simulator.stats().get("error_20429", 0) >= 3  # the premise: many 429s
    assert summary.failed == 0 and summary.sent == 20 and summary.throttled >= 3
    assert creates_per_number(simulator) == Counter(numbers(20))


def test_pause_interrupts_a_retry_after_wait(home, simulator):
    ledger = with_twilio(home)
    simulator.configure(rate_429=1.0, retry_after_s=120)
    campaign_id = manual(ledger, numbers(3), settings=CampaignSettings(rate_limit_per_s=2))  # a chunk of one each
    run = CampaignRun(ledger, 1, campaign_id, Gateway(DEMO_ACCOUNT_SID, DEMO_AUTH_TOKEN, DEMO_FROM,
                                                      base_url=simulator.base_url, timeout=5))  # fmt: skip
    runner = threading.Thread(target=run.run)
    runner.start()
    while not simulator.stats().get("error_20429"):
        time.sleep(0.02)

    pause(ledger, 1, campaign_id, reason="by hand")
    runner.join(timeout=20)  # far less than the 120 s Retry-After the run was waiting out

    assert not runner.is_alive() and run.summary.stopped == "paused"
    assert simulator.stats()["error_20429"] == simulator.stats()["creates"]  # nothing was sent meanwhile


def test_the_hold_is_renewed_while_a_chunk_waits_and_a_lost_hold_stops_claiming(home, simulator, monkeypatch):
    import orchestration.sender.engine as engine

    monkeypatch.setattr(engine, "RENEW_EVERY_S", 0.2)
    monkeypatch.setattr(engine, "RUNNER_LEASE_S", 2.0)
    ledger = with_twilio(home, sender_rate=2.0)  # one message per chunk, a chunk every half second
    campaign_id = manual(ledger, numbers(40), settings=CampaignSettings(rate_limit_per_s=0))
    run = CampaignRun(ledger, 1, campaign_id, Gateway(DEMO_ACCOUNT_SID, DEMO_AUTH_TOKEN, DEMO_FROM,
                                                      base_url=simulator.base_url, timeout=5))  # fmt: skip
    runner = threading.Thread(target=run.run)
    runner.start()
    leases = set()
    while len(leases) < 4:
        leases.add(get_campaign(ledger, 1, campaign_id).runner_lease_until)
        time.sleep(0.05)
    with ledger.write() as con:  # another run takes the campaign over
        con.execute("UPDATE campaigns SET runner_id = 'another-run', runner_lease_until = ? WHERE campaign_id = ?",
                    (time.time() + 60, campaign_id))  # fmt: skip
    taken_at = len(simulator.accepted())
    runner.join(timeout=30)

    assert not runner.is_alive() and run.summary.stopped == "lost"
    assert len(simulator.accepted()) - taken_at <= 2  # at most the chunk in flight: no new claim
    assert len(simulator.accepted()) < 40


def test_two_campaigns_on_one_number_share_its_limit(home, simulator):
    ledger = with_twilio(home, sender_rate=8.0)
    simulator.configure(rate_limit_per_sender=10.0, suffix_errors={})  # Twilio's judge: over 10/s -> 429
    first = manual(ledger, numbers(24), settings=CampaignSettings(rate_limit_per_s=0))
    second = manual(ledger, numbers(24, start=500), settings=CampaignSettings(rate_limit_per_s=0))
    runs = [threading.Thread(target=run_campaign, args=(home, 1, cid)) for cid in (first, second)]
    for thread in runs:
        thread.start()
    for thread in runs:
        thread.join(timeout=120)

    assert len(simulator.accepted()) == 48
    assert simulator.stats().get("error_20429", 0) == 0  # together they never went over the sender's limit


def test_a_campaign_limit_below_the_sender_limit_still_applies(home, simulator):
    ledger = with_twilio(home, sender_rate=0)
    simulator.configure(rate_limit_per_sender=6.0, suffix_errors={})
    campaign_id = manual(ledger, numbers(12), settings=CampaignSettings(rate_limit_per_s=4))

    summary = run_campaign(home, 1, campaign_id)

    assert summary.sent == 12 and simulator.stats().get("error_20429", 0) == 0



class BrokenAfterSending(Gateway):
    """A gateway with a bug that strikes after Twilio accepted the message (the answer is lost in our code)."""

    def send(self, to: str, body: str, status_callback: str | None = None):
        super().send(to, body, status_callback)
        raise RuntimeError("a bug after the request went out")


def test_a_bug_after_the_request_leaves_the_recipient_to_verify_not_to_resend(home, simulator):
    ledger = with_twilio(home)
    campaign_id = manual(ledger, numbers(1), settings=CampaignSettings(rate_limit_per_s=0))
    broken = BrokenAfterSending(DEMO_ACCOUNT_SID, DEMO_AUTH_TOKEN, DEMO_FROM, base_url=simulator.base_url, timeout=5)

    with pytest.raises(RuntimeError, match="a bug after the request"):
        CampaignRun(ledger, 1, campaign_id, broken).run()
    with ledger.read() as con:
        left = con.execute("SELECT state, verify_since FROM recipients WHERE campaign_id = ?",
                           (campaign_id,)).fetchone()
    wait_until_due(ledger, campaign_id)
    summary = run_campaign(home, 1, campaign_id)

    assert len(simulator.accepted()) == 1  # the premise: the message went out before the bug
    assert left[0] == "pending" and left[1] is not None
    assert summary.recovered == 1 and len(simulator.accepted()) == 1
