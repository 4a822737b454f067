"""The send engine against the simulator (50 ms latency, fast mode): throughput with full logging, 1M snapshot,
memory, rate-limit accuracy, pause latency, and the Booknetic add-on's cron design for comparison.

The bench tenant's sender throughput is set to 0 (no limit) in the ledger: the sender's pacing is shared by every
run of the tenant and defaults to its type's (a US long code: 1 segment/s), which would measure Twilio's queue,
not the engine. `--throughput-only` runs only the 100,000-recipient figure; `--profile FILE` records it with
py-spy (`--format raw`, folded stacks) and prints the top frames."""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

from bench import append_section, rss_mb
from orchestration.audiences import AudienceQuery
from orchestration.config import Home
from orchestration.ledger import Ledger
from orchestration.sender import (
    CampaignRun,
    CampaignSettings,
    create_campaign,
    gateway_for,
    launch,
    pause,
    send_manual,
    status,
)
from orchestration.sender.pacing import set_sender_throughput
from orchestration.simulator import DEMO_ACCOUNT_SID, DEMO_AUTH_TOKEN, DEMO_FROM
from orchestration.sqlfiles import load_sql
from orchestration.tenants import TokenCipher, TwilioCredentials, save_twilio
from orchestration.warehouse import Warehouse
from orchestration.warehouse.phones import normalize_distinct
from orchestration.warehouse.sync import build_facts

PORT = 34300
TEMPLATE = "Hi {customer_first_name}, it has been a while! Book again at {company_name}: 10% off this week."
BOOKNETIC_PER_TICK, BOOKNETIC_TICK_S = 25, 60


def provenance() -> str:
    """Commit (dirty when orchestration/ or sql/ had uncommitted changes) and load average, for a section."""
    repo = Path(__file__).resolve().parent.parent
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=repo, capture_output=True,
                            text=True).stdout.strip()  # fmt: skip
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--", "orchestration", "sql"],
                           cwd=repo, capture_output=True, text=True).stdout.strip()  # fmt: skip
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    changes = " (+ uncommitted changes in orchestration/ or sql/)" if dirty else ""
    return f"commit `{commit}`{changes}; load average {load}"


def _peakrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def build_warehouse(path: str, customers: int) -> None:
    """A warehouse with `customers` customers of tenant 1, each with a valid unique phone (run in a child)."""
    warehouse = Warehouse(path)
    with warehouse.writer() as con:
        con.execute(load_sql("warehouse/schema.sql"))
        con.execute(
            """
            INSERT INTO customers BY NAME
            SELECT 1 AS tenant_id, i AS customer_id, 'First' || i AS first_name, 'Last' || i AS last_name,
                   'First' || i || ' Last' || i AS full_name, '' AS email,
                   '+1' || (201 + i // 10000000) || lpad(CAST(2000000 + i % 10000000 AS VARCHAR), 7, '0')
                       AS phone_raw,
                   '+1' || (201 + i // 10000000) || lpad(CAST(2000000 + i % 10000000 AS VARCHAR), 7, '0')
                       AS phone_e164,
                   'ok' AS phone_status, '' AS gender
            FROM range(1, $n + 1) AS t(i)
            """,
            {"n": customers},
        )
        phones = con.sql("SELECT 'US' AS region, phone_e164 AS phone FROM customers").to_arrow_table()
        zones = normalize_distinct(phones)  # noqa: F841 (read by DuckDB's replacement scan): as the sync stores them
        con.execute("UPDATE customers AS c SET phone_zones = z.phone_zones FROM zones AS z"
                    " WHERE z.phone = c.phone_e164")
        con.execute("INSERT INTO tenants VALUES (1, 'Bench')")
        con.execute("INSERT INTO company VALUES (1, 'Bench Spa', '', '', '')")
        build_facts(con, datetime.now(UTC))


def start_simulator(latency_ms: float, port: int = PORT, extra: tuple[str, ...] = ()) -> subprocess.Popen:
    """The Twilio simulator in its own process (no suffix errors; `extra` CLI flags such as `--mode realistic`),
    returned once it has printed its URL."""
    command = [str(Path(sys.executable).with_name("bkntc-sms")), "simulator", "--port", str(port),
               "--latency-ms", str(latency_ms), "--no-suffix-errors", *extra]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    process.stdout.readline()
    return process


