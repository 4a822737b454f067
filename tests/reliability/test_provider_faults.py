"""Provider fault storm: per create the simulator answers 15% 5xx before creating anything, 5% 5xx after creating
the message, drops 3% of connections after creating the message, answers 5% only after the client's timeout
(created), 5% 429 with Retry-After and 3% non-retryable codes; 5% of list requests (the lookups) fail too, and the
list shows a new message only after a lag. Every retryable recipient ends sent exactly once (counted from the
simulator's own record of every message it created), every refused one failed with its code, none is left sending
or pending, and 429s are throttles of the sender, never a recipient's failed attempt."""

from __future__ import annotations

import json
import time
from collections import Counter, defaultdict

import pytest

from orchestration.sender import CampaignSettings, send_manual
from orchestration.sender.engine import JITTER, LOOKUP_SETTLE_ENV
from tests.reliability.harness import cli_argv, cli_env, ledger_query, run_to_exit, simulator_process, write_figures
from tests.sending import with_twilio

SEED = 4242
HTTP_TIMEOUT_S = 0.5
SLOW_S = 1.5  # a slow answer comes 1 s after the client gave up: the message exists, the sender never heard
LIST_LAG_S = 0.5
LOOKUP_SETTLE_S = 1.0  # > LIST_LAG_S: "not found" is only believed once the list would show the message
ERRORS_BEFORE_CREATE = {500: 0.08, 503: 0.07}  # nothing created: the lookup finds nothing, the recipient is resent
ERRORS_AFTER_CREATE = {500: 0.03, 502: 0.02}  # created, answered 5xx: the lookup finds it
DROP_AFTER_CREATE = 0.03  # created, no answer at all: the lookup finds it
SLOW_RATE = 0.05  # created, answered after the client's timeout: the lookup finds it
RATE_429 = 0.05
LIST_ERROR_RATE = 0.05  # a lookup Twilio cannot answer: looked up again later, never resent blindly
NON_RETRYABLE = (21211, 21612, 21614)  # drawn at 1% each
# An attempt is consumed by a 5xx (before or after create), a drop or a slow answer, never by a 429; only the first
# leaves nothing behind, the others end the recipient sent through the lookup.
CONSUMING_RATE = sum(ERRORS_BEFORE_CREATE.values()) + sum(ERRORS_AFTER_CREATE.values()) + DROP_AFTER_CREATE + SLOW_RATE
NOTHING_CREATED_RATE = sum(ERRORS_BEFORE_CREATE.values())
MAX_ATTEMPTS = 12  # P(one recipient's 12 attempts all consumed) <= 0.28**12 ~ 2.3e-7 (0.15**12 ~ 1.3e-10 to fail)
FAULT_ARGS = (
    *(arg for code, rate in ERRORS_BEFORE_CREATE.items() for arg in ("--error-rate", f"{code}={rate}")),
    *(arg for code, rate in ERRORS_AFTER_CREATE.items() for arg in ("--error-after-create", f"{code}={rate}")),
    "--drop-after-create", str(DROP_AFTER_CREATE),
    "--slow-rate", str(SLOW_RATE), "--slow-seconds", str(SLOW_S),
    "--rate-429", str(RATE_429), "--retry-after", "1",
    "--list-error-rate", str(LIST_ERROR_RATE), "--list-lag", str(LIST_LAG_S),
    *(arg for code in NON_RETRYABLE for arg in ("--error-rate", f"{code}=0.01")),
)  # fmt: skip
RETRYABLE = [f"+1202555{n:04d}" for n in range(1000, 1300)]
REFUSED_BY_NUMBER = {f"+1{area}5550011": 21211 for area in (212, 312, 415, 617, 718)}  # fail whatever the draw
CONSUMED = ("ambiguous", "retry")  # attempt outcomes that count against a recipient's attempts (and a refusal)


