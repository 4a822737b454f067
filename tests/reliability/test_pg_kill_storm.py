"""Kill storm with two send workers on one PostgreSQL ledger: two campaigns of one tenant on one From number (the
sender's pacing row, the tenant's rows and the ledger's tables shared), worked at the same time by two
`bkntc-sms campaign run` processes (Dagster's storage on the same server), each SIGKILLed only after its life had
messages accepted; round after round the workers swap campaigns, so each campaign is taken over by the other
worker's process after a kill. The simulator (its own process) runs as in the crash storm: realistic mode, messages
queued at the sender, a late list, 5xx after creating the message and connections dropped after creating it.
6 rounds (12 kills) in `make test`, 25 rounds (50 kills) with $BKNTC_RELIABILITY_FULL=1 (`make reliability`). No
recipient lost, none messaged twice (the simulator's own record of every message it created), and the ledger
agrees."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import threading
import time
from collections import Counter

import psycopg
import pytest
from psycopg.rows import dict_row

from orchestration.config import LEDGER_URL_ENV
from orchestration.defs.launch import home_instance
from orchestration.defs.sending.instance import DAGSTER_PG_URL_ENV
from orchestration.ledger.postgres import close_pools
from orchestration.sender import CampaignSettings, send_manual
from orchestration.sender.engine import LOOKUP_SETTLE_ENV
from orchestration.sender.faults import FAULT_ENV, FAULT_EXIT_CODE
from tests.fixtures.servers import fresh_database
from tests.reliability.harness import cli_argv, cli_env, full_size, run_to_exit, simulator_process, write_figures
from tests.reliability.test_crash_storm import (
    FAULT_POINTS,
    HOOK_BACKSTOP_S,
    HTTP_TIMEOUT_S,
    KILL_DELAY_S,
    LOOKUP_SETTLE_S,
    PROGRESS_WAIT_S,
    SIMULATOR_ARGS,
)
from tests.sending import with_twilio

SEED = 20_252
ROUNDS = 25 if full_size() else 6  # each round: both workers' lives at once, each killed after its progress
WORKERS = 2
RATE = 70  # the sender's rate in the ledger (segments/s), shared by both campaigns through its pacing row
PER_CAMPAIGN = 45 * ROUNDS  # a life sends some 35-45 of its campaign: fresh recipients last until the last rounds
CAMPAIGN_PHONES = [[f"+1{area}555{1000 + i:04d}" for i in range(PER_CAMPAIGN)] for area in (202, 203)]
BODY = "Hi {customer_first_name}, your slot is ready."


def _query(url: str, sql: str, params: tuple = ()) -> list[dict]:
    """The test's own look at the ledger (psycopg, not the product's code)."""
    with psycopg.connect(url, row_factory=dict_row) as con:
        return con.execute(sql, params).fetchall()


def _accepted(simulator, phones: set[str]) -> int:
    return sum(m["to"] in phones for m in simulator.accepted())


def _life(worker: int, campaign_id: int, phones: set[str], env: dict, fault: str | None, delay: float,
          simulator, log) -> dict:  # fmt: skip
    """One life of `campaign run` on the campaign: SIGKILLed `delay` s after the simulator accepted a message of
    this campaign in this life (bounded wait), unless it ends by itself first (fault hook, completion)."""
    before = _accepted(simulator, phones)
    life_env = {**env, FAULT_ENV: fault} if fault else env
    process = subprocess.Popen(cli_argv("campaign", "run", str(campaign_id), "--tenant", "1", "--json"),
                               env=life_env, stdout=log, stderr=log)  # fmt: skip
    began = time.monotonic()
    progressed = False
    while process.poll() is None and time.monotonic() < began + PROGRESS_WAIT_S:
        if _accepted(simulator, phones) > before:
            progressed = True
            break
        time.sleep(0.05)
    first_accept_s = time.monotonic() - began
    ended = None
    if process.poll() is None:
        try:
            process.wait(timeout=(HOOK_BACKSTOP_S if fault else delay) if progressed else 0)
        except subprocess.TimeoutExpired:
            os.kill(process.pid, signal.SIGKILL)
            process.wait()
            ended = "sigkill"
    if ended is None:
        ended = "fault_exit" if process.returncode == FAULT_EXIT_CODE else "exited"
    return {"worker": worker, "campaign_id": campaign_id, "fault": fault, "delay_s": round(delay, 3), "ended": ended,
            "exit_code": process.returncode, "progress_seen_before_kill": progressed,
            "seconds_to_first_accept": round(first_accept_s, 2) if progressed else None,
            "accepted": _accepted(simulator, phones) - before}  # fmt: skip


def _takeovers(lives: list[dict], campaign_id: int) -> int:
    """How many times the campaign's next life was the other worker's process."""
    own = [life["worker"] for life in lives if life["campaign_id"] == campaign_id]
    return sum(a != b for a, b in zip(own, own[1:], strict=False))


def _final_run(campaign_id: int, env: dict, out: dict) -> None:
    """The campaign's last `campaign run`, to completion (asked again while a run it cannot see as dead holds it)."""
    deadline, busy = time.monotonic() + 120, 0
    while True:
        final = run_to_exit(cli_argv("campaign", "run", str(campaign_id), "--tenant", "1", "--json"), env=env)
        if "being sent by another run" not in final.stderr or time.monotonic() > deadline:
            out[campaign_id] = (final, busy)
            return
        busy += 1
        time.sleep(1)


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.timeout(1800)  # 12 lives, 2 at once, each starting Dagster: ~1.5 min on a loaded 2-core machine
def test_two_workers_killed_mid_work_on_postgres_lose_nothing_and_send_nothing_twice(
    home, tmp_path, postgres_server, monkeypatch
):
    url = fresh_database(postgres_server)
    monkeypatch.setenv(LEDGER_URL_ENV, url)
    monkeypatch.setenv(DAGSTER_PG_URL_ENV, fresh_database(postgres_server))  # Dagster's runs and events there too
    with home_instance(home):  # its storage exists before two processes would race to create it
        pass
    rng = random.Random(SEED)
    ledger = with_twilio(home, sender_rate=RATE)
    settings = CampaignSettings(rate_limit_per_s=0, retry_base_seconds=0.05, quiet_hours="off")
    campaigns = [send_manual(ledger, 1, [(p, f"Pat {i}") for i, p in enumerate(phones)], BODY, f"Storm {n + 1}",
                             settings=settings).campaign_id for n, phones in enumerate(CAMPAIGN_PHONES)]  # fmt: skip
    phones_of = {cid: set(phones) for cid, phones in zip(campaigns, CAMPAIGN_PHONES, strict=True)}
    close_pools()  # the test's own connections: the storm's processes open theirs
    lives: list[dict] = []
    started = time.monotonic()
    with simulator_process(tmp_path, *SIMULATOR_ARGS, seed=SEED) as simulator, \
            open(tmp_path / "runs.log", "ab") as log:  # fmt: skip
        env = cli_env(home, simulator.base_url, http_timeout=HTTP_TIMEOUT_S,
                      **{LOOKUP_SETTLE_ENV: str(LOOKUP_SETTLE_S)})  # fmt: skip
        for round_no in range(ROUNDS):
            plans = []
            for worker in range(WORKERS):  # round r: worker w works campaign (w + r) mod 2
                point = rng.choice(FAULT_POINTS)
                fault = (f"{point}:{rng.randint(1, 15) if point == 'after_accept' else rng.randint(1, 3)}"
                         if (round_no + worker) % 5 == 4 else None)  # fmt: skip
                plans.append((worker, campaigns[(worker + round_no) % WORKERS], fault, rng.uniform(*KILL_DELAY_S)))
            results: dict[int, dict] = {}

            def live(worker: int, campaign_id: int, fault: str | None, delay: float, into: dict = results) -> None:
                into[worker] = _life(worker, campaign_id, phones_of[campaign_id], env, fault, delay, simulator, log)

            threads = [threading.Thread(target=live, args=plan) for plan in plans]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            accepted_phones = {m["to"] for m in simulator.accepted()}
            for worker in range(WORKERS):  # both lives are over: what their kills left in the ledger
                life = results[worker]
                in_flight = [r["phone_e164"] for r in _query(
                    url, "SELECT phone_e164 FROM recipients WHERE campaign_id = %s AND state = 'sending'",
                    (life["campaign_id"],))]  # fmt: skip
                life["round"] = round_no
                life["in_flight"] = len(in_flight)
                life["accepted_not_recorded"] = sum(p in accepted_phones for p in in_flight)
                life["unfinished_after"] = _query(
                    url, "SELECT count(*) AS n FROM recipients WHERE campaign_id = %s AND state IN ('pending', "
                    "'sending')", (life["campaign_id"],))[0]["n"]  # fmt: skip
                lives.append(life)
        lookups_during_lives = simulator.count("lists")
        accepted_during_lives = len(simulator.accepted())
        finals: dict[int, tuple] = {}
        closing = [threading.Thread(target=_final_run, args=(cid, env, finals)) for cid in campaigns]
        for thread in closing:
            thread.start()
        for thread in closing:
            thread.join()
        stats = simulator.stats()
        accepted = simulator.accepted()
    elapsed = time.monotonic() - started

    for final, _ in finals.values():
        assert final.returncode == 0, final.stderr
    rows = _query(url, "SELECT campaign_id, phone_e164, state, sid FROM recipients")
    outcomes = Counter(r["outcome"] for r in _query(url, "SELECT outcome FROM attempts"))
    per_phone = Counter(m["to"] for m in accepted)
    everyone = [p for phones in CAMPAIGN_PHONES for p in phones]
    duplicates = sum(n - 1 for n in per_phone.values() if n > 1)
    lost = sum(per_phone[p] == 0 for p in everyone)
    sigkills = [life for life in lives if life["ended"] == "sigkill"]
    mid_work = [life for life in sigkills if life["progress_seen_before_kill"] and life["unfinished_after"] > 0]
    sent_sids = sorted(r["sid"] for r in rows if r["state"] == "sent")
    write_figures("pg_kill_storm", {
        "seed": SEED, "ledger": "postgresql", "workers": WORKERS, "rounds": ROUNDS, "campaigns": len(campaigns),
        "recipients": len(everyone), "rate_limit_per_s": RATE, "http_timeout_s": HTTP_TIMEOUT_S,
        "lookup_settle_s": LOOKUP_SETTLE_S, "simulator_args": list(SIMULATOR_ARGS),
        "kills": len(lives), "sigkills": len(sigkills),
        "fault_hook_exits": sum(life["ended"] == "fault_exit" for life in lives),
        "lives_that_ended_by_themselves": sum(life["ended"] == "exited" for life in lives),
        "lives_with_progress": sum(life["accepted"] > 0 for life in lives),
        "sigkills_mid_work": len(mid_work),
        "sigkills_without_progress": sum(not life["progress_seen_before_kill"] for life in sigkills),
        "kills_with_messages_accepted_but_not_recorded": sum(life["accepted_not_recorded"] > 0 for life in lives),
        "takeovers_by_the_other_worker": sum(_takeovers(lives, cid) for cid in campaigns),
        "interrupted": outcomes["interrupted"], "recovered_sent": outcomes["recovered_sent"],
        "released_unsent_after_lookup": outcomes["recovered_unsent"], "ambiguous_attempts": outcomes["ambiguous"],
        "attempt_outcomes": dict(outcomes), "lookups": stats.get("lists", 0),
        "lookups_during_lives": lookups_during_lives,
        "errors_after_create": stats.get("errors_after_create", 0),
        "dropped_after_create": stats.get("dropped_after_create", 0),
        "final_runs": {str(cid): json.loads(final.stdout.splitlines()[0]) for cid, (final, _) in finals.items()},
        "final_run_busy_answers": sum(busy for _, busy in finals.values()),
        "accepted_by_simulator": len(accepted),
        "accepted_during_lives": accepted_during_lives, "duplicates": duplicates, "lost": lost,
        "ledger_sent_rows": len(sent_sids),
        "ledger_sids_equal_simulator_sids": sent_sids == sorted(m["sid"] for m in accepted),
        "elapsed_s": round(elapsed, 1), "load_average": os.getloadavg(), "lives": lives,
    })  # fmt: skip
    assert len(lives) == WORKERS * ROUNDS
    assert len(mid_work) > len(lives) // 2, "most kills must land while the worker had sent and work was left"
    assert stats.get("errors_after_create", 0) > 0 and stats.get("dropped_after_create", 0) > 0, "no fault happened"
    assert outcomes["interrupted"] > 0, "no kill caught a claim in flight"
    assert outcomes["recovered_sent"] > 0, "no lookup found a message an ambiguous attempt or a crash left behind"
    assert duplicates == 0, f"{duplicates} messages created twice: {[p for p, n in per_phone.items() if n > 1]}"
    assert lost == 0, f"{lost} recipients never created: {[p for p in everyone if per_phone[p] == 0][:10]}"
    assert set(per_phone) == set(everyone)
    assert sent_sids == sorted(m["sid"] for m in accepted)
    assert {r["state"] for r in rows} == {"sent"}
