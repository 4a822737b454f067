"""Crash storm: a 2,000-recipient campaign whose send process is killed 50 times at random moments (seeded) and
restarted each time. No recipient lost, none messaged twice, and the ledger agrees with the provider."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import time
from collections import Counter

import pytest

from orchestration.sender import CampaignSettings, send_manual
from orchestration.sender.faults import FAULT_ENV, FAULT_EXIT_CODE
from tests.reliability.harness import cli_argv, cli_env, ledger_query, simulator_process, write_figures
from tests.sending import with_twilio

SEED = 20_251
KILLS = 50
HTTP_TIMEOUT_S = 0.3  # the sender's lease after a crash is ~chunk time + 2 x this + 1 s: small keeps 50 kills short
RATE = 60  # messages/s: chunks of 30, so each life of the send process gets through a few chunks
DELIVERABLE = [f"+1202555{n:04d}" for n in range(1000, 2980)]  # 1,980 numbers no simulator suffix rule refuses
UNDELIVERABLE = {  # To-suffix -> the Twilio code the simulator answers (all "fail": a retry cannot help)
    f"+1{area}555{suffix}": code
    for area in (212, 312, 415, 617)
    for suffix, code in (("0011", 21211), ("0012", 21612), ("0014", 21614), ("0005", 30005), ("0006", 30006))
}
FAULT_POINTS = ("after_accept", "before_record")  # the window between the provider's yes and the ledger's record


def _life(campaign_id: int, env: dict, fault: str | None, delay: float, log) -> tuple[str, int]:
    """One life of `bkntc-sms campaign run`: ends by itself (fault hook, completion) or is SIGKILLed at `delay`."""
    life_env = {**env, FAULT_ENV: fault} if fault else env
    process = subprocess.Popen(cli_argv("campaign", "run", str(campaign_id), "--tenant", "1", "--json"),
                               env=life_env, stdout=log, stderr=log)  # fmt: skip
    try:
        process.wait(timeout=delay)
    except subprocess.TimeoutExpired:
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
        return "sigkill", process.returncode
    return ("fault_exit" if process.returncode == FAULT_EXIT_CODE else "exited"), process.returncode


@pytest.mark.slow
def test_fifty_kills_at_random_moments_lose_nothing_and_send_nothing_twice(home, tmp_path):
    rng = random.Random(SEED)
    ledger = with_twilio(home)
    phones = DELIVERABLE + list(UNDELIVERABLE)
    people = [(phone, f"Pat {i}") for i, phone in enumerate(phones)]
    settings = CampaignSettings(rate_limit_per_s=RATE, retry_base_seconds=0.05)
    campaign_id = send_manual(ledger, 1, people, "Hi {customer_first_name}, your slot is ready.",
                              settings=settings).campaign_id  # fmt: skip
    lives: list[dict] = []
    caught_in_window: set[str] = set()  # recipients a kill caught accepted by the provider but not yet recorded
    started = time.monotonic()
    with simulator_process(tmp_path, seed=SEED) as simulator, open(tmp_path / "runs.log", "ab") as log:
        env = cli_env(home, simulator.base_url, http_timeout=HTTP_TIMEOUT_S)
        for kill in range(KILLS):
            fault = f"{rng.choice(FAULT_POINTS)}:{rng.randint(1, 30)}" if kill % 5 == 4 else None
            delay = rng.uniform(3.0, 5.0) if fault else rng.uniform(0.3, 2.4)  # a hook life: SIGKILL is a backstop
            ended, code = _life(campaign_id, env, fault, delay, log)
            accepted_phones = {m["to"] for m in simulator.accepted()}
            in_flight = [row["phone_e164"] for row in ledger_query(
                home.ledger, "SELECT phone_e164 FROM recipients WHERE campaign_id = ? AND state = 'sending'",
                (campaign_id,))]  # fmt: skip
            unfinished = ledger_query(home.ledger, "SELECT count(*) FROM recipients WHERE campaign_id = ? "
                                      "AND state IN ('pending', 'sending')", (campaign_id,))[0][0]  # fmt: skip
            caught_in_window.update(p for p in in_flight if p in accepted_phones)
            lives.append({"fault": fault, "delay_s": round(delay, 3), "ended": ended, "exit_code": code,
                          "in_flight": len(in_flight),
                          "accepted_not_recorded": sum(p in accepted_phones for p in in_flight),
                          "unfinished_after": unfinished})  # fmt: skip
        final = subprocess.run(cli_argv("campaign", "run", str(campaign_id), "--tenant", "1", "--json"),
                               env=env, capture_output=True, text=True, timeout=300)  # fmt: skip
        accepted = simulator.accepted()
    elapsed = time.monotonic() - started

    assert final.returncode == 0, final.stderr
    summary = json.loads(final.stdout.splitlines()[0])
    rows = ledger_query(home.ledger, "SELECT phone_e164, state, sid, last_error_code FROM recipients "
                        "WHERE campaign_id = ?", (campaign_id,))  # fmt: skip
    outcomes = Counter(row["outcome"] for row in ledger_query(
        home.ledger, "SELECT outcome FROM attempts WHERE campaign_id = ?", (campaign_id,)))  # fmt: skip
    per_phone = Counter(m["to"] for m in accepted)
    sent_sids = sorted(row["sid"] for row in rows if row["state"] == "sent")
    write_figures("crash_storm", {
        "seed": SEED, "recipients": len(phones), "deliverable": len(DELIVERABLE), "undeliverable": len(UNDELIVERABLE),
        "rate_limit_per_s": RATE, "http_timeout_s": HTTP_TIMEOUT_S,
        "kills": len(lives), "sigkills": sum(life["ended"] == "sigkill" for life in lives),
        "fault_hook_exits": sum(life["ended"] == "fault_exit" for life in lives),
        "lives_that_ended_by_themselves": sum(life["ended"] == "exited" for life in lives),
        "kills_with_work_left": sum(life["unfinished_after"] > 0 for life in lives),
        "kills_with_messages_accepted_but_not_recorded": sum(life["accepted_not_recorded"] > 0 for life in lives),
        "recipients_caught_accepted_but_not_recorded": len(caught_in_window),
        "recovered_by_lookup_not_resent": outcomes["recovered_sent"],
        "released_unsent_after_lookup": outcomes["recovered_unsent"],
        "attempt_outcomes": dict(outcomes),
        "final_run": summary,
        "accepted_by_simulator": len(accepted),
        "deliverable_accepted_exactly_once": sum(per_phone[p] == 1 for p in DELIVERABLE),
        "duplicates": sum(n - 1 for n in per_phone.values() if n > 1),
        "lost": sum(per_phone[p] == 0 for p in DELIVERABLE),
        "ledger_sent_rows": len(sent_sids),
        "ledger_sids_equal_simulator_sids": sent_sids == sorted(m["sid"] for m in accepted),
        "elapsed_s": round(elapsed, 1),
        "lives": lives,
    })  # fmt: skip
    assert len(lives) == KILLS
    assert all(per_phone[p] == 1 for p in DELIVERABLE), "a deliverable recipient was lost or messaged twice"
    assert set(per_phone) == set(DELIVERABLE)
    assert sent_sids == sorted(m["sid"] for m in accepted)
    assert {row["phone_e164"]: row["last_error_code"] for row in rows if row["state"] == "failed"} == UNDELIVERABLE
    assert {row["state"] for row in rows} == {"sent", "failed"}
