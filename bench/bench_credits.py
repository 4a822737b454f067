"""The cost of SMS credits at send time: the same campaign sent by an unmetered and by a metered tenant (each chunk
reserves its segments at claim and each outcome keeps or refunds them), throughput compared. Goal: <= 10%.

`--quick`: 5,000 recipients (default 100,000); each side runs `--rounds` times, alternating, median reported."""

from __future__ import annotations

import argparse
import statistics
import tempfile
from pathlib import Path

from bench import append_section
from bench.bench_send import _run, _segment_campaign, provenance, simulator_home, start_simulator
from orchestration.credits import balance, campaign_cost, topup

PORT = 22310


def one(root: Path, name: str, recipients: int, metered: bool) -> float:
    home, ledger = simulator_home(root, name, port=PORT)
    if metered:
        topup(ledger, 1, recipients * 10, "bench")
    campaign_id, _ = _segment_campaign(home, ledger, recipients)
    elapsed, sent, _ = _run(home, ledger, campaign_id)
    assert sent == recipients, (sent, recipients)
    if metered:
        assert balance(ledger, 1) == recipients * 10 - campaign_cost(ledger, 1, campaign_id)  # each debited once
    return sent / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="5,000 recipients")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    recipients = 5_000 if args.quick else 100_000
    simulator = start_simulator(latency_ms=50, port=PORT)
    rates: dict[bool, list[float]] = {False: [], True: []}
    try:
        with tempfile.TemporaryDirectory() as folder:
            for n in range(args.rounds):
                for metered in (False, True):
                    rates[metered].append(one(Path(folder), f"r{n}-{metered}", recipients, metered))
    finally:
        simulator.terminate()
    plain, metered = statistics.median(rates[False]), statistics.median(rates[True])
    cost = (plain - metered) / plain * 100
    lines = [f"- {recipients:,} recipients, simulator at 50 ms latency, {args.rounds} rounds each (median): "
             f"unmetered {plain:,.0f} msg/s, metered {metered:,.0f} msg/s: credits cost {cost:.1f}% "
             f"(goal <= 10%)", f"- {provenance()}"]
    print("\n".join(lines))
    append_section(f"SMS credits at send time{' (quick)' if args.quick else ''}", "\n".join(lines))


if __name__ == "__main__":
    main()
