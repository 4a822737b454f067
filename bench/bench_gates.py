"""Claim-time gates (quiet hours, frequency cap) at 100,000 recipients: their cost per recipient in the claim's
write transaction, against the send engine's cost per message (its measured throughput), and the zone resolution
the freeze adds per recipient (from the audience's rows, and from the number).

A real SQLite ledger: one campaign of 100,000 frozen recipients in three US zones (a tenth in Florida), and an
earlier campaign that sent to every one of them (so the cap's count finds one message per number). The gates run
as the engine runs them, chunk by chunk (1,000 recipients per write transaction). `--throughput` is the engine's
send throughput to compare with (msg/s; default: the 100,000-recipient figure in BENCHMARKS.md, 342 msg/s)."""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pyarrow as pa

from bench import append_section
from orchestration.ledger import Ledger
from orchestration.sender.campaigns import _own_zones
from orchestration.sender.engine import json_ids
from orchestration.sender.gates import SendRules, hold_back
from orchestration.sender.quiet_hours import number_zones, own_zone
from orchestration.tenants import update_settings
from orchestration.warehouse.phones import normalize_distinct

AREAS = ("212", "312", "213", "305")  # New York, Chicago, Los Angeles, Florida (state rules)
CHUNK = 1000


def phone(i: int) -> str:
    area = AREAS[3] if i % 10 == 0 else AREAS[i % 3]
    return f"+1{area}{2000000 + i:07d}"


def build(ledger: Ledger, count: int, sent_at: float) -> int:
    """The earlier campaign (all sent at `sent_at`) and the one to gate; returns the latter's id."""
    with ledger.write() as con:
        ids = []
        for name in ("earlier", "gated"):
            ids.append(con.execute(
                "INSERT INTO campaigns (tenant_id, name, kind, template_body, max_attempts, retry_base_seconds,"
                " rate_limit_per_s, failure_streak_pause, state) VALUES (1, ?, 'manual', 'x', 3, 120, 0, 50,"
                " 'sending') RETURNING campaign_id", (name,)).fetchone()[0])
        earlier, gated = ids
        con.executemany(
            "INSERT INTO recipients (campaign_id, phone_e164, body, segments, state, sent_at, timezone)"
            " VALUES (?, ?, 'x', 1, ?, ?, ?)",
            [(earlier, phone(i), "sent", sent_at, None) for i in range(count)]
            + [(gated, phone(i), "pending", None, own_zone(None, phone(i))) for i in range(count)],
        )
    return gated


def gate_seconds(ledger: Ledger, campaign_id: int, now: float) -> tuple[float, int, int]:
    """Seconds the gates took over the whole campaign, chunk by chunk, and what they held back (undone after)."""
    with ledger.read() as con:
        ids = [row[0] for row in con.execute(
            "SELECT recipient_id FROM recipients WHERE campaign_id = ? ORDER BY recipient_id", (campaign_id,))]
    spent, deferred, skipped = 0.0, 0, 0
    for start in range(0, len(ids), CHUNK):
        chunk = json_ids(ids[start:start + CHUNK])
        with ledger.write() as con:
            began = time.perf_counter()
            held = hold_back(con, SendRules.of(con, 1), 1, chunk, now)
            spent += time.perf_counter() - began
            deferred, skipped = deferred + len(held.deferred), skipped + len(held.skipped)
            con.execute("UPDATE recipients SET state = 'pending', skip_reason = NULL, deferred_reason = NULL"
                        " WHERE recipient_id IN (SELECT value FROM json_each(?))", (chunk,))  # the next pass alike
    return spent, deferred, skipped


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--recipients", type=int, default=100_000)
    parser.add_argument("--throughput", type=float, default=342.0)
    args = parser.parse_args()
    noon_new_york = datetime(2026, 12, 3, 17, 0, tzinfo=UTC).timestamp()  # every window open
    night = datetime(2026, 12, 4, 7, 0, tzinfo=UTC).timestamp()  # every window closed: all deferred

    number_zones.cache_clear()
    began = time.perf_counter()
    for i in range(args.recipients):
        own_zone(None, phone(i))
    zone_us = (time.perf_counter() - began) / args.recipients * 1e6
    phones = pa.table({"region": ["US"] * args.recipients, "phone": [phone(i) for i in range(args.recipients)]})
    synced = normalize_distinct(phones, workers=1).column("phone_zones").to_pylist()  # as the sync stores them
    frame = pd.DataFrame({"phone_e164": phones.column("phone").to_pylist(), "client_timezone": None,
                          "phone_zone": [zones[0] if len(zones) == 1 else None for zones in synced]})  # fmt: skip
    began = time.perf_counter()
    _own_zones(frame)
    frozen_us = (time.perf_counter() - began) / args.recipients * 1e6

    with tempfile.TemporaryDirectory() as folder:
        ledger = Ledger(Path(folder) / "ledger.sqlite")
        update_settings(ledger, 1, quiet_hours="08:00-21:00", state_rules="on", frequency_cap="3/7d",
                        timezone="America/New_York")
        campaign_id = build(ledger, args.recipients, noon_new_york - 3600)
        day, day_deferred, day_skipped = gate_seconds(ledger, campaign_id, noon_new_york)
        dark, dark_deferred, _ = gate_seconds(ledger, campaign_id, night)
        update_settings(ledger, 1, quiet_hours="off", state_rules="off", frequency_cap="off")
        off, _, _ = gate_seconds(ledger, campaign_id, noon_new_york)

    per_message_ms = 1000.0 / args.throughput
    rows = [
        ("window open, cap 3/7d counted for every recipient (1 earlier message each)", day, day_deferred,
         day_skipped),
        ("every window closed: every recipient deferred (a write each)", dark, dark_deferred, 0),
        ("quiet hours, state rules and cap off", off, 0, 0),
    ]  # fmt: skip
    lines = [
        f"{args.recipients:,} frozen recipients (New York, Chicago, Los Angeles; 10% Florida), gated in chunks of "
        f"{CHUNK:,} inside write transactions, as the engine claims them. The send engine's cost per message is "
        f"taken from its measured throughput, {args.throughput:g} msg/s ({per_message_ms:.2f} ms per message).",
        "",
        "| case | gates total | per recipient | share of send cost | deferred | skipped | goal |",
        "|---|---|---|---|---|---|---|",
    ]
    for label, seconds, deferred, skipped in rows:
        per_us = seconds / args.recipients * 1e6
        share = per_us / 1000 / per_message_ms
        lines.append(f"| {label} | {seconds:.2f} s | {per_us:.1f} µs | {share:.1%} | {deferred:,} | {skipped:,} | "
                     f"≤ 10% {'yes' if share <= 0.10 else 'no'} |")
    lines += [
        "",
        f"At the freeze, each recipient's own zone comes from its audience row (the number's zone as the sync "
        f"stored it): {frozen_us:.2f} µs per recipient ({frozen_us * args.recipients / 1e6:.2f} s per "
        f"{args.recipients:,}). Resolving it from the number instead (`phonenumbers`, uncached: typed numbers and "
        f"resends) costs {zone_us:.1f} µs per recipient ({zone_us * args.recipients / 1e6:.1f} s per "
        f"{args.recipients:,}). Reproduce: `python -m bench.bench_gates`.",
    ]
    body = "\n".join(lines)
    print(body)
    append_section("Claim-time gates: quiet hours and frequency cap (bench_gates)", body)


if __name__ == "__main__":
    main()