def simulator_home(root: Path, name: str, port: int = PORT, throughput: float | None = 0) -> tuple[Home, Ledger]:
    """A home folder whose tenant 1 sends from DEMO_FROM through the simulator on `port`; the sender's throughput
    in segments/s set in the ledger (0: no limit, None: the sender type's default)."""
    home = Home.resolve(root / name).ensure()
    ledger = Ledger(home.ledger)
    credentials = TwilioCredentials(DEMO_ACCOUNT_SID, DEMO_AUTH_TOKEN, DEMO_FROM,
                                    api_base_url=f"http://127.0.0.1:{port}")  # fmt: skip
    save_twilio(ledger, 1, credentials, TokenCipher.for_home(home))
    with ledger.write() as con:
        set_sender_throughput(con, 1, DEMO_FROM, throughput)
    return home, ledger


def _segment_campaign(home: Home, ledger: Ledger, customers: int, rate: float = 0) -> tuple[int, float]:
    subprocess.run([sys.executable, "-m", "bench.bench_send", "--build-warehouse", str(home.warehouse),
                    str(customers)], check=True)  # fmt: skip
    settings = CampaignSettings(rate_limit_per_s=rate)
    campaign = create_campaign(ledger, 1, "bench", TEMPLATE, AudienceQuery(1, "all_customers"), settings)
    started = time.perf_counter()
    launch(ledger, Warehouse(home.warehouse), 1, campaign.campaign_id)
    return campaign.campaign_id, time.perf_counter() - started


def _run(home: Home, ledger: Ledger, campaign_id: int, seconds: float | None = None) -> tuple[float, int, list]:
    """Runs the engine (stopping it with a pause after `seconds` when given): (elapsed, sent, RSS samples)."""
    samples: list[float] = []
    run = CampaignRun(ledger, 1, campaign_id, gateway_for(home, ledger, 1),
                      on_chunk=lambda s: samples.append(rss_mb()))  # fmt: skip
    if seconds:
        threading.Timer(seconds, lambda: pause(ledger, 1, campaign_id)).start()
    started = time.perf_counter()
    summary = run.run()
    return time.perf_counter() - started, summary.sent, samples