@pytest.mark.slow
def test_fault_storm_ends_with_each_retryable_recipient_sent_once_and_each_refused_one_failed(home, tmp_path):
    ledger = with_twilio(home)
    phones = RETRYABLE + list(REFUSED_BY_NUMBER)
    settings = CampaignSettings(max_attempts=MAX_ATTEMPTS, retry_base_seconds=0.05, rate_limit_per_s=0)
    campaign_id = send_manual(ledger, 1, [(p, "Pat") for p in phones], "Hello {customer_first_name}",
                              settings=settings).campaign_id  # fmt: skip
    started = time.monotonic()
    with simulator_process(tmp_path, *FAULT_ARGS, seed=SEED) as simulator:
        env = cli_env(home, simulator.base_url, http_timeout=HTTP_TIMEOUT_S,
                      **{LOOKUP_SETTLE_ENV: str(LOOKUP_SETTLE_S)})  # fmt: skip
        run = run_to_exit(cli_argv("campaign", "run", str(campaign_id), "--tenant", "1", "--json"), env=env,
                          timeout=600)
        stats = simulator.stats()
        accepted = simulator.accepted()
    elapsed = time.monotonic() - started

    assert run.returncode == 0, run.stderr
    summary = json.loads(run.stdout.splitlines()[0])
    rows = {row["phone_e164"]: row for row in ledger_query(
        home.ledger, "SELECT recipient_id, phone_e164, state, sid, failures, attempts, last_error_code "
        "FROM recipients WHERE campaign_id = ?", (campaign_id,))}  # fmt: skip
    attempts = ledger_query(home.ledger, "SELECT recipient_id, outcome, error_code, http_status FROM attempts "
                            "WHERE campaign_id = ?", (campaign_id,))  # fmt: skip
    outcomes = Counter(row["outcome"] for row in attempts)
    consumed: Counter[int] = Counter()
    throttled_codes: Counter = Counter()
    by_recipient: dict[int, Counter] = defaultdict(Counter)
    for row in attempts:
        by_recipient[row["recipient_id"]][row["outcome"]] += 1
        if row["outcome"] in CONSUMED or (row["outcome"] == "failed" and row["http_status"] is not None):
            consumed[row["recipient_id"]] += 1
        if row["outcome"] == "throttled":
            throttled_codes[row["error_code"]] += 1
    failed = {p: row["last_error_code"] for p, row in rows.items() if row["state"] == "failed"}
    per_phone = Counter(m["to"] for m in accepted)
    refusals = {code: stats.get(f"error_{code}", 0) for code in NON_RETRYABLE}
    write_figures("provider_faults", {
        "seed": SEED, "recipients": len(phones), "refused_by_number": len(REFUSED_BY_NUMBER),
        "injected": {"5xx": NOTHING_CREATED_RATE + sum(ERRORS_AFTER_CREATE.values()),
                     "5xx_before_create": {str(c): r for c, r in ERRORS_BEFORE_CREATE.items()},
                     "5xx_after_create": {str(c): r for c, r in ERRORS_AFTER_CREATE.items()},
                     "drop_after_create": DROP_AFTER_CREATE, "429_retry_after_1s": RATE_429,
                     "slow_beyond_timeout": SLOW_RATE, "list_errors": LIST_ERROR_RATE,
                     "non_retryable": {str(c): 0.01 for c in NON_RETRYABLE}},
        "http_timeout_s": HTTP_TIMEOUT_S, "slow_answer_after_s": SLOW_S, "list_lag_s": LIST_LAG_S,
        "lookup_settle_s": LOOKUP_SETTLE_S, "max_attempts": MAX_ATTEMPTS,
        "retry_base_s": 0.05, "backoff_jitter": JITTER,
        "attempt_consuming_rate": CONSUMING_RATE, "nothing_created_rate": NOTHING_CREATED_RATE,
        "p_exhaust_one_recipient_upper_bound": CONSUMING_RATE ** MAX_ATTEMPTS,
        "p_exhaust_any_recipient_upper_bound": len(phones) * CONSUMING_RATE ** MAX_ATTEMPTS,
        "p_fail_one_recipient_upper_bound": NOTHING_CREATED_RATE ** MAX_ATTEMPTS,
        "simulator_stats": stats,
        "final_states": dict(Counter(row["state"] for row in rows.values())),
        "failed_by_code": {str(c): n for c, n in Counter(failed.values()).items()},
        "max_failures_of_a_sent_recipient": max(r["failures"] for r in rows.values() if r["state"] == "sent"),
        "attempts_per_recipient_mean": round(sum(r["attempts"] for r in rows.values()) / len(rows), 3),
        "attempt_outcomes": dict(outcomes),
        "throttled_attempts": outcomes["throttled"],
        "recipients_throttled_at_least_once": sum(c["throttled"] > 0 for c in by_recipient.values()),
        "recovered_sent": outcomes["recovered_sent"],
        "slow_answers_recovered_by_lookup": outcomes["recovered_sent"],
        "created_without_a_usable_answer": stats.get("errors_after_create", 0) + stats.get("dropped_after_create", 0)
        + stats.get("slow", 0),
        "lookups": summary.get("lookups"), "lookup_failures": summary.get("lookup_failures"),
        "errors_after_create": stats.get("errors_after_create", 0),
        "dropped_after_create": stats.get("dropped_after_create", 0),
        "accepted_by_simulator": len(accepted),
        "duplicates": sum(n - 1 for n in per_phone.values() if n > 1),
        "lost": sum(per_phone[p] == 0 for p in RETRYABLE if p not in failed),
        "run": summary, "elapsed_s": round(elapsed, 1),
    })  # fmt: skip
    # the premise: every kind of fault happened
    assert stats.get("error_20500", 0) and stats.get("error_20503", 0) and stats.get("error_20502", 0)
    assert stats.get("errors_after_create", 0) > 0 and stats.get("dropped_after_create", 0) > 0
    assert stats.get("slow", 0) > 0 and stats.get("error_20429", 0) > 0 and stats.get("list_errors", 0) > 0
    assert summary["lookup_failures"] > 0
    # each message created without a usable answer (5xx after create, dropped, slow) was found by a lookup, not resent
    created_unanswered = stats["errors_after_create"] + stats["dropped_after_create"] + stats["slow"]
    assert outcomes["recovered_sent"] == created_unanswered
    # every recipient finished: the retryable ones sent exactly once, the refused ones failed with their code
    assert not [p for p, row in rows.items() if row["state"] in ("sending", "pending")]
    assert set(failed.values()) <= set(NON_RETRYABLE)
    assert set(REFUSED_BY_NUMBER) <= set(failed)
    assert len(failed) == sum(refusals.values())  # each non-retryable answer ended exactly one recipient
    assert all(rows[p]["state"] == "sent" for p in RETRYABLE if p not in failed)
    assert all(n == 1 for n in per_phone.values()), "a recipient got the message twice"
    assert set(per_phone) == {p for p, row in rows.items() if row["state"] == "sent"}, "a sent recipient was lost"
    assert sorted(m["sid"] for m in accepted) == sorted(r["sid"] for r in rows.values() if r["state"] == "sent")
    # 429s are the sender's throttles: each one a `throttled` attempt, none counted against the recipient
    # (the simulator's error_20429 also counts the list requests it answered 429: list_errors are 500 or 429)
    assert 0 < outcomes["throttled"] == summary["error_codes"].get("20429", 0) == summary["throttled"]
    assert stats["error_20429"] - stats["list_errors"] <= outcomes["throttled"] <= stats["error_20429"]
    assert set(throttled_codes) == {20429}
    assert all(row["failures"] == consumed[row["recipient_id"]] for row in rows.values())
    assert max(r["failures"] for r in rows.values()) < MAX_ATTEMPTS
