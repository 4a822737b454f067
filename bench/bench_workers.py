"""Send throughput of 1, 2 and 4 worker processes on one PostgreSQL ledger against the simulator (fast mode, 50 ms
latency), where the CPU goes (workers, simulator, PostgreSQL, the rest of the machine), duplicates and lost
recipients; and the same one-worker campaign on the SQLite ledger beside PostgreSQL. 10,000 recipients per worker
(a manual send's limit; `--quick`: 4,000, about a minute and a half).

A campaign is worked by one run at a time: a run takes the campaign's hold (`runner_claim.sql`, renewed by its
watcher) and a second run on it stops at once as `busy`. So N workers work N campaigns, one each, of N tenants
with a From number each (different senders: no shared pacing row), all in one ledger: they contend for the ledger
(its connections, the recipients and attempts tables and their indexes), not for a campaign. Each worker is its own
process running `orchestration.sender.runner.run_campaign` (the entry point of the CLI, the console and the Dagster
op; Dagster's own bookkeeping, a few events per run, is left out) with the engine's 64 send threads; the workers
load their modules and open the ledger first, then all start at one signal. The senders' throughput is 0 (no limit)
in the ledger: the bench measures the engine and its ledger, not Twilio's queue.

msg/s is counted from the simulator's own creation instants (`--record`), in the steady window in which every
worker is sending (from 1 s after the start to 0.5 s before the first worker ends); the whole run (start to the
last worker's end) is shown too. CPU seconds are read from /proc: the workers' own (user + system, every thread),
the simulator's, PostgreSQL's (postmaster, its live backends, and the backends that ended, from the postmaster's
reaped-children times), and the whole machine's (/proc/stat), whose remainder is other work on this shared
machine. Duplicates: the simulator's creates per recipient beyond the first; lost: recipients it never created.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import requests

from bench import append_section
from bench.bench_send import provenance, start_simulator
from orchestration.config import LEDGER_URL_ENV, Home
from orchestration.ledger import Ledger
from orchestration.sender import CampaignSettings, send_manual
from orchestration.sender.manual import MAX_MANUAL
from orchestration.sender.pacing import set_sender_throughput
from orchestration.simulator import DEMO_ACCOUNT_SID, DEMO_AUTH_TOKEN
from orchestration.tenants import TokenCipher, TwilioCredentials, save_twilio

REPO = Path(__file__).resolve().parent.parent
PORT = 34340
LATENCY_MS = 50
BODY = "Hi {customer_first_name}, it has been a while! Book again this week and get 10% off."
SETTINGS = CampaignSettings(rate_limit_per_s=0, quiet_hours="off")  # no campaign limit, any hour
STEADY_FROM_S, STEADY_UNTIL_S = 1.0, 0.5  # the steady window: after the start, before the first worker ends
CLOCK_TICK = os.sysconf("SC_CLK_TCK")


def sender_of(tenant_id: int) -> str:
    """Tenant N's own From number."""
    return f"+1500555{1000 + tenant_id:04d}"


def phones_of(tenant_id: int, count: int) -> list[str]:
    """Distinct valid US numbers for tenant N's campaign (no suffix rule: the simulator runs without them)."""
    return [f"+1201{2 + tenant_id}{i:06d}" for i in range(count)]


# --- CPU from /proc ------------------------------------------------------------------------------------------


def _stat_fields(pid: int) -> list[str]:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def process_cpu_s(pid: int, children: bool = False) -> float:
    """User + system CPU seconds of a process (with `children`: also of its ended children it reaped)."""
    fields = _stat_fields(pid)
    ticks = int(fields[11]) + int(fields[12]) + (int(fields[13]) + int(fields[14]) if children else 0)
    return ticks / CLOCK_TICK


def postgres_cpu_s(postmaster: int) -> float:
    """PostgreSQL's CPU seconds so far: the postmaster (with its reaped backends) and its live children."""
    total = process_cpu_s(postmaster, children=True)
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = _stat_fields(int(entry.name))
            except (OSError, IndexError):
                continue  # ended meanwhile: counted by the postmaster's reaped time
            if int(fields[1]) == postmaster:
                total += (int(fields[11]) + int(fields[12])) / CLOCK_TICK
    return total


