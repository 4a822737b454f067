"""Contention: the console's reads, audience refreshes, a running send and suppression edits, all at once in
separate processes on one home folder. No lock error surfaces, no write is lost, previews stay right and fast."""

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
    seconds_window,
    simulator_process,
    write_figures,
)
from tests.sending import with_twilio

CUSTOMERS = 40_000  # two tenants; one sync takes a few seconds on 2 cores, so refreshes overlap everything
SEND_RATE = 40  # messages/s


def _latency(samples: list[list[float]]) -> dict[str, float | int | None]:
    values = [s[1] * 1000 for s in samples]
    return {"n": len(values), "p50_ms": percentile(values, 50), "p95_ms": percentile(values, 95),
            "max_ms": max(values) if values else None}  # fmt: skip


def _during(samples: list[list[float]], intervals: list[list[float]]) -> list[list[float]]:
    return [s for s in samples if any(a <= s[0] <= b for a, b in intervals)]


@pytest.mark.slow
def test_reads_refreshes_sends_and_edits_at_once_surface_no_lock_error_and_lose_no_write(home, tmp_path):
    seconds = seconds_window()
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

    with simulator_process(tmp_path, "--latency-ms", "10") as simulator:
        env = cli_env(home, simulator.base_url, http_timeout=5)
        deadline = time.time() + 2 + seconds  # the workers import for about a second before the window opens
        processes = {}
        for role in workers.ROLES:
            spec = {"home": str(home.root), "deadline": deadline, "as_of": as_of.isoformat(), "source": str(source),
                    "rate": SEND_RATE, "out": str(tmp_path / f"{role}.json"), "seed": 3}  # fmt: skip
            processes[role] = subprocess.Popen(
                [sys.executable, "-m", "tests.reliability.workers", role, json.dumps(spec)], env=env, cwd=ROOT,
                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)  # fmt: skip
        outputs = {role: p.communicate(timeout=seconds + 180)[0] for role, p in processes.items()}
        accepted = simulator.accepted()

    assert {role: p.returncode for role, p in processes.items()} == dict.fromkeys(workers.ROLES, 0), outputs
    seen = {role: json.loads(Path(tmp_path / f"{role}.json").read_text()) for role in workers.ROLES}
    syncs, previews = seen["refresh"]["syncs"], seen["preview"]["previews"]
    campaigns = seen["send"]["campaigns"]
    ids = tuple(c["campaign_id"] for c in campaigns)
    marks = ",".join("?" * len(ids))
    states = Counter({(r[0], r[1]): r[2] for r in ledger_query(
        home.ledger, f"SELECT campaign_id, state, count(*) FROM recipients WHERE campaign_id IN ({marks}) "
        "GROUP BY 1, 2", ids)})  # fmt: skip
    ledger_sids = sorted(r[0] for r in ledger_query(
        home.ledger, f"SELECT sid FROM recipients WHERE campaign_id IN ({marks}) AND state = 'sent'", ids))
    kept = set(SuppressionList(ledger, 1).numbers()) & set(workers.SUPPRESSION_POOL)
    errors = {role: seen[role]["errors"] for role in workers.ROLES}
    write_figures("contention", {
        "seconds": seconds, "seconds_source": f"${SECONDS_ENV}" if os.environ.get(SECONDS_ENV) else "the default",
        "customers": CUSTOMERS, "processes": list(workers.ROLES),
        "syncs_completed": len(syncs),
        "sync_seconds": [round(b - a, 2) for a, b in syncs],
        "previews": len(previews), "preview_count_expected": baseline,
        "previews_with_a_wrong_count": sum(p[2] != baseline for p in previews),
        "preview_latency_during_refresh": _latency(_during(previews, syncs)),
        "preview_latency_overall": _latency(previews),
        "preview_latency_alone_before": _latency(quiet),
        "log_queries": len(seen["preview"]["logs"]), "log_latency": _latency(seen["preview"]["logs"]),
        "campaigns_launched": len(campaigns),
        "recipients_frozen": sum(c["recipients"] for c in campaigns),
        "messages_sent": len(ledger_sids), "accepted_by_simulator": len(accepted),
        "suppression_edits": seen["suppression"]["operations"],
        "suppression_lost_writes": len(kept ^ set(seen["suppression"]["expected"])),
        "lock_errors": sum("lock" in e["error"].lower() for errs in errors.values() for e in errs),
        "errors": errors,
    })  # fmt: skip
    assert errors == dict.fromkeys(workers.ROLES, []), errors
    assert "lock" not in "".join(outputs.values()).lower()
    assert len(syncs) >= 2 and len(previews) > 10 and campaigns
    assert [p[2] for p in previews] == [baseline] * len(previews)
    assert kept == set(seen["suppression"]["expected"])
    assert not [key for key in states if key[1] == "sending"]
    for campaign in campaigns:
        assert sum(n for (cid, _), n in states.items() if cid == campaign["campaign_id"]) == campaign["recipients"]
    assert ledger_sids == sorted(m["sid"] for m in accepted)
