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
SCENARIOS = ("crash_storm", "pg_kill_storm", "provider_faults", "contention", "bad_input", "tenant_isolation",
             "secrets")
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
    sim = f["simulator"]
    after = ", ".join(f"{code} {rate:.0%}" for code, rate in sim["errors_after_create"].items())
    return [
        f"A {f['recipients']:,}-recipient campaign ({f['deliverable']:,} accepted by the provider, of which "
        f"{f['later_undelivered_30005_30006']} fail later as delivery statuses; {f['undeliverable']} numbers it "
        f"refuses at create) sent at {f['rate_limit_per_s']} segments/s by `bkntc-sms campaign run` in its own "
        f"process, against the simulator in **realistic mode** in another process (recording every create to "
        f"`--record FILE`): the sender drains {sim['sender_throughput_per_s']} msg/s, so most messages wait in its "
        f"queue with no `date_sent`; the list shows a message {sim['list_lag_s']} s after its creation; 5xx after "
        f"creating the message ({after}) and dropped connections after creating it "
        f"({sim['drop_after_create']:.0%}). The send process was ended {f['kills']} times (seed {f['seed']}), each "
        f"only after that life had messages accepted: {f['sigkills']} SIGKILLs, {f['fault_hook_exits']} exits from "
        f"the test-only crash hook between the provider's accept and the ledger's record (`BKNTC_SMS_FAULT`). "
        f"Lookup settle {f['lookup_settle_s']} s, HTTP timeout {f['http_timeout_s']} s.",
        "",
        "| figure | value |", "|---|---|",
        f"| lives that had messages accepted before their kill | {f['lives_with_progress']} / {f['kills']} |",
        f"| kills that caught messages accepted but not yet recorded | "
        f"{f['kills_with_messages_accepted_but_not_recorded']} |",
        f"| 5xx answers after the message was created / connections dropped after it | "
        f"{f['errors_after_create']} / {f['dropped_after_create']} |",
        f"| claims a dead run left open (`interrupted`), made \"to verify\" | {f['interrupted']:,} |",
        f"| lookups (during the lives / the final run) | {f['lookups']:,} ({f['lookups_during_lives']:,} / "
        f"{f['lookups_of_the_final_run']:,}) |",
        f"| recipients the lookup found (marked sent, not resent) | {f['recovered_sent']:,} |",
        f"| messages still queued at the sender when the storm ended | "
        f"{f['still_queued_at_the_sender_at_the_end']:,} |",
        f"| messages created by the simulator | {f['accepted_by_simulator']:,} |",
        f"| accepted recipients created exactly once | {f['deliverable_accepted_exactly_once']:,} / "
        f"{f['deliverable']:,} |",
        f"| **lost** | **{f['lost']}** |",
        f"| **duplicates** | **{f['duplicates']}** |",
        f"| ledger `sent` rows / their SIDs equal the simulator's SIDs | {f['ledger_sent_rows']:,} / "
        f"{f['ledger_sids_equal_simulator_sids']} |",
        f"| wall time ({f['kills']} lives + the final run) | {f['elapsed_s']} s |",
    ]


def pg_kill_storm(f: dict[str, Any]) -> list[str]:
    return [
        f"Two campaigns of one tenant on one From number ({f['recipients']:,} recipients in all) in one "
        f"**PostgreSQL** ledger, sent at {f['rate_limit_per_s']} segments/s shared through the sender's pacing "
        f"row, each worked by `bkntc-sms campaign run` in its own process (Dagster's storage on the same server), "
        f"{f['workers']} at once; after each of "
        f"{f['rounds']} rounds the workers swap campaigns. The simulator runs as in the crash storm above (seed "
        f"{f['seed']}). Each process was ended only after its life had messages of its campaign accepted: "
        f"{f['sigkills']} SIGKILLs and {f['fault_hook_exits']} exits from the crash hook (`BKNTC_SMS_FAULT`).",
        "",
        "| figure | value |", "|---|---|",
        f"| lives (kills) / lives that had messages accepted first | {f['kills']} / {f['lives_with_progress']} |",
        f"| SIGKILLs mid-work (messages accepted in that life, recipients left after it) | {f['sigkills_mid_work']} / "
        f"{f['sigkills']} |",
        f"| kills that caught messages accepted but not yet recorded | "
        f"{f['kills_with_messages_accepted_but_not_recorded']} |",
        f"| a campaign taken over by the other worker's process after a kill | {f['takeovers_by_the_other_worker']} |",
        f"| claims a dead run left open (`interrupted`) / found by the lookup, not resent | {f['interrupted']:,} / "
        f"{f['recovered_sent']:,} |",
        f"| 5xx answers after the message was created / connections dropped after it | "
        f"{f['errors_after_create']} / {f['dropped_after_create']} |",
        f"| messages created by the simulator (during the lives / by the final runs) | "
        f"{f['accepted_by_simulator']:,} ({f['accepted_during_lives']:,} / "
        f"{f['accepted_by_simulator'] - f['accepted_during_lives']:,}) |",
        f"| **lost** | **{f['lost']}** |",
        f"| **duplicates** | **{f['duplicates']}** |",
        f"| ledger `sent` rows / their SIDs equal the simulator's SIDs | {f['ledger_sent_rows']:,} / "
        f"{f['ledger_sids_equal_simulator_sids']} |",
        f"| wall time (load average at the end) | {f['elapsed_s']} s "
        f"({', '.join(f'{x:.1f}' for x in f['load_average'])}) |",
    ]


