"""Reconciling stranded recipients against the realistic simulator: seconds, lookups per recipient, duplicates.

A campaign of 1,000 recipients is sent once while the simulator answers every create with a 500 AFTER creating the
message (`error_after_create_rates={500: 1.0}`): Twilio has every message, the ledger has none of their SIDs, and
every recipient is "to verify". The fault is then switched off and, once the lookups are due, a second run settles
them; that run is timed. It must find each message in Twilio's list (Gateway.find_sent) and resend nothing.

The simulator runs in its own process in realistic mode: the From number is a US long code draining its queue at
1 segment/s, so the campaign's messages are still `queued` (no DateSent) when they are looked up; the list shows a
message 1 s after its creation (list lag); 50 ms latency per request. The account also holds other messages, so
the list is not trivially empty: one earlier message with another body from the same number to every recipient,
one with the same body from another number to every recipient, and messages to other numbers.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

from bench import append_section
from bench.bench_send import provenance, simulator_home, start_simulator
from orchestration.sender import CampaignRun, CampaignSettings, gateway_for, send_manual, status
from orchestration.sender.engine import LOOKUP_SETTLE_ENV
from orchestration.simulator import DEMO_ACCOUNT_SID, DEMO_AUTH_TOKEN, DEMO_FROM

PORT = 34310
BODY = "Hi, it has been a while! Book again this week: 10% off with code BACK10."
OTHER_BODY = "Your appointment is confirmed for tomorrow at 10:00."
OTHER_FROM = "+15005550009"
SETTLE_S = 2.0  # BKNTC_SMS_LOOKUP_SETTLE_S of the settle run: must exceed the simulator's list lag (1 s here)
FIRST_SETTLE_S = 30.0  # of the first run (the default)
LATENCY_MS = 50


def _sim(path: str, port: int) -> str:
    return f"http://127.0.0.1:{port}{path}"


def configure(port: int, **settings: object) -> None:
    requests.post(_sim("/_sim/config", port), json=settings, timeout=10).raise_for_status()


def stats(port: int) -> dict[str, int]:
    return requests.get(_sim("/_sim/stats", port), timeout=10).json()


def numbers(count: int, base: int) -> list[str]:
    return [f"+1201{base + i:07d}" for i in range(count)]


def background(port: int, recipients: list[str], others: int) -> int:
    """The account's other messages, created through the API (latency 0 meanwhile): returns how many."""
    url = _sim(f"/2010-04-01/Accounts/{DEMO_ACCOUNT_SID}/Messages.json", port)
    creates = [(DEMO_FROM, to, OTHER_BODY) for to in recipients] + [(OTHER_FROM, to, BODY) for to in recipients]
    creates += [(DEMO_FROM, to, BODY) for to in numbers(others, 6_000_000)]
    session = requests.Session()
    session.auth = (DEMO_ACCOUNT_SID, DEMO_AUTH_TOKEN)

    def create(item: tuple[str, str, str]) -> int:
        return session.post(url, data={"From": item[0], "To": item[1], "Body": item[2]}, timeout=10).status_code

    with ThreadPoolExecutor(16) as pool:
        codes = Counter(pool.map(create, creates))
    if set(codes) != {201}:
        raise RuntimeError(f"background creates answered {dict(codes)}")
    return len(creates)


def duplicates(port: int, recipients: list[str]) -> tuple[int, int]:
    """(duplicates, recipients with no message) among the campaign's messages at the simulator."""
    messages = requests.get(_sim("/_sim/messages", port), timeout=60).json()["messages"]
    wanted = set(recipients)
    per_to = Counter(m["to"] for m in messages
                     if m["to"] in wanted and m["from"] == DEMO_FROM and m["body"] == BODY)  # fmt: skip
    return sum(n - 1 for n in per_to.values() if n > 1), sum(1 for to in recipients if per_to[to] == 0)


