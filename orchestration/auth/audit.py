"""The audit log: who did what, when, to which tenant and object; append-only (the ledger's triggers refuse
UPDATE and DELETE of its rows).

`record` is called inside the core function that performs an action, in that function's own write
transaction when it has one: the row commits with the action or not at all, and it first checks that the
current actor may do the action (a refusal rolls the action back). So every face — console, CLI, Dagster —
is audited and held to the same permissions."""

from __future__ import annotations

import csv
import io
import sqlite3
from pathlib import Path
from typing import Any

import pandas as pd

from orchestration.auth.actor import Actor, current
from orchestration.auth.permissions import PERMISSIONS, require
from orchestration.errors import UserError
from orchestration.ledger.store import Ledger
from orchestration.messages.csv_safe import escape_formula
from orchestration.sqlfiles import load_sql

LAUNCH_ACTIONS = {"segment": "campaign.launch", "manual": "send.manual", "test": "send.test"}
COLUMNS = ("audit_id", "at", "actor", "tenant_id", "action", "object", "detail")
MAX_TEXT = 500


def _insert(con: sqlite3.Connection, who: Actor, tenant_id: int | None, action: str, subject: str,
            detail: str) -> None:
    if action in PERMISSIONS:
        require(con, who, action, tenant_id)
    con.execute(load_sql("auth/audit_insert.sql"), {
        "actor": who.name, "tenant_id": tenant_id, "action": action,
        "object": str(subject)[:MAX_TEXT], "detail": str(detail)[:MAX_TEXT]})


def record(where: Ledger | sqlite3.Connection, tenant_id: int | None, action: str, subject: object = "",
           detail: object = "", actor: Actor | None = None) -> None:
    """Check that the current actor may do `action` to `tenant_id`, and append its row.

    `where` is the action's own open write transaction (preferred: one commit for both) or a Ledger."""
    who = actor or current()
    if isinstance(where, Ledger):
        with where.write() as con:
            _insert(con, who, tenant_id, action, str(subject), str(detail))
    else:
        _insert(where, who, tenant_id, action, str(subject), str(detail))


def authorize(ledger: Ledger, tenant_id: int, action: str) -> None:
    """Refuse early (UserError) an action the current actor may not do, before any work is spent on it; the
    action's `record` checks again in its own transaction."""
    with ledger.read() as con:
        require(con, current(), action, tenant_id)


def campaign(con: sqlite3.Connection, verb: str, changed: Any) -> Any:
    """Record a lifecycle action on a campaign (a launch is named by its kind: campaign, manual or test send)
    and hand the campaign back, so a core function audits in one line."""
    action = LAUNCH_ACTIONS.get(changed.kind, "campaign.launch") if verb == "launch" else f"campaign.{verb}"
    detail = changed.name + (f" — {changed.pause_reason}" if verb == "pause" and changed.pause_reason else "")
    record(con, changed.tenant_id, action, f"campaign {changed.campaign_id}", detail)
    return changed


def describe(changes: dict[str, Any]) -> str:
    """`name=Spa, max_attempts=3`: the settings a change wrote (never secrets: callers pass no token)."""
    return ", ".join(f"{key}={value}" for key, value in sorted(changes.items()))


def entries(
    ledger: Ledger,
    tenant_id: int | None,
    *,
    action: str | None = None,
    actor: str | None = None,
    since: str | None = None,
    until: str | None = None,
    limit: int = 10_000,
) -> pd.DataFrame:
    """Audit rows, newest first: of one tenant, or of every tenant and none (`tenant_id=None`: operators only).

    `action` matches an action or its family (`campaign` matches campaign.launch ...); `since`/`until` are
    ISO-8601 UTC instants (`2026-01-31` works)."""
    if actor is not None and not str(actor).strip():
        actor = None
    params = {"tenant_id": tenant_id, "all_tenants": int(tenant_id is None), "action": action or None,
              "actor": actor, "since": since or None, "until": until or None, "limit": int(limit)}
    with ledger.read() as con:
        rows = con.execute(load_sql("auth/audit_list.sql"), params).fetchall()
    frame = pd.DataFrame([tuple(r) for r in rows], columns=list(COLUMNS))
    frame["tenant_id"] = frame["tenant_id"].astype("Int64")
    return frame


def to_csv(frame: pd.DataFrame) -> str:
    """The rows as CSV text; cells that a spreadsheet would run as formulas are escaped."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for row in frame.itertuples(index=False):
        writer.writerow(["" if pd.isna(v) else escape_formula(str(v)) for v in row])
    return out.getvalue()


def export_csv(ledger: Ledger, tenant_id: int, path: str | Path, **filters: Any) -> int:
    """Write one tenant's audit rows to `path` (written whole, or not at all); returns the row count."""
    target = Path(path)
    if target.is_dir():
        raise UserError(f"{target} is a folder: give a file name, e.g. {target / 'audit.csv'}")
    if not target.parent.is_dir():
        raise UserError(f"Folder {target.parent} does not exist.")
    frame = entries(ledger, tenant_id, limit=10_000_000, **filters)
    partial = target.with_name(target.name + ".partial")
    partial.write_text(to_csv(frame), encoding="utf-8")
    partial.replace(target)
    return len(frame)