def provider_faults(f: dict[str, Any]) -> list[str]:
    injected = f["injected"]
    stats = f["simulator_stats"]
    before = ", ".join(f"{code} {rate:.0%}" for code, rate in injected["5xx_before_create"].items())
    after = ", ".join(f"{code} {rate:.0%}" for code, rate in injected["5xx_after_create"].items())
    return [
        f"{f['recipients']} recipients ({f['refused_by_number']} with a number the provider always refuses). "
        f"Per create the simulator drew: 5xx before creating ({before}), 5xx after creating ({after}), "
        f"{injected['drop_after_create']:.0%} connections dropped after creating, "
        f"{injected['429_retry_after_1s']:.0%} 429 with `Retry-After: 1`, {injected['slow_beyond_timeout']:.0%} "
        f"created but answered after {f['slow_answer_after_s']} s (client timeout {f['http_timeout_s']} s), "
        f"{sum(injected['non_retryable'].values()):.0%} non-retryable ({', '.join(injected['non_retryable'])}); "
        f"{injected['list_errors']:.0%} of the lookups' list requests failed. Max attempts {f['max_attempts']}, "
        f"retry base {f['retry_base_s']} s doubling, ±{f['backoff_jitter']:.0%} jitter; 429s do not consume "
        f"attempts. The chance that one recipient meets {f['max_attempts']} attempt-consuming answers in a row is "
        f"at most {f['attempt_consuming_rate']:.2f}^{f['max_attempts']} = "
        f"{f['p_exhaust_one_recipient_upper_bound']:.1e} ({f['p_exhaust_any_recipient_upper_bound']:.1e} for the "
        f"whole campaign).",
        "",
        "| figure | value |", "|---|---|",
        f"| creates answered by the simulator | {stats.get('creates', 0):,} |",
        f"| 5xx after creating / dropped after creating / slow | {f['errors_after_create']} / "
        f"{f['dropped_after_create']} / {stats.get('slow', 0)} |",
        f"| created without a usable answer, found by the lookup (not resent) | {f['recovered_sent']} of "
        f"{f['created_without_a_usable_answer']} |",
        f"| lookups / of which failed (left to verify, never resent) | {f['lookups']} / {f['lookup_failures']} |",
        f"| throttled attempts (429; no attempt consumed) | {f['throttled_attempts']} |",
        f"| final states | {', '.join(f'{k} {v}' for k, v in sorted(f['final_states'].items()))} |",
        f"| failed, by code (each a non-retryable answer) | "
        f"{', '.join(f'{k}: {v}' for k, v in sorted(f['failed_by_code'].items()))} |",
        f"| most failed attempts before a recipient got through | {f['max_failures_of_a_sent_recipient']} |",
        f"| attempts per recipient (mean) | {f['attempts_per_recipient_mean']} |",
        "| left in `sending` or `pending` | 0 |" if set(f["final_states"]) <= {"sent", "failed"} else
        f"| left unfinished | {f['final_states']} |",
        f"| **duplicates** / **lost** | **{f['duplicates']}** / **{f['lost']}** |",
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
    "pg_kill_storm": ("Kill storm, two workers on PostgreSQL", pg_kill_storm,
                      "tests/reliability/test_pg_kill_storm.py"),
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
