"""Provider fault storm: the simulator answers 20% 5xx, 10% 429 with Retry-After, 5% slow beyond the client's
timeout and 3% non-retryable codes. Every retryable recipient ends sent (once), every refused one failed with its
code, none is left in `sending`."""

from __future__ import annotations

import json
import subprocess
import time
from collections import Counter

import pytest

from orchestration.sender import CampaignSettings, send_manual
from orchestration.sender.engine import JITTER
from tests.reliability.harness import cli_argv, cli_env, ledger_query, simulator_process, write_figures
from tests.sending import with_twilio

SEED = 4242
HTTP_TIMEOUT_S = 0.5
SLOW_S = 1.5  # a slow answer comes 1 s after the client gave up: the message exists, the sender never heard
RETRYABLE_RATE = 0.20 + 0.10 + 0.05  # 5xx + 429 + slow, per create
MAX_ATTEMPTS = 20  # P(one recipient gets 20 retryable answers in a row) <= 0.35**20 ~ 7.6e-10
NON_RETRYABLE = (21211, 21612, 21614)  # drawn at 1% each
FAULT_ARGS = (
    "--error-rate", "500=0.10", "--error-rate", "503=0.10",
    "--rate-429", "0.10", "--retry-after", "1",
    "--slow-rate", "0.05", "--slow-seconds", str(SLOW_S),
    *(arg for code in NON_RETRYABLE for arg in ("--error-rate", f"{code}=0.01")),
)  # fmt: skip
RETRYABLE = [f"+1202555{n:04d}" for n in range(1000, 1300)]
REFUSED_BY_NUMBER = {f"+1{area}5550011": 21211 for area in (212, 312, 415, 617, 718)}  # fail whatever the draw


@pytest.mark.slow
def test_fault_storm_ends_with_each_retryable_recipient_sent_once_and_each_refused_one_failed(home, tmp_path):
    ledger = with_twilio(home)
    phones = RETRYABLE + list(REFUSED_BY_NUMBER)
    settings = CampaignSettings(max_attempts=MAX_ATTEMPTS, retry_base_seconds=0.05, rate_limit_per_s=0)
    campaign_id = send_manual(ledger, 1, [(p, "Pat") for p in phones], "Hello {customer_first_name}",
                              settings=settings).campaign_id  # fmt: skip
    started = time.monotonic()
    with simulator_process(tmp_path, *FAULT_ARGS, seed=SEED) as simulator:
        run = subprocess.run(cli_argv("campaign", "run", str(campaign_id), "--tenant", "1", "--json"),
                             env=cli_env(home, simulator.base_url, http_timeout=HTTP_TIMEOUT_S),
                             capture_output=True, text=True, timeout=600)  # fmt: skip
        stats = simulator.stats()
        accepted = simulator.accepted()
    elapsed = time.monotonic() - started

    assert run.returncode == 0, run.stderr
    summary = json.loads(run.stdout.splitlines()[0])
    rows = {row["phone_e164"]: row for row in ledger_query(
        home.ledger, "SELECT phone_e164, state, sid, failures, attempts, last_error_code FROM recipients "
        "WHERE campaign_id = ?", (campaign_id,))}  # fmt: skip
    outcomes = Counter(row["outcome"] for row in ledger_query(
        home.ledger, "SELECT outcome FROM attempts WHERE campaign_id = ?", (campaign_id,)))  # fmt: skip
    failed = {p: row["last_error_code"] for p, row in rows.items() if row["state"] == "failed"}
    per_phone = Counter(m["to"] for m in accepted)
    refusals = {code: stats.get(f"error_{code}", 0) for code in NON_RETRYABLE}
    write_figures("provider_faults", {
        "seed": SEED, "recipients": len(phones), "refused_by_number": len(REFUSED_BY_NUMBER),
        "injected": {"5xx": 0.20, "429_retry_after_1s": 0.10, "slow_beyond_timeout": 0.05,
                     "non_retryable": {str(c): 0.01 for c in NON_RETRYABLE}},
        "http_timeout_s": HTTP_TIMEOUT_S, "slow_answer_after_s": SLOW_S, "max_attempts": MAX_ATTEMPTS,
        "retry_base_s": 0.05, "backoff_jitter": JITTER,
        "p_exhaust_one_recipient_upper_bound": RETRYABLE_RATE ** MAX_ATTEMPTS,
        "p_exhaust_any_recipient_upper_bound": len(phones) * RETRYABLE_RATE ** MAX_ATTEMPTS,
        "simulator_stats": stats,
        "final_states": dict(Counter(row["state"] for row in rows.values())),
        "failed_by_code": {str(c): n for c, n in Counter(failed.values()).items()},
        "max_failures_of_a_sent_recipient": max(r["failures"] for r in rows.values() if r["state"] == "sent"),
        "attempts_per_recipient_mean": round(sum(r["attempts"] for r in rows.values()) / len(rows), 3),
        "attempt_outcomes": dict(outcomes),
        "slow_answers_recovered_by_lookup": outcomes["recovered_sent"],
        "duplicates": sum(n - 1 for n in per_phone.values() if n > 1),
        "run": summary, "elapsed_s": round(elapsed, 1),
    })  # fmt: skip
    assert not [p for p, row in rows.items() if row["state"] in ("sending", "pending")]
    assert set(failed.values()) <= set(NON_RETRYABLE)
    assert set(REFUSED_BY_NUMBER) <= set(failed)
    assert len(failed) == sum(refusals.values())  # each non-retryable answer ended exactly one recipient
    assert all(rows[p]["state"] == "sent" for p in RETRYABLE if p not in failed)
    assert all(n == 1 for n in per_phone.values()), "a recipient got the message twice"
    assert sorted(m["sid"] for m in accepted) == sorted(r["sid"] for r in rows.values() if r["state"] == "sent")
