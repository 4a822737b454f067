"""The contention scenario's worker processes: `python -m tests.reliability.workers ROLE SPEC_JSON`.

Each works one home folder until every role has done its target number of operations (`spec["targets"]`: each
worker marks its own in `spec["control"]` once reached, and keeps working while the others catch up, so the load
lasts until the last one is done), or until the test asks it to stop (a `stop` file there) or a hard deadline
passes. No worker ever ends because some number of seconds went by, except as that safety net. Each catches
every exception (a lock error must never surface), keeps `ROLE.progress.json` current for the test's hang
watchdog, and writes what it did and saw to the JSON file named in its spec.
"""

from __future__ import annotations

import json
import os
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
from orchestration.sender import (
    CampaignSettings,
    create_campaign,
    delivery_log,
    launch,
    pause,
    progress,
    run_campaign,
    status,
)
from orchestration.source.folder import SnapshotFolder
from orchestration.warehouse import Warehouse
from orchestration.warehouse.sync import sync

AUDIENCE_SEGMENT = "recent_bookers"  # what the console previews (about 4,000 of the 40,000 customers)
SEND_SEGMENT = "upcoming"  # what the campaigns send to: about 500, so a campaign finishes while the others work
SUPPRESSION_POOL = [f"+1312555{n:04d}" for n in range(1000, 1200)]  # numbers no synthetic customer has


def _error(errors: list[dict], what: str) -> None:
    errors.append({"what": what, "error": traceback.format_exc(limit=3)})


class Pace:
    """When this worker stops, and what it reports on the way.

    `keep_going()` is true until every role of the scenario reached its target (`ROLE.done` files in the control
    folder) and the optional minimum window (`spec["min_until"]`, epoch seconds) is over, or until the `stop` file
    exists or `spec["hard_deadline"]` passed (then `cut_short` says so). `count(**counts)` publishes this
    worker's counts to `ROLE.progress.json` and marks it done once each reached its target.
    """

    def __init__(self, role: str, spec: dict[str, Any]) -> None:
        self.role, self.spec = role, spec
        self.control = Path(spec["control"])
        self.targets: dict[str, int] = spec["targets"][role]
        self.counts: dict[str, int] = dict.fromkeys(self.targets, 0)
        self.done = False
        self.cut_short = ""
        self._published = 0.0
        self.count()

    def count(self, **counts: int) -> None:
        self.counts.update(counts)
        reached = all(self.counts.get(k, 0) >= n for k, n in self.targets.items())
        if time.time() - self._published < 0.25 and reached == self.done:
            return  # at most four progress files a second, but a target reached is published at once
        self._published = time.time()
        temporary = self.control / f".{self.role}.progress.json"
        temporary.write_text(json.dumps({"counts": self.counts, "done": reached}), encoding="utf-8")
        os.replace(temporary, self.control / f"{self.role}.progress.json")
        if reached and not self.done:
            self.done = True
            (self.control / f"{self.role}.done").touch()

    def keep_going(self) -> bool:
        if self.cut_short:
            return False
        if (self.control / "stop").exists():
            self.cut_short = "stopped by the test"
        elif time.time() >= self.spec["hard_deadline"]:
            self.cut_short = "hard deadline"
        elif all((self.control / f"{role}.done").exists() for role in self.spec["targets"]):
            return time.time() < self.spec.get("min_until", 0)
        return not self.cut_short

    def result(self, **values: Any) -> dict[str, Any]:
        return {**values, "counts": self.counts, "targets": self.targets, "cut_short": self.cut_short}


def preview_and_logs(spec: dict[str, Any]) -> dict[str, Any]:
    """The console's reads in a loop: an audience preview, then the delivery log and progress of the newest
    campaign."""
    pace = Pace("preview", spec)
    home = Home.resolve(spec["home"])
    warehouse, ledger = Warehouse(home.warehouse), Ledger(home.ledger)
    query = AudienceQuery(1, AUDIENCE_SEGMENT, exclude_suppressed=True, as_of=datetime.fromisoformat(spec["as_of"]))
    previews, logs, errors = [], [], []
    while pace.keep_going():
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
        pace.count(previews=len(previews), logs=len(logs))
        time.sleep(0.02)
    return pace.result(previews=previews, logs=logs, errors=errors)


