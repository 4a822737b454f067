"""The contention scenario's worker processes: `python -m tests.reliability.workers ROLE SPEC_JSON`.

Each works one home folder until its deadline, catches every exception (a lock error must never surface) and
writes what it did and saw to the JSON file named in its spec.
"""

from __future__ import annotations

import json
import random
import sys
import threading
import time
import traceback
from datetime import datetime
from pathlib import Path
from typing import Any

from orchestration.audiences import AudienceQuery, preview
from orchestration.config import Home
from orchestration.ledger import Ledger
from orchestration.ledger.suppression import SuppressionList
from orchestration.sender import CampaignSettings, create_campaign, delivery_log, launch, pause, progress, run_campaign
from orchestration.source.folder import SnapshotFolder
from orchestration.warehouse import Warehouse
from orchestration.warehouse.sync import sync

AUDIENCE_SEGMENT = "recent_bookers"
SUPPRESSION_POOL = [f"+1312555{n:04d}" for n in range(1000, 1200)]  # numbers no synthetic customer has


def _error(errors: list[dict], what: str) -> None:
    errors.append({"what": what, "error": traceback.format_exc(limit=3)})


def preview_and_logs(spec: dict[str, Any]) -> dict[str, Any]:
    """The console's reads in a loop: an audience preview, then the delivery log and progress of the newest
    campaign."""
    home, deadline = Home.resolve(spec["home"]), spec["deadline"]
    warehouse, ledger = Warehouse(home.warehouse), Ledger(home.ledger)
    query = AudienceQuery(1, AUDIENCE_SEGMENT, exclude_suppressed=True, as_of=datetime.fromisoformat(spec["as_of"]))
    previews, logs, errors = [], [], []
    while time.time() < deadline:
        started = time.time()
        try:
            result = preview(warehouse, ledger, query, sample=20)
            previews.append([started, time.time() - started, result.count])
        except Exception:  # noqa: BLE001 - the point is to see any error at all
            _error(errors, "preview")
        started = time.time()
        try:
            with ledger.read() as con:
                newest = con.execute("SELECT max(campaign_id) FROM campaigns WHERE tenant_id = 1").fetchone()[0]
            if newest is not None:
                rows = len(delivery_log(ledger, 1, newest, limit=200))
                progress(ledger, 1, newest)
                logs.append([started, time.time() - started, rows])
        except Exception:  # noqa: BLE001
            _error(errors, "delivery log")
        time.sleep(0.02)
    return {"previews": previews, "logs": logs, "errors": errors}


def refresh(spec: dict[str, Any]) -> dict[str, Any]:
    """Audience refreshes back to back: the whole sync, each publishing a new warehouse."""
    home, deadline = Home.resolve(spec["home"]), spec["deadline"]
    as_of = datetime.fromisoformat(spec["as_of"])
    intervals, errors = [], []
    while time.time() < deadline:
        started = time.time()
        try:
            sync(SnapshotFolder(Path(spec["source"])), Warehouse(home.warehouse), as_of)
            intervals.append([started, time.time()])
        except Exception:  # noqa: BLE001
            _error(errors, "sync")
    return {"syncs": intervals, "errors": errors}


def send(spec: dict[str, Any]) -> dict[str, Any]:
    """Campaigns one after another (create, launch from the warehouse, run); paused at the deadline."""
    home, deadline = Home.resolve(spec["home"]), spec["deadline"]
    warehouse, ledger = Warehouse(home.warehouse), Ledger(home.ledger)
    as_of = datetime.fromisoformat(spec["as_of"])
    campaigns, errors = [], []
    settings = CampaignSettings(rate_limit_per_s=spec["rate"], retry_base_seconds=0.05)
    while time.time() < deadline:
        try:
            draft = create_campaign(ledger, 1, f"Contention {len(campaigns) + 1}", "Hi {customer_first_name}!",
                                    AudienceQuery(1, AUDIENCE_SEGMENT, as_of=as_of), settings)  # fmt: skip
            launched = launch(ledger, warehouse, 1, draft.campaign_id)
            outcome: dict[str, Any] = {}

            def work(campaign_id: int = launched.campaign_id, outcome: dict = outcome) -> None:
                try:
                    outcome["summary"] = run_campaign(home, 1, campaign_id).as_dict()
                except Exception:  # noqa: BLE001
                    _error(errors, "campaign run")

            runner = threading.Thread(target=work)
            runner.start()
            while runner.is_alive() and time.time() < deadline:
                runner.join(0.1)
            if runner.is_alive():
                pause(ledger, 1, launched.campaign_id, reason="contention window over")
                runner.join()
            campaigns.append({"campaign_id": launched.campaign_id, "recipients": launched.recipient_count,
                              **outcome})  # fmt: skip
        except Exception:  # noqa: BLE001
            _error(errors, "campaign")
            time.sleep(0.2)
    return {"campaigns": campaigns, "errors": errors}


def suppression_edits(spec: dict[str, Any]) -> dict[str, Any]:
    """Adds and removes numbers of a reserved pool at random; keeps what the list must hold afterwards."""
    home, deadline = Home.resolve(spec["home"]), spec["deadline"]
    suppressed = SuppressionList(Ledger(home.ledger), 1)
    rng = random.Random(spec.get("seed", 1))
    expected: set[str] = set()
    operations, errors = 0, []
    while time.time() < deadline:
        number = rng.choice(SUPPRESSION_POOL)
        try:
            if rng.random() < 0.6:
                if suppressed.add(number, reason="contention"):
                    expected.add(number)
            elif suppressed.remove(number):
                expected.discard(number)
            operations += 1
        except Exception:  # noqa: BLE001
            _error(errors, "suppression edit")
        time.sleep(0.005)
    return {"operations": operations, "expected": sorted(expected), "errors": errors}


ROLES = {"preview": preview_and_logs, "refresh": refresh, "send": send, "suppression": suppression_edits}

if __name__ == "__main__":
    role, spec_json = sys.argv[1], sys.argv[2]
    spec = json.loads(spec_json)
    result = ROLES[role](spec)
    Path(spec["out"]).write_text(json.dumps(result), encoding="utf-8")