def one_run(root: Path, port: int, count: int, others: int, i: int) -> dict:
    configure(port, latency_ms=0, error_after_create_rates={})
    requests.post(_sim("/_sim/reset", port), timeout=10).raise_for_status()
    recipients = numbers(count, 5_000_000 + i * 100_000)
    made = background(port, recipients, others)
    configure(port, latency_ms=LATENCY_MS, error_after_create_rates={"500": 1.0})
    home, ledger = simulator_home(root, f"reconcile-{i}", port)
    settings = CampaignSettings(rate_limit_per_s=0, retry_base_seconds=1, failure_streak_pause=10**6)
    campaign = send_manual(ledger, 1, [(to, "") for to in recipients], BODY, "Reconcile", settings=settings)
    # The first run leaves every lookup FIRST_SETTLE_S away, so none is due before it has sent them all and stops.
    os.environ[LOOKUP_SETTLE_ENV] = str(FIRST_SETTLE_S)
    first = CampaignRun(ledger, 1, campaign.campaign_id, gateway_for(home, ledger, 1), max_wait_s=0).run()
    os.environ[LOOKUP_SETTLE_ENV] = str(SETTLE_S)
    configure(port, error_after_create_rates={})
    with ledger.read() as con:
        due, to_verify = con.execute(
            "SELECT max(due_at), count(*) FROM recipients WHERE campaign_id = ? AND verify_since IS NOT NULL",
            (campaign.campaign_id,),
        ).fetchone()
    time.sleep(max(0.0, (due or 0) - time.time() + 0.1))
    before = stats(port)
    started = time.perf_counter()
    settle = CampaignRun(ledger, 1, campaign.campaign_id, gateway_for(home, ledger, 1)).run()
    seconds = time.perf_counter() - started
    after = stats(port)
    delta = {key: after.get(key, 0) - before.get(key, 0) for key in ("lists", "requests", "creates", "fetches")}
    dupes, missing = duplicates(port, recipients)
    final = status(ledger, 1, campaign.campaign_id)
    result = {
        "recipients": count, "background": made, "first_run_errors": dict(first.error_codes), "to_verify": to_verify,
        "seconds": seconds, "recovered": settle.recovered, "resent": delta["creates"], "lookups": settle.lookups,
        "lookup_failures": settle.lookup_failures, "lists": delta["lists"], "requests": delta["requests"],
        "duplicates": dupes, "missing": missing, "counts": dict(final.counts), "stopped": settle.stopped,
    }  # fmt: skip
    print(result, flush=True)
    return result


def spread(values: list[float], fmt: str, unit: str = "") -> str:
    """'median unit (min–max, n=N)', as in the rest of BENCHMARKS.md."""
    if len(values) == 1:
        return f"{values[0]:{fmt}}{unit} (n=1)"
    low, high = min(values), max(values)
    return f"{statistics.median(values):{fmt}}{unit} ({low:{fmt}}–{high:{fmt}}, n={len(values)})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="100 recipients")
    parser.add_argument("--recipients", type=int, help="campaign size (default 1,000; 100 with --quick)")
    parser.add_argument("--repeats", type=int, default=1)
    args = parser.parse_args()
    count = args.recipients or (100 if args.quick else 1_000)
    others = 2 * count
    simulator = start_simulator(0, PORT, ("--mode", "realistic"))
    try:
        with tempfile.TemporaryDirectory(prefix="bench-reconcile-") as folder:
            runs = [one_run(Path(folder), PORT, count, others, i) for i in range(args.repeats)]
    finally:
        simulator.terminate()
        simulator.wait(timeout=10)
    per = [r["lists"] / r["recipients"] for r in runs]
    req = [r["requests"] / r["recipients"] for r in runs]
    lines = [
        "| measure | figure | goal |",
        "|---|---|---|",
        f"| settle run, {count:,} stranded recipients (every create answered 500 after creating) | "
        f"{spread([r['seconds'] for r in runs], '.1f', ' s')}; "
        f"{spread([r['recipients'] / r['seconds'] for r in runs], ',.0f', ' recipients/s')} | - |",
        f"| list requests per recipient (simulator `lists` delta) | {spread(per, '.2f')}; all requests "
        f"{spread(req, '.2f')} per recipient | 1 |",
        "| recovered (found in Twilio's list, marked sent with its SID) | "
        + ", ".join(f"{r['recovered']:,} of {r['to_verify']:,}" for r in runs)
        + " | all |",
        "| resent (creates during the settle run) | " + ", ".join(f"{r['resent']}" for r in runs) + " | 0 |",
        "| duplicates at the simulator (same To, From and body more than once) | "
        + ", ".join(f"{r['duplicates']}" for r in runs)
        + "; recipients without a message: "
        + ", ".join(f"{r['missing']}" for r in runs)
        + " | 0 |",
        "",
        f"Simulator: its own process, `--mode realistic` (US long code {DEMO_FROM} queued at 1 segment/s, so the "
        f"messages are `queued` without DateSent when looked up; list lag 1 s), {LATENCY_MS} ms per request. The "
        f"account also held {runs[0]['background']:,} other messages: an earlier one with another body from the "
        f"same number to every recipient, one with the same body from {OTHER_FROM} to every recipient, and "
        f"{others:,} to other numbers. First run: every create answered 500 after creating "
        f"({runs[0]['first_run_errors']}; lookups left {FIRST_SETTLE_S:g} s away), stopped with `max_wait_s=0`; the "
        f"timed run starts when they are due (BKNTC_SMS_LOOKUP_SETTLE_S={SETTLE_S:g}), 64 threads, no campaign "
        "rate limit, sender throughput 0 in the ledger. Lookup failures: "
        + ", ".join(str(r["lookup_failures"]) for r in runs)
        + f". Run with{'' if args.quick else 'out'} "
        f"`--quick`; {provenance()}.",
    ]
    text = "\n".join(lines)
    print(text)
    append_section("Reconciliation of stranded recipients, realistic simulator (bench_reconcile)", text)


if __name__ == "__main__":
    sys.exit(main())
