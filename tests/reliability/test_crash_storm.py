"""Crash storm against Twilio as it really is: a 2,000-recipient campaign whose send process is killed 50 times
(`make reliability`; 800 recipients and 20 kills in `make test`, see `full_size`), each time only after that life
had messages accepted, while the simulator (in its own process, realistic mode) keeps most messages queued at the
sender (no `date_sent`), shows new ones in its list a second late, answers some creates with a 5xx after creating
the message and drops the connection after creating others. No recipient lost, none messaged twice (counted from
the simulator's own record of every message it created), and the ledger agrees."""

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
from orchestration.sender.engine import LOOKUP_SETTLE_ENV, RUNNER_LEASE_S
from orchestration.sender.faults import FAULT_ENV, FAULT_EXIT_CODE
from orchestration.simulator import DEMO_FROM
from tests.reliability.harness import (
    cli_argv,
    cli_env,
    full_size,
    ledger_query,
    run_to_exit,
    simulator_process,
    write_figures,
)
from tests.sending import with_twilio

SEED = 20_251
KILLS = 50 if full_size() else 20  # each life sends some 40 recipients: the campaign is sized to the kills
HTTP_TIMEOUT_S = 0.5  # small keeps each life short
RATE = 70  # the sender's rate in the ledger (segments/s): chunks of 35; fresh recipients run out before the
# last lives, which then work the "to verify" backlog (lookups, and kills in the middle of them)
SIMULATOR_THROUGHPUT = 5  # the simulator drains the demo From at 5/s: most of the campaign waits queued
LIST_LAG_S = 1.0
LOOKUP_SETTLE_S = 1.5  # > LIST_LAG_S: a lookup concludes "not sent" only once the list would show the message
ERRORS_AFTER_CREATE = {500: 0.02, 502: 0.01, 503: 0.01}  # the message exists, the answer says 5xx
DROP_AFTER_CREATE = 0.02  # the message exists, the connection closes without an answer
SIMULATOR_ARGS = (
    "--mode", "realistic", "--throughput", f"{DEMO_FROM}={SIMULATOR_THROUGHPUT}", "--list-lag", str(LIST_LAG_S),
    *(arg for code, rate in ERRORS_AFTER_CREATE.items() for arg in ("--error-after-create", f"{code}={rate}")),
    "--drop-after-create", str(DROP_AFTER_CREATE),
)  # fmt: skip
PROGRESS_WAIT_S = 30.0  # a life that has no message accepted by then is killed anyway (counted: no progress)
KILL_DELAY_S = (0.1, 1.0)  # after the life's first accepted message, a seeded random delay before SIGKILL
HOOK_BACKSTOP_S = 3.0  # a fault-hook life ends itself; SIGKILL only if the hook's point is not reached by then
DELIVERABLE = [f"+1202555{n:04d}" for n in range(1000, 1000 + 1980 * KILLS // 50)]  # numbers no suffix rule touches
LATER_UNDELIVERED = [f"+1{area}555{suffix}" for area in (212, 312, 415, 617) for suffix in ("0005", "0006")]
REFUSED = {  # To-suffix -> the Twilio code the simulator answers at create (a retry cannot help: failed)
    f"+1{area}555{suffix}": code
    for area in (212, 312, 415, 617)
    for suffix, code in (("0011", 21211), ("0012", 21612), ("0014", 21614))
}
ACCEPTED = DELIVERABLE + LATER_UNDELIVERED  # created at Twilio (30005/30006 fail later as statuses): exactly once
FAULT_POINTS = ("after_accept", "before_record")  # the window between the provider's yes and the ledger's record


def _fault(rng: random.Random) -> str:
    point = rng.choice(FAULT_POINTS)
    return f"{point}:{rng.randint(1, 30) if point == 'after_accept' else rng.randint(1, 3)}"


def _life(campaign_id: int, env: dict, fault: str | None, rng: random.Random, simulator, log) -> dict:
    """One life of `bkntc-sms campaign run`. It is SIGKILLed only once the simulator has accepted a message of
    this life (bounded wait), after a random delay; or it ends by itself (fault hook, completion)."""
    accepted_before = simulator.count("accepted")
    life_env = {**env, FAULT_ENV: fault} if fault else env
    process = subprocess.Popen(cli_argv("campaign", "run", str(campaign_id), "--tenant", "1", "--json"),
                               env=life_env, stdout=log, stderr=log)  # fmt: skip
    deadline = time.monotonic() + PROGRESS_WAIT_S
    progressed = False
    while process.poll() is None and time.monotonic() < deadline:
        if simulator.count("accepted") > accepted_before:
            progressed = True
            break
        time.sleep(0.05)
    delay = HOOK_BACKSTOP_S if fault else rng.uniform(*KILL_DELAY_S)
    ended = None
    if process.poll() is None:
        try:
            process.wait(timeout=delay if progressed else 0)
        except subprocess.TimeoutExpired:
            os.kill(process.pid, signal.SIGKILL)
            process.wait()
            ended = "sigkill"
    if ended is None:
        ended = "fault_exit" if process.returncode == FAULT_EXIT_CODE else "exited"
    return {"fault": fault, "delay_s": round(delay, 3), "ended": ended, "exit_code": process.returncode,
            "progress_seen_before_kill": progressed,
            "accepted": simulator.count("accepted") - accepted_before}  # fmt: skip


def _final_run(campaign_id: int, env: dict) -> tuple[subprocess.CompletedProcess, int]:
    """The last `campaign run`, to completion. A killed life's hold on the campaign lasts until its lease ends
    (RUNNER_LEASE_S): until then the run answers "being sent by another run" and sends nothing, so ask again."""
    deadline = time.monotonic() + 2 * RUNNER_LEASE_S + 30
    busy = 0
    while True:
        final = run_to_exit(cli_argv("campaign", "run", str(campaign_id), "--tenant", "1", "--json"), env=env)
        if "being sent by another run" not in final.stderr or time.monotonic() > deadline:
            return final, busy
        busy += 1
        time.sleep(1)


@pytest.mark.slow
@pytest.mark.timeout(1800)  # 51 lives, each starting Dagster: ~9 min on a loaded 2-core machine, over the 600-s default
# (the 21 lives of `make test`: 2-3 min)
def test_kills_after_progress_lose_nothing_and_send_nothing_twice(home, tmp_path):
    rng = random.Random(SEED)
    ledger = with_twilio(home, sender_rate=RATE)
    phones = ACCEPTED + list(REFUSED)
    people = [(phone, f"Pat {i}") for i, phone in enumerate(phones)]
    settings = CampaignSettings(rate_limit_per_s=0, retry_base_seconds=0.05)
    campaign_id = send_manual(ledger, 1, people, "Hi {customer_first_name}, your slot is ready.",
                              settings=settings).campaign_id  # fmt: skip
    lives: list[dict] = []
    caught_in_window: set[str] = set()  # recipients a kill caught accepted by the provider but not yet recorded
    started = time.monotonic()
    with simulator_process(tmp_path, *SIMULATOR_ARGS, seed=SEED) as simulator, \
            open(tmp_path / "runs.log", "ab") as log:  # fmt: skip
        env = cli_env(home, simulator.base_url, http_timeout=HTTP_TIMEOUT_S,
                      **{LOOKUP_SETTLE_ENV: str(LOOKUP_SETTLE_S)})  # fmt: skip
        for kill in range(KILLS):
            life = _life(campaign_id, env, _fault(rng) if kill % 5 == 4 else None, rng, simulator, log)
            accepted_phones = {m["to"] for m in simulator.accepted()}
            in_flight = [row["phone_e164"] for row in ledger_query(
                home.ledger, "SELECT phone_e164 FROM recipients WHERE campaign_id = ? AND state = 'sending'",
                (campaign_id,))]  # fmt: skip
            caught_in_window.update(p for p in in_flight if p in accepted_phones)
            life["in_flight"] = len(in_flight)
            life["accepted_not_recorded"] = sum(p in accepted_phones for p in in_flight)
            life["unfinished_after"] = ledger_query(
                home.ledger, "SELECT count(*) FROM recipients WHERE campaign_id = ? AND state IN ('pending', "
                "'sending')", (campaign_id,))[0][0]  # fmt: skip
            lives.append(life)
        lookups_during_lives = simulator.count("lists")
        final, busy_answers = _final_run(campaign_id, env)
        stats = simulator.stats()
        accepted = simulator.accepted()
        queued_at_end = sum(m["status"] in ("queued", "accepted") for m in simulator.messages())
    elapsed = time.monotonic() - started

    assert final.returncode == 0, final.stderr
    summary = json.loads(final.stdout.splitlines()[0])
    rows = ledger_query(home.ledger, "SELECT phone_e164, state, sid, last_error_code FROM recipients "
                        "WHERE campaign_id = ?", (campaign_id,))  # fmt: skip
    outcomes = Counter(row["outcome"] for row in ledger_query(
        home.ledger, "SELECT outcome FROM attempts WHERE campaign_id = ?", (campaign_id,)))  # fmt: skip
    per_phone = Counter(m["to"] for m in accepted)
    sent_sids = sorted(row["sid"] for row in rows if row["state"] == "sent")
    duplicates = sum(n - 1 for n in per_phone.values() if n > 1)
    lost = sum(per_phone[p] == 0 for p in ACCEPTED)
    lives_with_progress = sum(life["accepted"] > 0 for life in lives)
    write_figures("crash_storm", {
        "seed": SEED, "recipients": len(phones), "deliverable": len(ACCEPTED), "undeliverable": len(REFUSED),
        "later_undelivered_30005_30006": len(LATER_UNDELIVERED),
        "rate_limit_per_s": RATE, "http_timeout_s": HTTP_TIMEOUT_S,
        "simulator": {"mode": "realistic", "sender_throughput_per_s": SIMULATOR_THROUGHPUT,
                      "list_lag_s": LIST_LAG_S, "errors_after_create": {str(c): r for c, r in
                                                                        ERRORS_AFTER_CREATE.items()},
                      "drop_after_create": DROP_AFTER_CREATE},
        "lookup_settle_s": LOOKUP_SETTLE_S,
        "kills": len(lives), "sigkills": sum(life["ended"] == "sigkill" for life in lives),
        "fault_hook_exits": sum(life["ended"] == "fault_exit" for life in lives),
        "lives_that_ended_by_themselves": sum(life["ended"] == "exited" for life in lives),
        "lives_with_progress": lives_with_progress,
        "sigkills_without_progress": sum(life["ended"] == "sigkill" and not life["progress_seen_before_kill"]
                                         for life in lives),
        "kills_with_work_left": sum(life["unfinished_after"] > 0 for life in lives),
        "kills_with_messages_accepted_but_not_recorded": sum(life["accepted_not_recorded"] > 0 for life in lives),
        "recipients_caught_accepted_but_not_recorded": len(caught_in_window),
        "interrupted": outcomes["interrupted"],
        "recovered_sent": outcomes["recovered_sent"],
        "recovered_by_lookup_not_resent": outcomes["recovered_sent"],
        "released_unsent_after_lookup": outcomes["recovered_unsent"],
        "ambiguous_attempts": outcomes["ambiguous"],
        "lookups": stats.get("lists", 0),  # every lookup is one list request (by To and From) to the simulator
        "lookups_during_lives": lookups_during_lives,
        "lookups_of_the_final_run": summary.get("lookups"),
        "errors_after_create": stats.get("errors_after_create", 0),
        "dropped_after_create": stats.get("dropped_after_create", 0),
        "attempt_outcomes": dict(outcomes),
        "simulator_stats": stats,
        "final_run": summary,
        "final_run_busy_answers": busy_answers,
        "accepted_by_simulator": len(accepted),
        "still_queued_at_the_sender_at_the_end": queued_at_end,
        "deliverable_accepted_exactly_once": sum(per_phone[p] == 1 for p in ACCEPTED),
        "duplicates": duplicates,
        "lost": lost,
        "ledger_sent_rows": len(sent_sids),
        "ledger_sids_equal_simulator_sids": sent_sids == sorted(m["sid"] for m in accepted),
        "elapsed_s": round(elapsed, 1),
        "lives": lives,
    })  # fmt: skip
    assert len(lives) == KILLS
    assert lives_with_progress > KILLS // 2, "most lives must have had messages accepted before they ended"
    assert stats.get("errors_after_create", 0) > 0 and stats.get("dropped_after_create", 0) > 0, "no fault happened"
    assert outcomes["interrupted"] > 0, "no kill caught a claim in flight"
    assert outcomes["recovered_sent"] > 0, "no lookup found a message an ambiguous attempt or a crash left behind"
    assert duplicates == 0, f"{duplicates} messages created twice: {[p for p, n in per_phone.items() if n > 1]}"
    assert lost == 0, f"{lost} recipients never created: {[p for p in ACCEPTED if per_phone[p] == 0][:10]}"
    assert set(per_phone) == set(ACCEPTED), "the simulator created a message to a number it refuses"
    assert sent_sids == sorted(m["sid"] for m in accepted)
    assert {row["phone_e164"]: row["last_error_code"] for row in rows if row["state"] == "failed"} == REFUSED
    assert {row["state"] for row in rows} == {"sent", "failed"}
