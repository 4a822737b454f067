"""Twilio's message-status precedence, and the one function that applies a status report to the ledger.

A message only moves forward in its lifecycle: queued (accepted, scheduled) < sending < sent < a final status
(delivered, undelivered, failed). A final status never goes back, and the first final status wins, with its error
code. So duplicated and out-of-order status callbacks and polls are harmless: each is kept in `delivery_events`
(append-only), and only one that moves the recipient forward changes it. `unknown` is ours, not Twilio's: polling
gave up after its maximum age; any later Twilio status that is final still replaces it.

A report for a SID that no recipient of the tenant owns changes no recipient. It is logged and kept, unmatched
(a callback can outrun the engine's record of the create that produced it); `adopt_unmatched` applies it once the
SID is recorded on a recipient of the same tenant (the receiver and the poller call it). A report for a SID the
recipient had before a re-send (`delivery_resends`) is kept with that recipient and changes nothing. A final status
applies the rule of its error code (`rules.on_final`) in the same transaction.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import time
from dataclasses import dataclass
from typing import Any

from orchestration.delivery.rules import on_final
from orchestration.gateway.errors import error_meaning
from orchestration.ledger import Ledger
from orchestration.sqlfiles import load_sql

log = logging.getLogger(__name__)

FINAL = frozenset({"delivered", "undelivered", "failed"})
NOT_FINAL = ("queued", "sending", "sent")
DELIVERY_STATUSES = ("queued", "sending", "sent", "delivered", "undelivered", "failed", "unknown")
SOURCES = ("callback", "poll")

# Twilio's statuses (MessageStatus) as the ledger keeps them
_NORMALISED = {
    "accepted": "queued",
    "scheduled": "queued",
    "queued": "queued",
    "sending": "sending",
    "sent": "sent",
    "delivered": "delivered",
    "read": "delivered",  # a read receipt (WhatsApp, RCS) comes after delivered
    "undelivered": "undelivered",
    "partially_delivered": "undelivered",
    "failed": "failed",
    "canceled": "failed",  # a scheduled message cancelled before sending: it never goes out
    "unknown": "unknown",
}
_RANK = {"queued": 0, "sending": 1, "sent": 2, "unknown": 3, "delivered": 4, "undelivered": 4, "failed": 4}


def normalise(status: str | None) -> str | None:
    """The ledger's delivery status for a Twilio MessageStatus, or None for one that says nothing of delivery
    (receiving, received: inbound)."""
    return _NORMALISED.get((status or "").strip().lower())


def is_final(status: str | None) -> bool:
    return status in FINAL


def moves_forward(current: str | None, new: str | None) -> bool:
    """Whether `new` may replace `current`: later in the lifecycle, and never once `current` is final."""
    if new is None or new not in _RANK:
        return False
    if current is None:
        return True
    if current in FINAL:
        return False
    return _RANK[new] > _RANK[current]


@dataclass(frozen=True)
class Applied:
    """What became of one report: `applied` (moved forward), `stale` (kept, changed nothing) or `unmatched`
    (no recipient of the tenant owns the SID yet)."""

    outcome: str
    status: str | None
    recipient_id: int | None = None


def _error_code(value: Any) -> int | None:
    if value in (None, "", 0, "0"):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def apply_status(
    ledger: Ledger,
    tenant_id: int,
    sid: str,
    status: str,
    error_code: int | str | None,
    source: str,
    raw: dict[str, Any] | None = None,
    *,
    now: float | None = None,
) -> Applied:
    """Records one status report for the tenant's message `sid` and moves its recipient forward if Twilio's
    precedence allows; one transaction. A SID of another tenant, or none, changes no recipient."""
    with ledger.write() as con:
        return apply_in(con, tenant_id, sid, status, error_code, source, raw, now=now)


def apply_in(
    con: sqlite3.Connection,
    tenant_id: int,
    sid: str,
    status: str,
    error_code: int | str | None,
    source: str,
    raw: dict[str, Any] | None = None,
    *,
    now: float | None = None,
) -> Applied:
    """`apply_status` inside the caller's write transaction."""
    if source not in SOURCES:
        raise ValueError(f"source must be one of {SOURCES}, not {source!r}")
    now = time.time() if now is None else now
    code = _error_code(error_code)
    normal = normalise(status)
    row = con.execute(load_sql("delivery/recipient_by_sid.sql"), {"tenant_id": tenant_id, "sid": sid}).fetchone()
    recipient_id = row["recipient_id"] if row else None
    forward = row is not None and bool(row["current"]) and moves_forward(row["delivery_status"], normal)
    con.execute(
        load_sql("delivery/event_insert.sql"),
        {"tenant_id": tenant_id, "recipient_id": recipient_id, "sid": sid, "status": str(status), "error_code": code,
         "source": source, "applied": int(forward), "received_at": now, "raw_json": json.dumps(raw or {})},
    )
    if row is None:
        log.warning("Status %r for SID %s: no recipient of tenant %s owns it (kept unmatched)", status, sid, tenant_id)
        return Applied("unmatched", normal)
    if forward:
        _move(con, recipient_id, normal, code, now)
        if normal in FINAL:
            if code is not None:
                log.info("SID %s %s: %s %s", sid, normal, code, error_meaning(code) or "")
            on_final(con, tenant_id, row, normal, code, sid, now)
        return Applied("applied", normal, recipient_id)
    return Applied("stale", normal, recipient_id)


def _move(con: sqlite3.Connection, recipient_id: int, status: str, code: int | None, now: float) -> None:
    con.execute(
        load_sql("delivery/recipient_set_delivery.sql"),
        {"recipient_id": recipient_id, "status": status, "error_code": code if status != "delivered" else None,
         "delivered_at": now if status == "delivered" else None, "final": status in FINAL},
    )


def adopt_unmatched(ledger: Ledger, limit: int = 1000) -> int:
    """Applies, in arrival order, reports that came before their SID was recorded and whose SID a recipient of the
    same tenant owns now; returns how many were adopted."""
    with ledger.write() as con:
        rows = con.execute(load_sql("delivery/unmatched_events.sql"), {"limit": limit}).fetchall()
        for row in rows:
            current = con.execute(
                load_sql("delivery/recipient_by_sid.sql"), {"tenant_id": row["tenant_id"], "sid": row["sid"]}
            ).fetchone()
            normal = normalise(row["status"])
            forward = moves_forward(current["delivery_status"], normal)
            if forward:
                _move(con, row["recipient_id"], normal, row["error_code"], row["received_at"])
                if normal in FINAL:
                    on_final(con, row["tenant_id"], current, normal, row["error_code"], row["sid"],
                             row["received_at"])
            con.execute(
                load_sql("delivery/event_adopt.sql"),
                {"event_id": row["event_id"], "recipient_id": row["recipient_id"], "applied": int(forward)},
            )
    return len(rows)