def refresh(spec: dict[str, Any]) -> dict[str, Any]:
    """Audience refreshes back to back: the whole sync, each publishing a new warehouse."""
    pace = Pace("refresh", spec)
    home = Home.resolve(spec["home"])
    as_of = datetime.fromisoformat(spec["as_of"])
    intervals, errors = [], []
    while pace.keep_going():
        started = time.time()
        try:
            sync(SnapshotFolder(Path(spec["source"])), Warehouse(home.warehouse), as_of)
            intervals.append([started, time.time()])
        except Exception:  # noqa: BLE001
            _error(errors, "sync")
        pace.count(syncs=len(intervals))
    return pace.result(syncs=intervals, errors=errors)


def send(spec: dict[str, Any]) -> dict[str, Any]:
    """Campaigns one after another (create, launch from the warehouse, run to the end); the one still running when
    the scenario ends is paused. Counts campaigns sent to the end and messages sent."""
    pace = Pace("send", spec)
    home = Home.resolve(spec["home"])
    warehouse, ledger = Warehouse(home.warehouse), Ledger(home.ledger)
    as_of = datetime.fromisoformat(spec["as_of"])
    campaigns, errors = [], []
    settings = CampaignSettings(rate_limit_per_s=spec["rate"], retry_base_seconds=0.05)
    sent_before = 0  # messages of the campaigns already over

    def counts(running_sent: int = 0) -> dict[str, int]:
        completed = sum(c.get("summary", {}).get("stopped") == "completed" for c in campaigns)
        return {"completed": completed, "messages": sent_before + running_sent}

    while pace.keep_going():
        try:
            draft = create_campaign(ledger, 1, f"Contention {len(campaigns) + 1}", "Hi {customer_first_name}!",
                                    AudienceQuery(1, SEND_SEGMENT, as_of=as_of), settings)  # fmt: skip
            launched = launch(ledger, warehouse, 1, draft.campaign_id)
            outcome: dict[str, Any] = {}

            def work(campaign_id: int = launched.campaign_id, outcome: dict = outcome) -> None:
                try:
                    outcome["summary"] = run_campaign(home, 1, campaign_id).as_dict()
                except Exception:  # noqa: BLE001
                    _error(errors, "campaign run")

            runner = threading.Thread(target=work)
            runner.start()
            while runner.is_alive() and pace.keep_going():
                runner.join(1.0)
                try:  # the watchdog sees a send that moves; a stuck one stops the count
                    pace.count(**counts(status(ledger, 1, launched.campaign_id).counts.get("sent", 0)))
                except Exception:  # noqa: BLE001
                    _error(errors, "campaign status")
            if runner.is_alive():
                pause(ledger, 1, launched.campaign_id, reason="contention scenario over")
                runner.join()
            sent = status(ledger, 1, launched.campaign_id).counts.get("sent", 0)
            campaigns.append({"campaign_id": launched.campaign_id, "recipients": launched.recipient_count,
                              "sent": sent, **outcome})  # fmt: skip
            sent_before += sent
            pace.count(**counts())
        except Exception:  # noqa: BLE001
            _error(errors, "campaign")
            time.sleep(0.2)
    return pace.result(campaigns=campaigns, errors=errors)


def suppression_edits(spec: dict[str, Any]) -> dict[str, Any]:
    """Adds and removes numbers of a reserved pool at random; keeps what the list must hold afterwards."""
    pace = Pace("suppression", spec)
    home = Home.resolve(spec["home"])
    suppressed = SuppressionList(Ledger(home.ledger), 1)
    rng = random.Random(spec.get("seed", 1))
    expected: set[str] = set()
    operations, errors = 0, []
    while pace.keep_going():
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
        pace.count(operations=operations)
        time.sleep(0.005)
    return pace.result(operations=operations, expected=sorted(expected), errors=errors)


ROLES = {"preview": preview_and_logs, "refresh": refresh, "send": send, "suppression": suppression_edits}

if __name__ == "__main__":
    role, spec_json = sys.argv[1], sys.argv[2]
    spec = json.loads(spec_json)
    result = ROLES[role](spec)
    Path(spec["out"]).write_text(json.dumps(result), encoding="utf-8")
