"""Inbound replies to a tenant's senders: STOP-like keywords suppress the number, START-like ones lift only the
suppression a STOP made; every inbound message is kept (append-only) with what it did.

The keywords are Twilio's defaults (its "opt-out keywords" support page; the simulator uses the same lists): a
message is a keyword when its whole body is one, in any case, with surrounding spaces and punctuation ignored
(" stop. " is STOP, "STOP please" is not). An opt-out adds the number to the tenant's suppression list with source
`inbound`, the keyword as reason and the message SID. An opt-in removes the number only when an opt-out put it there
(`inbound`, or `provider_opt_out`: Twilio's 21610 also means the person replied STOP); a number a person suppressed
(by hand or by import) stays suppressed. Messages are recorded once per SID, whether they came by the webhook or by
the poller, and a keyword older than one already recorded from the same number changes nothing (`superseded`), so
the order in which the two paths see messages does not matter.
"""

from __future__ import annotations

import json
import re
import sqlite3
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from orchestration.ledger import Ledger
from orchestration.ledger.suppression import add_in, remove_in, source_of, to_e164
from orchestration.sqlfiles import load_sql
from orchestration.tenants.settings import ensure_tenant_row, get_settings

OPT_OUT_KEYWORDS = frozenset({"STOP", "STOPALL", "STOP ALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "OPTOUT",
                              "REVOKE"})
OPT_IN_KEYWORDS = frozenset({"START", "YES", "UNSTOP"})
LIFTED_BY_OPT_IN = frozenset({"inbound", "provider_opt_out"})  # suppressions a STOP made
SOURCES = ("callback", "poll")
_EDGES = re.compile(r"^[\W_]+|[\W_]+$")


def keyword(body: str | None) -> str | None:
    """The opt-out or opt-in keyword the whole body is (upper case), or None."""
    text = " ".join(_EDGES.sub("", (body or "").strip()).split()).upper()
    return text if text in OPT_OUT_KEYWORDS or text in OPT_IN_KEYWORDS else None


@dataclass(frozen=True)
class InboundMessage:
    """One message a handset sent to one of the tenant's senders."""

    sid: str
    from_number: str
    to_number: str
    body: str
    date_sent: float | None = None  # Unix seconds, as Twilio stamped it
    raw: dict[str, Any] = field(default_factory=dict)


@dataclass
class InboundSummary:
    """What reading inbound messages did: messages seen, new ones recorded, and their outcomes."""

    tenant_id: int
    listed: int = 0
    recorded: int = 0
    duplicates: int = 0
    senders: list[str] = field(default_factory=list)
    outcomes: Counter = field(default_factory=Counter)

    def as_dict(self) -> dict[str, Any]:
        return {"tenant_id": self.tenant_id, "listed": self.listed, "recorded": self.recorded,
                "duplicates": self.duplicates, "senders": self.senders,
                "outcomes": dict(sorted(self.outcomes.items()))}


def record_inbound(
    ledger: Ledger, tenant_id: int, messages: list[InboundMessage], source: str, *, now: float | None = None,
    summary: InboundSummary | None = None,
) -> InboundSummary:
    """Records the messages (oldest first, in one transaction) and applies their keywords; a SID already recorded
    for the tenant changes nothing."""
    if source not in SOURCES:
        raise ValueError(f"source must be one of {SOURCES}, not {source!r}")
    summary = summary or InboundSummary(tenant_id)
    region = get_settings(ledger, tenant_id).default_region
    moment = time.time() if now is None else now
    with ledger.write() as con:
        ensure_tenant_row(con, tenant_id)
        for message in messages:
            outcome = record_in(con, tenant_id, message, source, region, moment)
            if outcome is None:
                summary.duplicates += 1
            else:
                summary.recorded += 1
                summary.outcomes[outcome] += 1
    return summary


def record_in(
    con: sqlite3.Connection, tenant_id: int, message: InboundMessage, source: str, region: str, now: float
) -> str | None:
    """Inside a write transaction: records one message and applies its keyword; returns its outcome, or None when
    the SID was already recorded."""
    if con.execute(load_sql("inbound/message_seen.sql"), {"tenant_id": tenant_id, "sid": message.sid}).fetchone():
        return None
    word = keyword(message.body)
    phone = to_e164(message.from_number, region)
    if word is None:
        outcome = "not_a_keyword"
    elif phone is None:
        outcome = "invalid_number"
    elif _superseded(con, tenant_id, phone, message.date_sent):
        outcome = "superseded"
    elif word in OPT_OUT_KEYWORDS:
        added = add_in(con, tenant_id, phone, f"replied {word} (message {message.sid})", "inbound", message.sid)
        outcome = "opted_out" if added else "already_suppressed"
    else:
        outcome = _opt_in(con, tenant_id, phone, word, message.sid)
    con.execute(
        load_sql("inbound/message_insert.sql"),
        {"tenant_id": tenant_id, "sid": message.sid, "from_number": phone or message.from_number,
         "to_number": message.to_number, "body": message.body, "keyword": word, "outcome": outcome,
         "source": source, "date_sent": message.date_sent, "received_at": now,
         "raw_json": json.dumps(message.raw)},
    )
    return outcome


def _superseded(con: sqlite3.Connection, tenant_id: int, phone: str, date_sent: float | None) -> bool:
    if date_sent is None:
        return False
    later = con.execute(load_sql("inbound/later_keyword.sql"),
                        {"tenant_id": tenant_id, "from_number": phone, "date_sent": date_sent}).fetchone()
    return later is not None


def _opt_in(con: sqlite3.Connection, tenant_id: int, phone: str, word: str, sid: str) -> str:
    source = source_of(con, tenant_id, phone)
    if source is None:
        return "not_suppressed"
    if source not in LIFTED_BY_OPT_IN:
        return "kept_suppressed"  # a person suppressed it: only a person lifts it
    remove_in(con, tenant_id, phone, "inbound", f"replied {word} (message {sid})", sid)
    return "opted_in"


def inbound_messages(ledger: Ledger, tenant_id: int, limit: int = 100) -> list[dict[str, Any]]:
    """The tenant's recorded inbound messages, newest first."""
    with ledger.read() as con:
        rows = con.execute(load_sql("inbound/messages_recent.sql"), {"tenant_id": tenant_id, "limit": limit})
        return [dict(row) for row in rows]
