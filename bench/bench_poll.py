"""Polling delivery: requests per message to settle N sent messages, by SID (`poll_tenant`) and by listing the
sender's messages (`poll_tenant_by_list`).

A campaign of N recipients (default 10,000) is sent through the engine to the simulator (its own process, fast mode,
the default suffix errors: a few numbers end undelivered or failed). The home is then copied, so both ways start
from the same ledger, every message due its first check. Each way polls until nothing is due; the figures are the
simulator's request counters over that poll, its wall time, and the delivery statuses it reached (which must be
the same for both).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

from bench import append_section
from bench.bench_send import provenance, simulator_home
from orchestration.config import Home
from orchestration.delivery.listing import poll_tenant_by_list
from orchestration.delivery.poll import client_for, poll_tenant
from orchestration.ledger import Ledger
from orchestration.sender import CampaignRun, CampaignSettings, gateway_for, send_manual
from orchestration.simulator import DEMO_FROM

PORT = 24340  # away from the tests' free_port ranges (343xx)
PAUSING_SUFFIXES = ("0408", "0606")  # 21408, 21606: the sender's setup is wrong, the campaign pauses
FIRST_CHECK_S = 11.0  # the first check is 10 s after the send: poll as of then


def start_simulator(port: int) -> subprocess.Popen:
    command = [str(Path(sys.executable).with_name("bkntc-sms")), "simulator", "--port", str(port)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    if not process.stdout.readline():
        raise RuntimeError(f"the simulator did not start on port {port}")
    return process


def stats(port: int) -> dict[str, int]:
    return requests.get(f"http://127.0.0.1:{port}/_sim/stats", timeout=10).json()


def statuses(home: Home) -> dict[str, int]:
    with Ledger(home.ledger).read() as con:
        rows = con.execute("SELECT coalesce(delivery_status, 'none'), count(*) FROM recipients GROUP BY 1").fetchall()
    return {row[0]: row[1] for row in rows}


def numbers(count: int) -> list[str]:
    """`count` numbers; the simulator's suffix errors stay on, but none that would pause the campaign."""
    found, i = [], 0
    while len(found) < count:
        number = f"+1201{4_000_000 + i:07d}"
        i += 1
        if not number.endswith(PAUSING_SUFFIXES):
            found.append(number)
    return found


def sent_home(root: Path, count: int) -> Home:
    home, ledger = simulator_home(root, "sent", PORT)
    people = [(number, "") for number in numbers(count)]
    campaign = send_manual(ledger, 1, people, "Your visit is tomorrow.", "Poll",
                           settings=CampaignSettings(rate_limit_per_s=0, failure_streak_pause=10**6))
    summary = CampaignRun(ledger, 1, campaign.campaign_id, gateway_for(home, ledger, 1)).run()
    print({"sent": summary.sent, "failed": summary.failed, "stopped": summary.stopped}, flush=True)
    with ledger.read() as con:  # fold the WAL in, so a copy of the file is the whole ledger
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return home


def one_way(source: Home, root: Path, name: str) -> dict:
    shutil.copytree(source.root, root / name)
    home = Home.resolve(root / name)
    ledger = Ledger(home.ledger)
    client = client_for(home, ledger, 1)
    before = stats(PORT)
    started = time.perf_counter()
    as_of = time.time() + FIRST_CHECK_S
    rounds = 0
    while True:
        rounds += 1
        if name == "by SID":
            summary = poll_tenant(ledger, 1, client, now=lambda: as_of)
        else:
            summary = poll_tenant_by_list(ledger, 1, client, DEMO_FROM, now=lambda: as_of)
        if summary.checked + summary.fetch_failures + summary.unknown == 0:
            break
    seconds = time.perf_counter() - started
    after = stats(PORT)
    delta = {key: after.get(key, 0) - before.get(key, 0) for key in ("requests", "fetches", "lists")}
    result = {"way": name, "seconds": seconds, **delta, "statuses": statuses(home), "rounds": rounds}
    print(result, flush=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="1,000 messages")
    parser.add_argument("--messages", type=int, help="messages (default 10,000)")
    args = parser.parse_args()
    count = args.messages or (1_000 if args.quick else 10_000)
    simulator = start_simulator(PORT)
    try:
        with tempfile.TemporaryDirectory(prefix="bench-poll-") as folder:
            root = Path(folder)
            source = sent_home(root, count)
            ways = [one_way(source, root, "by SID"), one_way(source, root, "by list")]
    finally:
        simulator.terminate()
        simulator.wait(timeout=10)
    same = ways[0]["statuses"] == ways[1]["statuses"]
    lines = [
        "| way | requests | requests per message | fetches | list pages | seconds | final statuses |",
        "|---|---|---|---|---|---|---|",
        *(f"| {w['way']} (`{'poll_tenant' if w['way'] == 'by SID' else 'poll_tenant_by_list'}`) | "
          f"{w['requests']:,} | {w['requests'] / count:.4f} | {w['fetches']:,} | {w['lists']:,} | "
          f"{w['seconds']:.1f} | {w['statuses']} |" for w in ways),
        "",
        f"{count:,} messages sent by the engine to the simulator (its own process, fast mode, suffix errors on but "
        f"none that pauses a campaign) from {DEMO_FROM}, all due their first check; each way polls a copy of the "
        "same ledger until nothing is due. "
        f"Same final statuses both ways: {'yes' if same else 'NO'}. Requests are the simulator's own counters. "
        f"Run with{'' if args.quick else 'out'} `--quick`; {provenance()}.",
    ]
    text = "\n".join(lines)
    print(text)
    append_section("Polling delivery: requests per message (bench_poll)", text)


if __name__ == "__main__":
    sys.exit(main())
