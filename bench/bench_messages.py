"""Personalizing and costing 1M messages (render_many, count_segments_many) and suppression list import/lookup."""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from bench import append_section
from orchestration.ledger import Ledger
from orchestration.ledger.suppression import SuppressionList
from orchestration.messages.segments import count_segments_many
from orchestration.messages.shortcodes import render_many

TEMPLATE = (
    "Hi {customer_name}, your {service_name} with {staff_name} is on {appointment_date} at "
    "{appointment_start_time} ({location_name}). Price {service_price}. Reply STOP to opt out. {company_name}"
)


def recipients(n: int) -> pd.DataFrame:
    rng = np.random.default_rng(7)
    first = np.array(["Ann", "Bo", "Zoë", "Mehmet", "Li", "Ольга", "José", ""])[rng.integers(0, 8, n)]
    last = np.array(["Lee", "Park", "Öztürk", "", "Smith"])[rng.integers(0, 5, n)]
    full = pd.Series(first).str.cat(pd.Series(last), sep=" ").str.strip()
    return pd.DataFrame(
        {
            "customer_id": np.arange(n),
            "first_name": first,
            "last_name": last,
            "full_name": full,
            "phone_e164": [f"+1212{2_000_000 + i:07d}" for i in range(n)],
            "anchor_appointment_id": np.arange(n),
            "anchor_starts_at": 1_767_225_600 + rng.integers(0, 90 * 86_400, n),
            "service_name": np.array(["Haircut", "Massage", "Consultation"])[rng.integers(0, 3, n)],
            "service_price": rng.choice([35.0, 49.5, np.nan], n),
            "staff_name": np.array(["Sam", "Kim"])[rng.integers(0, 2, n)],
            "location_name": np.array(["Downtown", "Airport"])[rng.integers(0, 2, n)],
        }
    )


def timed(action):
    start = time.perf_counter()
    result = action()
    return result, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="100k recipients and 10k suppressed numbers")
    args = parser.parse_args()
    n, suppressed_n = (100_000, 10_000) if args.quick else (1_000_000, 100_000)

    frame = recipients(n)
    bodies, render_s = timed(lambda: render_many(TEMPLATE, frame, {"name": "Example Salon"}))
    counts, segments_s = timed(lambda: count_segments_many(bodies))
    ucs2 = int((counts["encoding"] == "UCS-2").sum())

    with tempfile.TemporaryDirectory() as folder:
        suppression = SuppressionList(Ledger(Path(folder) / "ledger.sqlite"), 0)
        csv = ("phone\n" + "\n".join(f"+1212{2_000_000 + i * 7:07d}" for i in range(suppressed_n)) + "\n").encode()
        report, import_s = timed(lambda: suppression.import_csv(csv))
        numbers, numbers_s = timed(suppression.numbers)
        hits, contains_s = timed(lambda: suppression.contains_many(frame["phone_e164"]))

    rows = [
        f"| render_many ({TEMPLATE.count('{')} shortcodes) | {n:,} messages | {render_s:.2f} s "
        f"| {n / render_s:,.0f}/s |",
        f"| count_segments_many ({ucs2:,} UCS-2, {int(counts['segments'].sum()):,} segments) | {n:,} bodies "
        f"| {segments_s:.2f} s | {n / segments_s:,.0f}/s |",
        f"| suppression import_csv | {report.added:,} numbers | {import_s:.2f} s | {suppressed_n / import_s:,.0f}/s |",
        f"| suppression numbers() | {len(numbers):,} numbers | {numbers_s:.2f} s | {len(numbers) / numbers_s:,.0f}/s |",
        f"| suppression contains_many ({len(hits):,} hits) | {n:,} numbers | {contains_s:.2f} s "
        f"| {n / contains_s:,.0f}/s |",
    ]
    body = "| step | size | time | rate |\n|---|---|---|---|\n" + "\n".join(rows)
    print(body)
    append_section("Messages: personalization, segments, suppression list (bench_messages)", body)


if __name__ == "__main__":
    main()
