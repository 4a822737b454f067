"""`make bench`: every performance goal measured in one run, comparisons side by side; rewrites BENCHMARKS.md.

Each stage runs in its own process (so peak memory figures are that stage's own) and leaves a JSON result;
`bench.report` turns the results into BENCHMARKS.md and the plots in bench/plots/. `--quick` runs the same
stages at small sizes (under 2 minutes) and writes its report outside the repository.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from bench import BENCHMARKS_MD

REPO = Path(__file__).resolve().parent.parent
# Round 2 of the sender (realistic simulator) and delivery tracking (the callback receiver, polling): run by the
# "extras" stage like the other single-purpose scripts, full size or --quick, their sections folded into the report.
# Issue 17's goals side by side with MariaDB (bench_preview) and the claim-time checks' costs (credits) run there too,
# and the send workers on one PostgreSQL ledger (bench_workers).
SENDER_SCRIPTS = ("bench_reconcile", "bench_sender_limit", "bench_callbacks", "bench_poll", "bench_preview",
                  "bench_credits", "bench_workers")
PLOTS = REPO / "bench" / "plots"

FULL = {
    "customers": 1_000_000, "tenants": 20, "gen_repeats": 3, "parquet_repeats": 3, "csv_repeats": 1,
    "mysql_sync_repeats": 1, "read_sql_repeats": 1, "segment_repeats": 3,
    "scaling": [10_000, 100_000, 1_000_000], "previews": 200, "scale_previews": 100, "materialize_repeats": 3,
    "send_n": 100_000, "curve_n": 20_000, "curve_seconds": 10, "curve_repeats": 3, "rate_seconds": 15,
    "rate_repeats": 3, "pause_repeats": 3, "booknetic_ticks": 4, "booknetic_tick_s": 2.0, "profile_seconds": 10,
    "big_n": 1_000_000, "snapshot_repeats": 3, "big_send_seconds": 30,
}  # fmt: skip
QUICK = {
    **FULL, "quick": True, "customers": 30_000, "gen_repeats": 3, "parquet_repeats": 2, "segment_repeats": 3,
    "scaling": [10_000, 30_000], "previews": 40, "scale_previews": 20, "materialize_repeats": 2,
    "send_n": 2_000, "curve_n": 2_000, "curve_seconds": 1.5, "curve_repeats": 1, "rate_seconds": 3,
    "rate_repeats": 1, "pause_repeats": 1, "booknetic_ticks": 2, "booknetic_tick_s": 1.5, "profile_seconds": 2,
    "big_n": 30_000, "snapshot_repeats": 1, "big_send_seconds": 3,
}  # fmt: skip


def machine() -> dict:
    """Cores, memory, CPU model, load average, commit and date of this run."""
    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.machine())  # fmt: skip
    memory_kb = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                     if line.startswith("MemTotal:"))  # fmt: skip
    commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True, text=True).stdout.strip()
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=REPO, capture_output=True,
                           text=True).stdout.strip()  # fmt: skip
    return {"cpu": model, "cores": os.cpu_count(), "memory_gb": memory_kb / 2**20, "python": platform.python_version(),
            "commit": commit, "dirty": bool(dirty), "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
            "load_start": os.getloadavg()}  # fmt: skip


def run_stage(name: str, work: Path, params: dict) -> dict:
    """One stage in a fresh process; its JSON result."""
    out = work / f"{name}-{time.monotonic_ns()}.json"
    started = time.perf_counter()
    print(f"[{datetime.now():%H:%M:%S}] {name} ...", flush=True)
    subprocess.run([sys.executable, "-m", "bench.run_all", "--stage", name, "--work", str(work),
                    "--params", json.dumps(params), "--out", str(out)], cwd=REPO, check=True)  # fmt: skip
    print(f"[{datetime.now():%H:%M:%S}] {name} done in {time.perf_counter() - started:.0f} s", flush=True)
    return json.loads(out.read_text())


def run_all(params: dict, work: Path) -> dict:
    """Every stage in order; the sync stage's last Parquet warehouse feeds the audience and MariaDB stages."""
    from bench.stages import spread

    results: dict = {"params": params, "machine": machine()}
    started = time.perf_counter()
    results["generate"] = run_stage("generate", work, params)
    warehouse = str(work / "wh-parquet.duckdb")
    syncs: dict = {}
    for fmt, repeats in (("parquet", params["parquet_repeats"]), ("csv", params["csv_repeats"])):
        where = {"source": str(work / f"snapshot-{fmt}"), "target": str(work / f"wh-{fmt}.duckdb")}
        runs = [run_stage("sync_once", work, where) for _ in range(repeats)]
        syncs[fmt] = {"runs": runs, "seconds": spread([r["seconds"] for r in runs]),
                      "rows_per_s": spread([r["rows_per_s"] for r in runs]),
                      "peak_rss_mb": spread([r["peak_rss_mb"] for r in runs])}  # fmt: skip
    results["sync"] = syncs
    (work / "wh-csv.duckdb").unlink(missing_ok=True)
    for fmt in ("csv", "parquet"):
        shutil.rmtree(work / f"snapshot-{fmt}", ignore_errors=True)
    with_warehouse = {**params, "warehouse": warehouse}
    results["audiences"] = run_stage("audiences", work, with_warehouse)
    results["profile_materialize"] = run_stage("profile_materialize", work, with_warehouse)
    results["mariadb"] = run_stage("mariadb", work, with_warehouse)
    (work / "wh-parquet.duckdb").unlink(missing_ok=True)
    results["send"] = run_stage("send", work, params)
    snapshots = [run_stage("snapshot", work, {**params, "send_seconds": params["big_send_seconds"] if i == 0 else 0})
                 for i in range(params["snapshot_repeats"])]  # fmt: skip
    results["snapshot"] = {"runs": snapshots, "seconds": spread([s["snapshot_s"] for s in snapshots]),
                           "peak_rss_mb": spread([s["peak_rss_mb"] for s in snapshots]),
                           "send": snapshots[0].get("send")}  # fmt: skip
    results["extras"] = run_stage("extras", work, params)
    results["machine"]["load_end"] = os.getloadavg()
    results["machine"]["total_s"] = time.perf_counter() - started
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes, a few seconds per measurement")
    parser.add_argument("--stage", help=argparse.SUPPRESS)
    parser.add_argument("--work", help=argparse.SUPPRESS)
    parser.add_argument("--params", help=argparse.SUPPRESS)
    parser.add_argument(
        "--out",
        help="where to write BENCHMARKS.md (default: the repository's; a temporary "
        "folder for --quick); with --stage, where the stage writes its JSON result",
    )
    parser.add_argument("--report-only", metavar="RESULTS_JSON", help="rewrite the report from saved results")
    args = parser.parse_args()
    if args.stage:
        from bench import stages
        from bench.stages import STAGES

        stages.EXTRA_SCRIPTS = (*stages.EXTRA_SCRIPTS, *SENDER_SCRIPTS)

        result = STAGES[args.stage](Path(args.work), json.loads(args.params))
        Path(args.out).write_text(json.dumps(result, default=str))
        return
    from bench.report import summary, write_report

    if args.report_only:
        results = json.loads(Path(args.report_only).read_text())
        out = Path(args.out) if args.out else BENCHMARKS_MD
        write_report(results, out, out.parent / "plots" if args.out else PLOTS)
        return
    params = QUICK if args.quick else FULL
    quick_dir = Path(tempfile.gettempdir()) / "bkntc-bench-quick"
    out = Path(args.out) if args.out else (quick_dir / "BENCHMARKS.md" if args.quick else BENCHMARKS_MD)
    plots = out.parent / "plots" if args.quick or args.out else PLOTS
    work = Path(tempfile.mkdtemp(prefix="bkntc-bench-"))
    try:
        results = run_all(params, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    results["quick"] = args.quick
    plots.mkdir(parents=True, exist_ok=True)
    (plots / "results.json").write_text(json.dumps(results, indent=1, default=str))
    write_report(results, out, plots)
    print(summary(results))
    print(f"Wrote {out} and {plots}/ in {results['machine']['total_s'] / 60:.1f} min")


if __name__ == "__main__":
    main()
