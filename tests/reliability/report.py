"""Writes RELIABILITY.md from the figures the reliability suite measured (test-artifacts/reliability/*.json).

`make reliability` runs it: `python -m tests.reliability.report --print-stamp` before the suite (the commit it
measures, whether orchestration/sender, orchestration/gateway, orchestration/simulator or sql/sender had
uncommitted changes, the date and the machine), then `python -m tests.reliability.report --stamp JSON` after it.
Without `--stamp` (by hand, or `BKNTC_RELIABILITY_REPORT=1 pytest tests/reliability`) the stamp is taken when the
report is written. `--out PATH` writes elsewhere than RELIABILITY.md, `--artifacts DIR` reads other figures.
Nothing here is typed in: every number comes from a JSON file.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tests.reliability.harness import ARTIFACTS, ROOT

REPORT = ROOT / "RELIABILITY.md"
SCENARIOS = ("crash_storm", "provider_faults", "contention", "bad_input", "tenant_isolation", "secrets")
MEASURED_PATHS = ("orchestration/sender", "orchestration/gateway", "orchestration/simulator", "sql/sender")
STAMP_PATTERN = re.compile(r"at commit `([0-9a-f]{40})`")  # what tests/test_reliability_report.py reads


def _git(*args: str) -> str | None:
    try:
        done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def stamp() -> dict[str, Any]:
    """What is being measured, now: HEAD, the measured paths with uncommitted changes (tracked or not), the date
    (UTC) and the machine."""
    commit = _git("rev-parse", "HEAD")
    changes = _git("status", "--porcelain", "--untracked-files=all", "--", *MEASURED_PATHS)
    dirty = sorted({p for p in MEASURED_PATHS for line in (changes or "").splitlines() if p in line})
    return {
        "commit": commit,
        "dirty": bool(changes),
        "dirty_paths": dirty,
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
        "machine": {"system": f"{platform.system()} {platform.release()}", "arch": platform.machine(),
                    "cpus": os.cpu_count(), "cpu_model": _cpu_model(), "python": sys.version.split()[0]},
    }  # fmt: skip


def stamp_line(s: dict[str, Any]) -> str:
    machine = s["machine"]
    if s["commit"] is None:
        tree = "outside a git checkout (no commit to stamp)"
    elif s["dirty"]:
        tree = f"at commit `{s['commit']}`, **dirty** (uncommitted changes to {', '.join(s['dirty_paths'])})"
    else:
        tree = f"at commit `{s['commit']}` (clean: no uncommitted changes to {', '.join(MEASURED_PATHS)})"
    cpu = f", {machine['cpu_model']}" if machine.get("cpu_model") else ""
    return (f"Measured {tree}, started {s['date']}, on {machine['system']} {machine['arch']}, "
            f"{machine['cpus']} CPUs{cpu}, Python {machine['python']}.")  # fmt: skip


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f} ms"


def _latency_row(name: str, figures: dict[str, Any]) -> str:
    return (f"| {name} | {figures['n']} | {_ms(figures['p50_ms'])} | {_ms(figures['p95_ms'])} | "
            f"{_ms(figures['max_ms'])} |")  # fmt: skip


def crash_storm(f: dict[str, Any]) -> list[str]:
    return [
        f"A {f['recipients']:,}-recipient campaign ({f['deliverable']:,} deliverable, {f['undeliverable']} numbers the "
        f"provider refuses) sent at {f['rate_limit_per_s']} msg/s by `bkntc-sms campaign run` in its own process, "
        f"against the simulator in another process recording to `--record FILE`. The send process was ended "
        f"{f['kills']} times at seeded random moments (seed {f['seed']}) and restarted each time: "
        f"{f['sigkills']} SIGKILLs after a random delay, {f['fault_hook_exits']} exits from the test-only crash hook "
        f"between the provider's accept and the ledger's record (`BKNTC_SMS_FAULT`), "
        f"{f['lives_that_ended_by_themselves']} lives that ended by themselves. HTTP timeout "
        f"{f['http_timeout_s']} s (so the lease a dead run leaves expires quickly).",
        "",
        "| figure | value |", "|---|---|",
        f"| kills while work was left | {f['kills_with_work_left']} / {f['kills']} |",
        f"| kills that caught messages accepted by the provider but not yet recorded | "
        f"{f['kills_with_messages_accepted_but_not_recorded']} |",
        f"| distinct recipients caught in that window | {f['recipients_caught_accepted_but_not_recorded']} |",
        f"| of which found by the reconciliation lookup (marked sent, not resent) | "
        f"{f['recovered_by_lookup_not_resent']} |",
        f"| claims released after the lookup found nothing (sent later) | {f['released_unsent_after_lookup']} |",
        f"| messages accepted by the simulator | {f['accepted_by_simulator']:,} |",
        f"| deliverable recipients accepted exactly once | {f['deliverable_accepted_exactly_once']:,} / "
        f"{f['deliverable']:,} |",
        f"| **lost** | **{f['lost']}** |",
        f"| **duplicates** | **{f['duplicates']}** |",
        f"| ledger `sent` rows / their SIDs equal the simulator's SIDs | {f['ledger_sent_rows']:,} / "
        f"{f['ledger_sids_equal_simulator_sids']} |",
        f"| wall time (50 lives + the final run) | {f['elapsed_s']} s |",
    ]


def provider_faults(f: dict[str, Any]) -> list[str]:
    injected = f["injected"]
    stats = f["simulator_stats"]
    return [
        f"{f['recipients']} recipients ({f['refused_by_number']} with a number the provider always refuses). "
        f"Per create the simulator drew: {injected['5xx']:.0%} 5xx (500/503), {injected['429_retry_after_1s']:.0%} "
        f"429 with `Retry-After: 1`, {injected['slow_beyond_timeout']:.0%} accepted but answered after "
        f"{f['slow_answer_after_s']} s (client timeout {f['http_timeout_s']} s), "
        f"{sum(injected['non_retryable'].values()):.0%} non-retryable ({', '.join(injected['non_retryable'])}). "
        f"Max attempts {f['max_attempts']}, retry base {f['retry_base_s']} s doubling, ±{f['backoff_jitter']:.0%} "
        f"jitter. The chance that one recipient meets {f['max_attempts']} retryable answers in a row is at most "
        f"0.35^{f['max_attempts']} = {f['p_exhaust_one_recipient_upper_bound']:.1e} "
        f"({f['p_exhaust_any_recipient_upper_bound']:.1e} for the whole campaign).",
        "",
        "| figure | value |", "|---|---|",
        f"| creates answered by the simulator | {stats.get('creates', 0):,} |",
        f"| 500 / 503 / 429 answers | {stats.get('error_20500', 0)} / {stats.get('error_20503', 0)} / "
        f"{stats.get('error_20429', 0)} |",
        f"| final states | {', '.join(f'{k} {v}' for k, v in sorted(f['final_states'].items()))} |",
        f"| failed, by code (each a non-retryable answer) | "
        f"{', '.join(f'{k}: {v}' for k, v in sorted(f['failed_by_code'].items()))} |",
        f"| slow answers found by the lookup, not resent | {f['slow_answers_recovered_by_lookup']} |",
        f"| most failed attempts before a recipient got through | {f['max_failures_of_a_sent_recipient']} |",
        f"| attempts per recipient (mean) | {f['attempts_per_recipient_mean']} |",
        "| left in `sending` or `pending` | 0 |" if set(f["final_states"]) <= {"sent", "failed"} else
        f"| left unfinished | {f['final_states']} |",
        f"| **duplicates** | **{f['duplicates']}** |",
        f"| wall time / throughput | {f['elapsed_s']} s / {f['run']['throughput_per_s']} msg/s |",
    ]


def contention(f: dict[str, Any]) -> list[str]:
    t = f["targets"]
    window = (f" and for at least {f['min_seconds']:.0f} s ({f['min_seconds_source']})"
              if f.get("min_seconds") else "")  # fmt: skip
    return [
        f"One home folder with {f['customers']:,} synthetic customers, four processes at once, each working until "
        f"all had done their number of operations (at least {t['preview']['previews']} previews and "
        f"{t['preview']['logs']} log reads, {t['refresh']['syncs']} refreshes, {t['send']['completed']} campaign "
        f"sent to the end, {t['suppression']['operations']} suppression edits){window}; it took "
        f"{f['elapsed_s']} s. The console's reads (audience preview, delivery log and progress) in a loop; audience "
        f"refreshes (the whole sync, back to back: {f['syncs_completed']} completed, "
        f"{min(f['sync_seconds'], default=0)}-{max(f['sync_seconds'], default=0)} s each); campaigns launched from "
        f"the warehouse (segment `{f['send_segment']}`) and sent ({f['campaigns_launched']} launched, "
        f"{f['campaigns_completed']} sent to the end, {f['recipients_frozen']:,} recipients frozen, "
        f"{f['messages_sent']:,} sent; the one still running at the end was paused); suppression-list edits "
        f"({f['suppression_edits']:,} adds and removes).",
        "",
        "| figure | value |", "|---|---|",
        f"| lock errors surfaced | {f['lock_errors']} |",
        f"| other errors | {sum(len(v) for v in f['errors'].values())} |",
        f"| previews with a wrong count (expected {f['preview_count_expected']:,}) | "
        f"{f['previews_with_a_wrong_count']} / {f['previews']} |",
        f"| previews while a refresh was publishing | {f['previews_during_refresh']} |",
        f"| suppression writes lost | {f['suppression_lost_writes']} |",
        f"| ledger sent rows / simulator accepted | {f['messages_sent']:,} / {f['accepted_by_simulator']:,} |",
        "",
        "| latency | n | p50 | p95 | max |", "|---|---|---|---|---|",
        _latency_row("preview, alone (before the load)", f["preview_latency_alone_before"]),
        _latency_row("preview, during a refresh", f["preview_latency_during_refresh"]),
        _latency_row("delivery log + progress", f["log_latency"]),
    ]


def bad_input(f: dict[str, Any]) -> list[str]:
    rows = ["| category | clear error | correct result | crash |", "|---|---|---|---|"]
    for category, counts in f["by_category"].items():
        rows.append(f"| {category} | {counts.get('error', 0)} | {counts.get('ok', 0)} | {counts.get('crash', 0)} |")
    return [
        f"{f['cases']} cases: phones (messy formats, overlong, letters, emoji, invisible characters; each checked on "
        "the suppression list and in the warehouse's normalization, which must agree), templates (unknown and "
        "unbalanced shortcodes, 1,600/2,000-character bodies, RTL and emoji text, names), CSV files (BOM, "
        "semicolons, tabs, quotes, formulas, wrong columns, empty, binary, UTF-16, a 1 MB cell, a 50 MB file) "
        "for suppression imports and manual sends, CLI calls (exit code, exactly one `Error:` line, no traceback) "
        "and console inputs (Streamlit AppTest). For every refusal the ledger's rows and the warehouse file are "
        "hashed before and after.",
        "",
        *rows,
        "",
        f"Crashes: **{f['crashes']}**. Refusals that left a partial write: **{f['partial_writes']}**.",
    ]


def tenant_isolation(f: dict[str, Any]) -> list[str]:
    paths = ", ".join(f"{name} ({sum(c.values())})" for name, c in f["calls_by_path"].items())
    return [
        f"`hypothesis`, {f['examples']} examples of 1-4 calls each ({f['calls']} calls over {f['paths']} paths), "
        "every call scoped to tenant A while tenant B's rows (ledger: tenant, credentials, templates, suppression, "
        "campaigns, recipients, attempts; warehouse: every table with a tenant_id) are snapshotted before and "
        "compared after; returned campaigns, samples, logs, exports and CLI output are checked to hold only A's "
        "rows. Ids and numbers are drawn from both tenants on purpose.",
        "",
        f"Paths (calls): {paths}.",
        "",
        f"Examples in which tenant B's rows changed: **{f['examples_where_the_other_tenant_changed']}**.",
    ]


def secrets(f: dict[str, Any]) -> list[str]:
    return [
        "A demo-like run through the real CLI with a random auth token per tenant (one valid, one refused by the "
        "provider): demo-data, sync (Dagster materialization into the home's instance), tenant set-twilio/show/"
        "check, preview, campaign create/launch/run, two test sends, a Dagster send job run in the home's "
        "instance, log and suppression exports, campaign status, and the console's Settings page (AppTest, "
        "including Check credentials). Then every file under the home folder was searched, as bytes, for each "
        f"token in these forms: {', '.join(f['forms_searched'])}; and so was everything the commands printed.",
        "",
        "| figure | value |", "|---|---|",
        f"| files scanned (of which in the Dagster instance) | {f['files_scanned']} ({f['dagster_files_scanned']}) |",
        f"| bytes scanned | {f['bytes_scanned']:,} |",
        f"| kinds of files | {' '.join(f['file_kinds'])} |",
        f"| command outputs scanned | {f['outputs_scanned']} ({f['output_chars_scanned']:,} characters) |",
        f"| **tokens found in clear** | **{len(f['leaks'])}** |",
    ]


TITLES = {
    "crash_storm": ("Crash storm", crash_storm, "tests/reliability/test_crash_storm.py"),
    "provider_faults": ("Provider fault storm", provider_faults, "tests/reliability/test_provider_faults.py"),
    "contention": ("Contention", contention, "tests/reliability/test_contention.py"),
    "bad_input": ("Bad input corpus", bad_input, "tests/reliability/test_bad_input.py"),
    "tenant_isolation": ("Tenant isolation", tenant_isolation, "tests/reliability/test_tenant_isolation.py"),
    "secrets": ("Secrets", secrets, "tests/reliability/test_secrets.py"),
}


def build(artifacts: Path = ARTIFACTS, measured: dict[str, Any] | None = None) -> str:
    """The report's Markdown, from whichever scenario figures exist, stamped with `measured` (default: now)."""
    lines = [
        "# Reliability and security figures",
        "",
        stamp_line(measured or stamp()),
        "",
        "Generated by `make reliability`, which runs `tests/reliability` and then `tests/reliability/report.py` on "
        "the JSON figures the suite wrote to `test-artifacts/reliability/` (the contention load lasts until its "
        "counts are met and at least `$BKNTC_RELIABILITY_SECONDS`, 60 by default there). Each section says when "
        "it was measured.",
    ]
    for name in SCENARIOS:
        path = artifacts / f"{name}.json"
        if not path.exists():
            continue
        figures = json.loads(path.read_text(encoding="utf-8"))
        title, render, test_file = TITLES[name]
        machine = figures["machine"]
        lines += ["", f"## {title}", "",
                  f"_Measured {figures['measured_at']} on {machine['cpus']} CPUs, Python {machine['python']}; "
                  f"`{test_file}`._", "", *render(figures)]  # fmt: skip
    return "\n".join(lines) + "\n"


def write(artifacts: Path = ARTIFACTS, out: Path = REPORT, measured: dict[str, Any] | None = None) -> Path | None:
    """Writes the report (RELIABILITY.md) when at least one scenario has figures; returns its path."""
    if not any((artifacts / f"{name}.json").exists() for name in SCENARIOS):
        return None
    out.write_text(build(artifacts, measured), encoding="utf-8")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.reliability.report", description=__doc__.split("\n")[0])
    parser.add_argument("--print-stamp", action="store_true", help="print what is measured now, as JSON, and exit")
    parser.add_argument("--stamp", help="the JSON --print-stamp printed before the suite ran (default: now)")
    parser.add_argument("--artifacts", type=Path, default=ARTIFACTS, help="where the figures are")
    parser.add_argument("--out", type=Path, default=REPORT, help="the file to write (default: RELIABILITY.md)")
    args = parser.parse_args(argv)
    if args.print_stamp:
        print(json.dumps(stamp()))
        return 0
    written = write(args.artifacts, args.out, json.loads(args.stamp) if args.stamp else None)
    if not written:
        print(f"No figures in {args.artifacts}: run the reliability suite first.", file=sys.stderr)
        return 1
    print(f"Wrote {written}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
