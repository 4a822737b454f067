"""One sender's rate limit shared by 1, 2 and 4 concurrent campaigns: the accepted rate against the limit.

The tenant's From number gets a throughput of 20 segments/s in the ledger (`set_sender_throughput`); N campaigns
of that tenant, on that number, with no campaign rate limit, are each run by its own process
(`python -m orchestration.cli.entry campaign run ID --tenant 1`) at the same time. The total accepted rate is
measured from the simulator's own creation instants (`--record` JSONL, float seconds), in the steady state: the
window in which every campaign was sending, less its first and last second.

The simulator runs in realistic mode with the number's throughput also set to 20/s (its queue drains as fast as it
fills), 50 ms latency, and answers 429 past 25 creates per second per sender (`--rate-limit-per-sender`), so an
engine that overshot would be told so; the 429s are counted.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

from bench import append_section
from bench.bench_send import provenance, simulator_home, start_simulator
from orchestration.sender import CampaignSettings, send_manual
from orchestration.simulator import DEMO_FROM

PORT = 34320
RATE = 20.0
BURST_LIMIT = RATE * 1.25  # the simulator's 429 threshold, creates/s per sender
LATENCY_MS = 50
BODY = "Hi, your favourite slot is free again this week. Book now and get 10% off."


def _base(port: int) -> str:
    return f"http://127.0.0.1:{port}"


def window_rate(instants: list[float], start: float, end: float) -> tuple[float, list[int]]:
    """Creates per second between `start` and `end`, and the count in each whole second of it."""
    inside = [t for t in instants if start <= t < end]
    seconds = max(0, int(end - start))
    bins = [sum(1 for t in inside if start + i <= t < start + i + 1) for i in range(seconds)]
    return len(inside) / (end - start), bins


def one_point(root: Path, port: int, record: Path, campaigns: int, seconds: float) -> dict:
    """N campaigns on one number, each in its own process, run at once; the rates seen by the simulator."""
    requests.post(f"{_base(port)}/_sim/reset", timeout=10).raise_for_status()
    home, ledger = simulator_home(root, f"limit-{campaigns}", port, throughput=RATE)
    per_campaign = math.ceil(RATE * seconds / campaigns)
    ranges: dict[int, range] = {}
    for c in range(campaigns):
        base = 7_000_000 + c * 100_000
        people = [(f"+1201{base + i:07d}", "") for i in range(per_campaign)]
        campaign = send_manual(ledger, 1, people, BODY, f"Limit {c + 1}/{campaigns}",
                               settings=CampaignSettings(rate_limit_per_s=0))  # fmt: skip
        ranges[campaign.campaign_id] = range(base, base + per_campaign)
    env = {**os.environ, "BKNTC_SMS_HOME": str(home.root), "BKNTC_SMS_TWILIO_API_URL": _base(port)}
    before = requests.get(f"{_base(port)}/_sim/stats", timeout=10).json()
    started = time.time()
    processes = {
        cid: subprocess.Popen(
            [sys.executable, "-m", "orchestration.cli.entry", "campaign", "run", str(cid), "--tenant", "1", "--json"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )  # fmt: skip
        for cid in ranges
    }
    summaries = {}
    for cid, process in processes.items():
        out, _ = process.communicate(timeout=seconds * 4 + 120)
        summaries[cid] = json.loads(out.strip().splitlines()[-1]) if out.strip() else {"rc": process.returncode}
    after = requests.get(f"{_base(port)}/_sim/stats", timeout=10).json()
    by_campaign: dict[int, list[float]] = {cid: [] for cid in ranges}
    for line in record.read_text(encoding="utf-8").splitlines():
        message = json.loads(line)
        if message.get("from") != DEMO_FROM or "_sim" not in message or message["_sim"]["created"] < started:
            continue
        number = int(message["to"][5:])
        for cid, numbers in ranges.items():
            if number in numbers:
                by_campaign[cid].append(message["_sim"]["created"])
    instants = sorted(t for ts in by_campaign.values() for t in ts)
    first, last = instants[0], instants[-1]
    # steady state: every campaign sending (after the last one's first create, before the first one's last)
    start = max(min(ts) for ts in by_campaign.values()) + 1.0
    end = min(max(ts) for ts in by_campaign.values()) - 1.0
    rate, bins = window_rate(instants, start, end) if end - start >= 2 else (float("nan"), [])
    shares = {cid: sum(1 for t in ts if start <= t < end) for cid, ts in by_campaign.items()}
    overall, _ = window_rate(instants, first + 1.0, last - 1.0)
    result = {
        "campaigns": campaigns, "recipients": per_campaign * campaigns, "accepted": len(instants),
        "steady_s": end - start, "steady_rate": rate, "per_second": bins, "overall_rate": overall,
        "span_s": last - first, "shares": list(shares.values()),
        "starts_s": sorted(min(ts) - first for ts in by_campaign.values()),
        "http_429": after.get("error_20429", 0) - before.get("error_20429", 0),
        "stopped": [s.get("stopped") for s in summaries.values()],
        "throttled": sum(s.get("throttled", 0) for s in summaries.values()),
    }  # fmt: skip
    print({k: v for k, v in result.items() if k != "per_second"}, flush=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="about 8 s per point instead of 30 s")
    parser.add_argument("--campaigns", type=int, nargs="+", default=[1, 2, 4])
    args = parser.parse_args()
    seconds = 8.0 if args.quick else 30.0
    lines = [
        "| concurrent campaigns (one process each), one number | accepted rate, steady state | per whole second: "
        "median (min–max) | vs limit | whole run (first to last create, less 1 s each end) | 429s | goal |",
        "|---|---|---|---|---|---|---|",
    ]  # fmt: skip
    points = []
    with tempfile.TemporaryDirectory(prefix="bench-sender-limit-") as folder:
        root = Path(folder)
        record = root / "simulator.jsonl"
        flags = ("--mode", "realistic", "--throughput", f"{DEMO_FROM}={RATE:g}",
                 "--rate-limit-per-sender", f"{BURST_LIMIT:g}", "--record", str(record))  # fmt: skip
        simulator = start_simulator(LATENCY_MS, PORT, flags)
        try:
            for n in args.campaigns:
                point = one_point(root, PORT, record, n, seconds)
                points.append(point)
                bins = point["per_second"]
                per_s = f"{statistics.median(bins):g} ({min(bins)}–{max(bins)}, {len(bins)} s)" if bins else "–"
                line = (
                    f"| {n} | {point['steady_rate']:.2f} msg/s over {point['steady_s']:.1f} s "
                    f"(per campaign: {', '.join(str(s) for s in point['shares'])}) | {per_s} | "
                    f"{(point['steady_rate'] / RATE - 1) * 100:+.1f}% | {point['overall_rate']:.2f} msg/s "
                    f"({point['accepted']:,} in {point['span_s']:.1f} s) | {point['http_429']} | ±5% |"
                )
                lines.append(line)
                print(line, flush=True)
        finally:
            simulator.terminate()
            simulator.wait(timeout=10)
    lines += [
        "",
        f"Sender throughput {RATE:g} segments/s set in the ledger for {DEMO_FROM} (tenant 1); every message is one "
        f"segment; campaigns without a rate limit of their own, {math.ceil(RATE * seconds)} recipients in all per "
        "point, split evenly. Each campaign in its own `python -m orchestration.cli.entry campaign run` process, "
        "started together (the steady window begins 1 s after the last one's first create; their first creates "
        "came " + "; ".join(", ".join(f"{s:.1f}" for s in p["starts_s"]) + " s" for p in points) + " after the "
        f"first). Simulator: its own process, `--mode realistic --throughput {DEMO_FROM}={RATE:g} "
        f"--rate-limit-per-sender {BURST_LIMIT:g} --latency-ms {LATENCY_MS}`; the instants are its creation times "
        f"(`--record`). Run with{'' if args.quick else 'out'} `--quick`; {provenance()}.",
    ]
    text = "\n".join(lines)
    print(text)
    append_section("Shared sender rate limit, concurrent campaigns on one number (bench_sender_limit)", text)


if __name__ == "__main__":
    main()