def machine_cpu_s() -> float:
    """CPU seconds every core of the machine has been busy so far (/proc/stat: all but idle and iowait)."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    busy = sum(values[:8]) - values[3] - values[4]  # user nice system idle iowait irq softirq steal
    return busy / CLOCK_TICK


# --- one point ------------------------------------------------------------------------------------------------


@dataclass
class Point:
    """What one point measured."""

    ledger: str
    workers: int
    recipients: int
    steady_rate: float = 0.0
    steady_s: float = 0.0
    whole_rate: float = 0.0
    whole_s: float = 0.0
    cpu: dict[str, float] = field(default_factory=dict)  # CPU seconds during the run, by who
    duplicates: int = 0
    lost: int = 0
    not_sent_in_ledger: int = 0
    per_worker: list[float] = field(default_factory=list)  # each worker's own msg/s over its own run
    load: tuple[float, float, float] = (0.0, 0.0, 0.0)


def _campaigns(home: Home, ledger: Ledger, workers: int, per_campaign: int, base_url: str) -> dict[int, int]:
    """Tenants 1..N, each sending from its own number through the simulator, each with a queued campaign."""
    cipher = TokenCipher.for_home(home)
    campaigns = {}
    for tenant_id in range(1, workers + 1):
        credentials = TwilioCredentials(DEMO_ACCOUNT_SID, DEMO_AUTH_TOKEN, sender_of(tenant_id), api_base_url=base_url)
        save_twilio(ledger, tenant_id, credentials, cipher)
        with ledger.write() as con:
            set_sender_throughput(con, tenant_id, sender_of(tenant_id), 0)
        people = [(phone, f"Pat{i}") for i, phone in enumerate(phones_of(tenant_id, per_campaign))]
        campaigns[tenant_id] = send_manual(ledger, tenant_id, people, BODY, f"Workers {tenant_id}/{workers}",
                                           settings=SETTINGS).campaign_id  # fmt: skip
    return campaigns


def _start_workers(home: Home, campaigns: dict[int, int], ledger_url: str | None) -> list[subprocess.Popen]:
    env = {**os.environ, "BKNTC_SMS_HOME": str(home.root), "PYTHONPATH": str(REPO)}
    env.pop(LEDGER_URL_ENV, None)
    if ledger_url:
        env[LEDGER_URL_ENV] = ledger_url
    return [
        subprocess.Popen(
            [sys.executable, "-m", "bench.bench_workers", "--worker", str(tenant_id), str(campaign_id)],
            env=env,
            cwd=REPO,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        for tenant_id, campaign_id in campaigns.items()
    ]


def one_point(root: Path, simulator: subprocess.Popen, record: Path, workers: int, per_campaign: int,
              ledger_url: str | None, postmaster: int | None) -> Point:  # fmt: skip
    """N workers, each working its own campaign of `per_campaign` recipients to the end, started at one signal."""
    base_url = f"http://127.0.0.1:{PORT}"
    requests.post(f"{base_url}/_sim/reset", timeout=30).raise_for_status()
    name = "postgresql" if ledger_url else "sqlite"
    home = Home.resolve(root / f"{name}-{workers}").ensure()
    ledger = Ledger(ledger_url or home.ledger_file)
    campaigns = _campaigns(home, ledger, workers, per_campaign, base_url)
    processes = _start_workers(home, campaigns, ledger_url)
    for process in processes:
        if process.stdout.readline().strip() != "ready":
            raise RuntimeError(f"a worker did not start (exit {process.wait()})")
    point = Point(name, workers, workers * per_campaign, load=os.getloadavg())
    before = {"simulator": process_cpu_s(simulator.pid), "machine": machine_cpu_s(),
              "postgresql": postgres_cpu_s(postmaster) if postmaster else 0.0}  # fmt: skip
    started = time.time()
    for process in processes:
        process.stdin.write("go\n")
        process.stdin.flush()
    results = []
    for process in processes:
        out, _ = process.communicate(timeout=1800)
        if process.returncode != 0:
            raise RuntimeError(f"a worker failed (exit {process.returncode})")
        results.append(json.loads(out.strip().splitlines()[-1]))
    ended = time.time()
    point.cpu = {
        "workers": sum(r["cpu_s"] for r in results),
        "simulator": process_cpu_s(simulator.pid) - before["simulator"],
        "postgresql": postgres_cpu_s(postmaster) - before["postgresql"] if postmaster else 0.0,
        "machine": machine_cpu_s() - before["machine"],
    }
    point.cpu["other"] = point.cpu["machine"] - point.cpu["workers"] - point.cpu["simulator"] - point.cpu["postgresql"]
    instants, per_phone = [], Counter()
    for line in record.read_text(encoding="utf-8").splitlines():
        message = json.loads(line)
        instants.append(message["_sim"]["created"])
        per_phone[message["to"]] += 1
    instants.sort()
    window = (started + STEADY_FROM_S, min(r["finished"] for r in results) - STEADY_UNTIL_S)
    point.steady_s = window[1] - window[0]
    point.steady_rate = sum(window[0] <= t < window[1] for t in instants) / point.steady_s
    point.whole_s = ended - started
    point.whole_rate = len(instants) / point.whole_s
    expected = [phone for tenant_id in campaigns for phone in phones_of(tenant_id, per_campaign)]
    point.duplicates = sum(n - 1 for n in per_phone.values() if n > 1)
    point.lost = sum(per_phone[phone] == 0 for phone in expected)
    point.per_worker = [r["sent"] / (r["finished"] - r["started"]) for r in results]
    with ledger.read() as con:
        point.not_sent_in_ledger = con.execute(
            "SELECT count(*) FROM recipients WHERE state <> 'sent'").fetchone()[0]  # fmt: skip
    if ledger_url:
        from orchestration.ledger.postgres import close_pools

        close_pools()
    assert all(r["stopped"] == "completed" for r in results), results
    print(json.dumps(point.__dict__), flush=True)
    return point


def _server_version(url: str) -> str:
    import psycopg

    with psycopg.connect(url) as con:
        return "PostgreSQL " + con.execute("SHOW server_version").fetchone()[0]


def worker(tenant_id: int, campaign_id: int) -> None:
    """One worker process: everything loaded and the ledger open, then `ready`; sends once told `go`."""
    from orchestration.sender.runner import run_campaign

    home = Home.resolve()
    with Ledger(home.ledger).read() as con:  # the connection (pool) the run will use, opened before the start
        con.execute("SELECT 1").fetchone()
    print("ready", flush=True)
    sys.stdin.readline()
    cpu, started = sum(os.times()[:2]), time.time()
    summary = run_campaign(home, tenant_id, campaign_id)
    finished = time.time()
    print(json.dumps({"tenant_id": tenant_id, "sent": summary.sent, "stopped": summary.stopped, "started": started,
                      "finished": finished, "cpu_s": sum(os.times()[:2]) - cpu}), flush=True)  # fmt: skip


# --- the report ----------------------------------------------------------------------------------------------


def _cores(point: Point, who: str) -> str:
    return f"{point.cpu[who] / point.whole_s:.2f}"


def _our_cpu(point: Point) -> float:
    """CPU seconds of the workers, the simulator and PostgreSQL during the run."""
    return point.cpu["workers"] + point.cpu["simulator"] + point.cpu["postgresql"]


def _row(point: Point, base: Point | None, goal: str) -> str:
    speedup = f"{point.steady_rate / base.steady_rate:.2f}×" if base else "–"
    cpu_per_msg = point.cpu["workers"] / point.recipients * 1000
    pg = f" + PostgreSQL {_cores(point, 'postgresql')}" if point.ledger == "postgresql" else ""
    return (
        f"| {point.ledger} | {point.workers} | {point.recipients:,} | {point.steady_rate:,.0f} msg/s "
        f"({point.steady_s:.1f} s) | {point.whole_rate:,.0f} msg/s ({point.whole_s:.1f} s) | {speedup} | {goal} | "
        f"workers {_cores(point, 'workers')} + simulator {_cores(point, 'simulator')}{pg} + other "
        f"{_cores(point, 'other')} = {_cores(point, 'machine')} of {os.cpu_count()} | {cpu_per_msg:.2f} ms | "
        f"{point.cpu['simulator'] / point.recipients * 1000:.2f} ms"
        + (f" | {point.cpu['postgresql'] / point.recipients * 1000:.2f} ms" if point.ledger == "postgresql" else " | –")
        + f" | {point.duplicates} | {point.lost} | {point.not_sent_in_ledger} | "
        f"{', '.join(f'{x:.1f}' for x in point.load)} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="4,000 recipients per worker (about 2 minutes)")
    parser.add_argument("--per-worker", type=int, default=None,
                        help=f"recipients per worker's campaign (at most {MAX_MANUAL:,}, a manual send's limit)")
    parser.add_argument("--worker", nargs=2, type=int, metavar=("TENANT", "CAMPAIGN"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(*args.worker)
        return
    from tests.fixtures.servers import fresh_database, running_postgres

    per_worker = args.per_worker or (4_000 if args.quick else MAX_MANUAL)
    points: list[Point] = []
    with tempfile.TemporaryDirectory(prefix="bench-workers-") as folder:
        root = Path(folder)
        record = root / "simulator.jsonl"
        pg_dir = Path(tempfile.mkdtemp(prefix="bench-workers-pg-"))
        simulator = start_simulator(LATENCY_MS, PORT, ("--record", str(record)))
        try:
            with running_postgres(pg_dir) as server:
                postmaster = int((pg_dir / "data" / "postmaster.pid").read_text().split()[0])
                server_version = _server_version(server)
                for workers in (1, 2, 4):
                    points.append(one_point(root, simulator, record, workers, per_worker, fresh_database(server),
                                            postmaster))  # fmt: skip
                points.append(one_point(root, simulator, record, 1, per_worker, None, None))
        finally:
            simulator.terminate()
            simulator.wait(timeout=10)
            shutil.rmtree(pg_dir, ignore_errors=True)
    pg1 = points[0]
    goals = {1: "–", 2: "≥ 1.8×", 4: "≥ 3.2×"}
    lines = [
        "| ledger | workers (processes) | recipients | steady msg/s (window) | whole run msg/s | speed-up vs 1 "
        "(steady) | goal | cores busy during the run | worker CPU per message | simulator CPU per message | "
        "PostgreSQL CPU per message | duplicates | lost | not sent in ledger | load average at start |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for point in points[:3]:
        lines.append(_row(point, pg1 if point.workers > 1 else None, goals[point.workers]))
    lines.append(_row(points[3], None, "(side by side with PostgreSQL, 1 worker)"))
    sqlite = points[3]
    cores = os.cpu_count() or 1
    lines += [
        "",
        "What bounds it: the CPU of workers + simulator + PostgreSQL per message, "
        + ", ".join(
            f"{_our_cpu(p) / p.recipients * 1000:.2f} ms with {p.workers} worker(s) (at most "
            f"{cores * p.recipients / _our_cpu(p):,.0f} msg/s if they had all {cores} cores)"
            for p in points[:3]
        )
        + f"; one worker kept {_our_cpu(pg1) / pg1.whole_s:.2f} cores busy (worker + simulator + PostgreSQL), so "
        f"{cores} cores allow at most {cores * pg1.whole_s / _our_cpu(pg1):.2f}× its rate with no other work on "
        "the machine.",
        "",
        f"One worker, the same campaign ({per_worker:,} recipients): SQLite {sqlite.steady_rate:,.0f} msg/s, "
        f"PostgreSQL {pg1.steady_rate:,.0f} msg/s (PostgreSQL / SQLite = {pg1.steady_rate / sqlite.steady_rate:.2f}×).",
        "",
        f"N workers = N campaigns of {per_worker:,} recipients, one per tenant, each tenant sending from its own "
        "number (a campaign is held by one run at a time: a second run on it stops as `busy`), in one ledger; each "
        "worker a process running `run_campaign` with 64 send threads, all started at one signal. Simulator: one "
        f"process, `--latency-ms {LATENCY_MS}`, fast mode, no suffix errors, `--record` for the creation instants. "
        f"PostgreSQL: {server_version} from `tests/fixtures/servers.running_postgres` (fsync off, as in the tests), "
        "a fresh database per point. Cores busy = CPU seconds / whole-run seconds; `other` is the rest of the "
        "machine (other work on this shared machine, and this bench's parent). "
        f"Run with{'' if args.quick else 'out'} `--quick`; {provenance()}.",
    ]
    text = "\n".join(lines)
    print(text)
    append_section("Send workers on one PostgreSQL ledger, and SQLite beside it (bench_workers)", text)


if __name__ == "__main__":
    main()