def _cpu_s(pid: int | str = "self") -> float:
    """User + system CPU seconds of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def throughput(root: Path, recipients: int, simulator_pid: int, profile: Path | None = None) -> list[str]:
    home, ledger = simulator_home(root, "throughput")
    campaign_id, snapshot_s = _segment_campaign(home, ledger, recipients)
    sim_cpu, cpu = _cpu_s(simulator_pid), _cpu_s()
    spy = None
    if profile is not None:
        from bench.stages import PySpy

        spy = PySpy(profile, 60, rate=50)  # the first minute of the run
        spy.__enter__()
    elapsed, sent, _ = _run(home, ledger, campaign_id)
    engine_cpu, sim_cpu = _cpu_s() - cpu, _cpu_s(simulator_pid) - sim_cpu
    current = status(ledger, 1, campaign_id)
    attempts = current.attempts
    lines = [
        f"| throughput, {recipients:,} recipients, fast mode, sender throughput 0 (no limit), 64 threads | "
        f"{sent / elapsed:,.0f} msg/s ({sent:,} sent in {elapsed:.1f} s; {attempts:,} attempt rows; snapshot "
        f"{snapshot_s:.1f} s; CPU per message: engine {engine_cpu / max(sent, 1) * 1000:.2f} ms, simulator "
        f"{sim_cpu / max(sent, 1) * 1000:.2f} ms) | >= 500 |"
    ]
    if spy is not None:
        from bench.stages import categorize

        spy.__exit__(None, None, None)
        found = categorize(spy.stacks())
        lines.append(f"| py-spy, engine on-CPU samples ({found['samples']:,}) | "
                     + "; ".join(f"{name} {share:.0%}" for name, share in found["categories"])
                     + " | - |")  # fmt: skip
        lines.append(
            "| py-spy, top innermost frames | "
            + "; ".join(f"{name} {share:.0%}" for name, share in found["leaves"][:6])
            + " | - |"
        )
    return lines


def big_campaign(root: Path, recipients: int, send_seconds: float) -> list[str]:
    home, ledger = simulator_home(root, "big")
    campaign_id, snapshot_s = _segment_campaign(home, ledger, recipients)
    after_snapshot = _peakrss_mb()
    elapsed, sent, samples = _run(home, ledger, campaign_id, seconds=send_seconds)
    quarter = max(1, len(samples) // 4)
    early, late = sum(samples[:quarter]) / quarter, sum(samples[-quarter:]) / quarter
    return [
        f"| snapshot (launch) of {recipients:,} recipients with rendered bodies | {snapshot_s:.1f} s "
        f"({recipients / snapshot_s:,.0f} rows/s) | <= 30 s for 1M |",
        f"| peak RSS of the send process, snapshot of {recipients:,} | {after_snapshot:.0f} MB | <= 300 MB |",
        f"| RSS while sending from the {recipients:,} campaign ({sent:,} sent in {elapsed:.0f} s) | first quarter "
        f"{early:.0f} MB, last quarter {late:.0f} MB, peak {_peakrss_mb():.0f} MB | flat |",
    ]


def rate_accuracy(root: Path, rate: float, seconds: float) -> str:
    home, ledger = simulator_home(root, f"rate{rate:g}")
    count = int(rate * seconds)
    people = [(f"+1201{3000000 + i:07d}", "") for i in range(count)]
    campaign = send_manual(ledger, 1, people, "Rate test", settings=CampaignSettings(rate_limit_per_s=rate))
    gateway = gateway_for(home, ledger, 1)
    sends: list[float] = []
    send = gateway.send
    gateway.send = lambda to, body: (sends.append(time.perf_counter()), send(to, body))[1]  # time each request
    CampaignRun(ledger, 1, campaign.campaign_id, gateway).run()
    achieved = (len(sends) - 1) / (max(sends) - min(sends))
    return (f"| rate limit {rate:g} msg/s ({count} messages) | {achieved:.2f} msg/s achieved "
            f"({(achieved / rate - 1) * 100:+.1f}%) | +-5% |")  # fmt: skip


def pause_latency(root: Path, rate: float) -> str:
    home, ledger = simulator_home(root, f"pause{rate:g}")
    people = [(f"+1201{4000000 + i:07d}", "") for i in range(5000)]
    campaign = send_manual(ledger, 1, people, "Pause test", settings=CampaignSettings(rate_limit_per_s=rate))
    run = CampaignRun(ledger, 1, campaign.campaign_id, gateway_for(home, ledger, 1))
    worker = threading.Thread(target=run.run)
    worker.start()
    time.sleep(2.0)
    paused_at = time.time()
    pause(ledger, 1, campaign.campaign_id)
    worker.join()
    stopped = time.time() - paused_at
    with ledger.read() as con:
        after = con.execute(
            "SELECT count(*) FROM attempts WHERE campaign_id = ? AND started_at > ?", (campaign.campaign_id, paused_at)
        ).fetchone()[0]
    label = f"{rate:g} msg/s" if rate else "no rate limit"
    return (f"| pause latency at {label} | run stopped {stopped:.2f} s after pause; {after} messages claimed "
            f"after the pause | <= 1 s |")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="5,000 recipients, 50,000 snapshot, short runs")
    parser.add_argument("--throughput-only", action="store_true", help="only the throughput figure")
    parser.add_argument("--profile", metavar="FILE", help="py-spy the throughput run into FILE (raw stacks)")
    parser.add_argument("--build-warehouse", nargs=2, metavar=("PATH", "CUSTOMERS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.build_warehouse:
        build_warehouse(args.build_warehouse[0], int(args.build_warehouse[1]))
        return
    send_n, big_n, rate_s = (5_000, 50_000, 5) if args.quick else (100_000, 1_000_000, 20)
    lines = ["| measure | figure | goal |", "|---|---|---|"]
    simulator = start_simulator(50)
    try:
        with tempfile.TemporaryDirectory(prefix="bench-send-") as folder:
            root = Path(folder)
            profile = Path(args.profile).resolve() if args.profile else None
            measures = [
                lambda: [rate_accuracy(root, 10, rate_s)],
                lambda: [rate_accuracy(root, 50, rate_s)],
                lambda: [pause_latency(root, 50)],
                lambda: [pause_latency(root, 0)],
                lambda: throughput(root, send_n, simulator.pid, profile),
                lambda: big_campaign(root, big_n, 15 if args.quick else 30),
            ]
            for measure in measures[4:5] if args.throughput_only else measures:
                for line in measure():
                    lines.append(line)
                    print(line, flush=True)
    finally:
        simulator.terminate()
        simulator.wait(timeout=10)
    per_s = BOOKNETIC_PER_TICK / BOOKNETIC_TICK_S
    lines += [
        f"| Booknetic add-on design: {BOOKNETIC_PER_TICK} per cron tick, one tick a minute | {per_s:.2f} msg/s: "
        f"{send_n:,} recipients take {send_n / per_s / 3600:,.1f} h | - |",
        "",
        "Simulator: its own process (`bkntc-sms simulator --latency-ms 50`, fast mode), same 2 cores as the engine. "
        "The bench tenant's sender throughput is 0 (no limit) in the ledger. Every message is claimed, sent and "
        "recorded with its attempts-log row; each chunk is one ledger transaction.",
        f"Run with{'' if args.quick else 'out'} `--quick`; {provenance()}.",
    ]
    title = "Send engine: throughput" + ("" if args.throughput_only else ", snapshot, memory, rate limit, pause")
    append_section(f"{title} (bench_send)", "\n".join(lines))


if __name__ == "__main__":
    main()
