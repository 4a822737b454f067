"""Contention: the console's reads, audience refreshes, a running send and suppression edits, all at once in
separate processes on one home folder. No lock error surfaces, no write is lost, previews stay right.

Everything here counts events, never seconds: the four workers run until each has done its target number of
operations (`TARGETS`), so a slow or loaded machine only makes the test longer. What fails it is an error, a wrong
figure, or a hang: a worker whose counts do not move for `STALL_S` (or the whole scenario outlasting
`HARD_DEADLINE_S`), reported with every worker's counts. `$BKNTC_RELIABILITY_SECONDS` (60 for the full report)
keeps the load going at least that long once the targets are met, for more latency samples.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from orchestration.audiences import AudienceQuery, preview
from orchestration.ledger.suppression import SuppressionList
from orchestration.source.folder import SnapshotFolder
from orchestration.source.synthetic import as_of_default, generate, write_snapshot
from orchestration.warehouse import Warehouse
from orchestration.warehouse.sync import sync
from tests.reliability import workers
from tests.reliability.harness import (
    ROOT,
    SECONDS_ENV,
    cli_env,
    ledger_query,
    percentile,
    simulator_process,
    write_figures,
)
from tests.sending import with_twilio

CUSTOMERS = 40_000  # two tenants; one sync takes a few seconds on 2 cores, so refreshes overlap everything
SEND_RATE = 40  # messages/s
TARGETS = {  # what each worker must have done before the scenario ends (each keeps going until all are done)
    "preview": {"previews": 20, "logs": 10},  # audience previews; delivery log + progress reads of a campaign
    "refresh": {"syncs": 2},  # whole syncs, each publishing a new warehouse
    "send": {"completed": 1},  # campaigns launched from the warehouse and sent to the end
    "suppression": {"operations": 200},  # suppression-list adds and removes
}
STALL_S = 300.0  # a worker whose counts stay the same this long is hung (a sync takes ~4 s on an idle 2-core box)
HARD_DEADLINE_S = 1800.0  # the safety net of the whole scenario, however slow the machine


def _latency(samples: list[list[float]]) -> dict[str, float | int | None]:
    values = [s[1] * 1000 for s in samples]
    return {"n": len(values), "p50_ms": percentile(values, 50), "p95_ms": percentile(values, 95),
            "max_ms": max(values) if values else None}  # fmt: skip


def _during(samples: list[list[float]], intervals: list[list[float]]) -> list[list[float]]:
    return [s for s in samples if any(a <= s[0] <= b for a, b in intervals)]


def _progress(control: Path) -> dict[str, dict]:
    """Each worker's last published counts (see workers.Pace)."""
    seen = {}
    for role in workers.ROLES:
        try:
            seen[role] = json.loads((control / f"{role}.progress.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            seen[role] = {"counts": {}, "done": False}
    return seen


def _watch(processes: dict[str, subprocess.Popen], control: Path, hard_deadline: float) -> str:
    """Waits for the workers to end by themselves; "" when they did, else why the test stopped them (a worker
    that made no progress for STALL_S, or the hard deadline). Never fails because the machine is slow."""
    last: dict[str, tuple[str, float]] = {}
    problem = ""
    while any(p.poll() is None for p in processes.values()):
        now = time.time()
        for role, seen in _progress(control).items():
            state = json.dumps(seen, sort_keys=True)
            if last.get(role, ("", 0.0))[0] != state:
                last[role] = (state, now)
            elif processes[role].poll() is None and now - last[role][1] > STALL_S:
                problem = f"the {role} worker made no progress for {STALL_S:.0f} s (a hang): {seen}"
        all_done = all((control / f"{role}.done").exists() for role in processes)
        for role, process in processes.items():
            if process.poll() is not None and not all_done:  # the others would wait for it until the deadline
                problem = problem or f"the {role} worker ended (exit {process.returncode}) before every target was met"
        if not problem and now > hard_deadline:
            problem = f"the workers had not reached their targets {HARD_DEADLINE_S:.0f} s after they started"
        if problem:
            (control / "stop").touch()
            break
        time.sleep(0.5)
    give_up = time.time() + STALL_S  # after a stop, the live workers end within one operation
    for process in processes.values():
        try:
            process.wait(timeout=max(1.0, give_up - time.time()))
        except subprocess.TimeoutExpired:
            process.kill()
            problem = problem or "a worker did not stop"
    return problem


@pytest.mark.slow
def test_reads_refreshes_sends_and_edits_at_once_surface_no_lock_error_and_lose_no_write(home, tmp_path):
    min_seconds = float(os.environ.get(SECONDS_ENV) or 0)  # the load's minimum length, for the full report only
    as_of = as_of_default()
    source = tmp_path / "source"
    write_snapshot(generate(CUSTOMERS, 2, seed=5, as_of=as_of), source)
    sync(SnapshotFolder(source), Warehouse(home.warehouse), as_of)
    ledger = with_twilio(home)
    query = AudienceQuery(1, workers.AUDIENCE_SEGMENT, exclude_suppressed=True, as_of=as_of)
    baseline = preview(Warehouse(home.warehouse), ledger, query, sample=0).count
    quiet = []
    for _ in range(20):  # the same preview with nothing else running, for comparison
        started = time.time()
        preview(Warehouse(home.warehouse), ledger, query, sample=20)
        quiet.append([started, time.time() - started])

    control = tmp_path / "control"
    control.mkdir()
    with simulator_process(tmp_path, "--latency-ms", "10") as simulator:
        env = cli_env(home, simulator.base_url, http_timeout=5)
        started = time.time()
        hard_deadline = started + HARD_DEADLINE_S
        processes = {}
        for role in workers.ROLES:
            spec = {"home": str(home.root), "as_of": as_of.isoformat(), "source": str(source), "rate": SEND_RATE,
                    "out": str(tmp_path / f"{role}.json"), "seed": 3, "control": str(control), "targets": TARGETS,
                    "hard_deadline": hard_deadline, "min_until": started + min_seconds}  # fmt: skip
            processes[role] = subprocess.Popen(
                [sys.executable, "-m", "tests.reliability.workers", role, json.dumps(spec)], env=env, cwd=ROOT,
                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)  # fmt: skip
        problem = _watch(processes, control, hard_deadline)
        elapsed = time.time() - started
        outputs = {role: p.communicate()[0] for role, p in processes.items()}
        accepted = simulator.accepted()

    if problem:
        pytest.fail(f"{problem}; counts: {_progress(control)}; output: {outputs}")
    assert {role: p.returncode for role, p in processes.items()} == dict.fromkeys(workers.ROLES, 0), outputs
    seen = {role: json.loads(Path(tmp_path / f"{role}.json").read_text()) for role in workers.ROLES}
    syncs, previews = seen["refresh"]["syncs"], seen["preview"]["previews"]
    campaigns = seen["send"]["campaigns"]
    completed = [c for c in campaigns if c.get("summary", {}).get("stopped") == "completed"]
    ids = tuple(c["campaign_id"] for c in campaigns)
    marks = ",".join("?" * len(ids))
    states = Counter({(r[0], r[1]): r[2] for r in ledger_query(
        home.ledger, f"SELECT campaign_id, state, count(*) FROM recipients WHERE campaign_id IN ({marks}) "
        "GROUP BY 1, 2", ids)})  # fmt: skip
    ledger_sids = sorted(r[0] for r in ledger_query(
        home.ledger, f"SELECT sid FROM recipients WHERE campaign_id IN ({marks}) AND state = 'sent'", ids))
    kept = set(SuppressionList(ledger, 1).numbers()) & set(workers.SUPPRESSION_POOL)
    errors = {role: seen[role]["errors"] for role in workers.ROLES}
    during_refresh = _during(previews, syncs)
    write_figures("contention", {
        "targets": TARGETS, "elapsed_s": round(elapsed, 1), "min_seconds": min_seconds,
        "min_seconds_source": f"${SECONDS_ENV}" if os.environ.get(SECONDS_ENV) else None,
        "customers": CUSTOMERS, "processes": list(workers.ROLES), "send_segment": workers.SEND_SEGMENT,
        "syncs_completed": len(syncs),
        "sync_seconds": [round(b - a, 2) for a, b in syncs],
        "previews": len(previews), "preview_count_expected": baseline,
        "previews_with_a_wrong_count": sum(p[2] != baseline for p in previews),
        "previews_during_refresh": len(during_refresh),
        "preview_latency_during_refresh": _latency(during_refresh),
        "preview_latency_overall": _latency(previews),
        "preview_latency_alone_before": _latency(quiet),
        "log_queries": len(seen["preview"]["logs"]), "log_latency": _latency(seen["preview"]["logs"]),
        "campaigns_launched": len(campaigns), "campaigns_completed": len(completed),
        "recipients_frozen": sum(c["recipients"] for c in campaigns),
        "messages_sent": len(ledger_sids), "accepted_by_simulator": len(accepted),
        "suppression_edits": seen["suppression"]["operations"],
        "suppression_lost_writes": len(kept ^ set(seen["suppression"]["expected"])),
        "lock_errors": sum("lock" in e["error"].lower() for errs in errors.values() for e in errs),
        "errors": errors,
    })  # fmt: skip
    assert errors == dict.fromkeys(workers.ROLES, []), errors
    assert "lock" not in "".join(outputs.values()).lower()
    for role in workers.ROLES:  # each did at least its number of operations, while the others worked too
        assert seen[role]["cut_short"] == "", (role, seen[role]["cut_short"])
        assert all(seen[role]["counts"][k] >= n for k, n in TARGETS[role].items()), (role, seen[role]["counts"])
    assert len(syncs) >= TARGETS["refresh"]["syncs"] and len(previews) >= TARGETS["preview"]["previews"]
    assert len(completed) >= TARGETS["send"]["completed"], campaigns
    assert during_refresh, "no preview ran while a refresh was publishing: the reads did not overlap the writes"
    assert [p[2] for p in previews] == [baseline] * len(previews)
    assert kept == set(seen["suppression"]["expected"])
    assert not [key for key in states if key[1] == "sending"]
    for campaign in campaigns:
        assert sum(n for (cid, _), n in states.items() if cid == campaign["campaign_id"]) == campaign["recipients"]
    for campaign in completed:  # sent to the end: every recipient is settled, none left pending
        assert states[(campaign["campaign_id"], "pending")] == 0, campaign
    assert ledger_sids == sorted(m["sid"] for m in accepted)
