"""What both delivery pollers share (by SID, `poll`; by the sender's list, `listing`): the messages due a check, the
schedule of next checks, a status as read from Twilio, and recording a batch of them in one transaction.

Young messages are checked often and old ones rarely (`next_delay`); a message with no final status `MAX_AGE_S`
after it was sent becomes `unknown`. A read that failed (no answer, an error) changes nothing but the time of the
next check. Statuses go through `apply_in`, so polling and callbacks write the same rows with the same precedence.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import requests
from twilio.base.exceptions import TwilioException
from twilio.rest import Client

from orchestration.delivery.status import FINAL, apply_in
from orchestration.ledger import Ledger
from orchestration.sqlfiles import load_sql

log = logging.getLogger(__name__)

MAX_AGE_S = 72 * 3600.0
# (age of the message below which, delay to its next check)
SCHEDULE: tuple[tuple[float, float], ...] = (
    (60.0, 10.0),
    (5 * 60.0, 30.0),
    (30 * 60.0, 120.0),
    (2 * 3600.0, 600.0),
    (24 * 3600.0, 3600.0),
)
LATE_DELAY_S = 6 * 3600.0


def next_delay(age_s: float) -> float:
    """Seconds to the next check of a message `age_s` old: 10 s while young, then 30 s, 2 min, 10 min, 1 h, 6 h."""
    for below, delay in SCHEDULE:
        if age_s < below:
            return delay
    return LATE_DELAY_S


@dataclass
class PollSummary:
    """What one poll did: messages read, reads that failed, statuses that moved, Twilio requests made, and the
    resulting counts."""

    tenant_id: int
    checked: int = 0
    fetch_failures: int = 0
    changed: int = 0
    final: int = 0
    unknown: int = 0
    adopted: int = 0
    batches: int = 0  # transactions that recorded checks
    requests: int = 0  # list pages and single fetches sent to Twilio
    paused: int = 0  # campaigns paused by the carrier-filtering (30007) share
    resends: int = 0  # recipients put back to be sent again after 30003/30008 (when the tenant's rules allow)
    statuses: Counter = field(default_factory=Counter)

    def as_dict(self) -> dict[str, Any]:
        return {
            "tenant_id": self.tenant_id, "checked": self.checked, "fetch_failures": self.fetch_failures,
            "changed": self.changed, "final": self.final, "unknown": self.unknown, "adopted": self.adopted,
            "batches": self.batches, "requests": self.requests, "paused": self.paused, "resends": self.resends,
            "statuses": dict(sorted(self.statuses.items())),
        }


@dataclass(frozen=True)
class Fetched:
    """One due message's status as Twilio showed it (in a list or fetched by SID), or the error of its read."""

    recipient_id: int
    sid: str
    sent_at: float | None
    status: str | None = None
    error_code: int | None = None
    raw: dict[str, Any] | None = None
    error: str | None = None


def shown(row: Any, message: Any) -> Fetched:
    """The due `row`'s status from a Twilio MessageInstance (fetched or listed)."""
    raw = {
        "sid": message.sid, "status": message.status, "error_code": message.error_code,
        "error_message": message.error_message, "from": message.from_,
        "messaging_service_sid": message.messaging_service_sid,
        "date_sent": message.date_sent.isoformat() if message.date_sent else None,
        "date_updated": message.date_updated.isoformat() if message.date_updated else None,
    }
    return Fetched(row["recipient_id"], row["sid"], row["sent_at"], message.status, message.error_code, raw)


def fetch_by_sid(client: Client, row: Any) -> Fetched:
    """`messages(sid).fetch()` for one due row; a failed request is kept as the error's name."""
    try:
        return shown(row, client.messages(row["sid"]).fetch())
    except (requests.RequestException, TwilioException) as exc:
        return Fetched(row["recipient_id"], row["sid"], row["sent_at"], error=type(exc).__name__)


def due_checks(ledger: Ledger, tenant_id: int, campaign_id: int | None, now: float, limit: int) -> list:
    """The tenant's (or campaign's) messages not final whose next check is due at `now`, at most `limit`."""
    with ledger.read() as con:
        return con.execute(
            load_sql("delivery/due_checks.sql"),
            {"tenant_id": tenant_id, "campaign_id": campaign_id, "now": now, "limit": limit},
        ).fetchall()


def too_old(rows: list, moment: float, max_age_s: float) -> tuple[list, list]:
    """The due rows split into (past the maximum age: to become unknown, young enough to be read)."""
    old = [r for r in rows if r["sent_at"] is not None and moment - r["sent_at"] >= max_age_s]
    return old, [r for r in rows if r not in old]


def record_checks(
    ledger: Ledger, tenant_id: int, old: list, fetched: list[Fetched], moment: float, started: float,
    summary: PollSummary,
) -> None:
    """One transaction: `old` rows become unknown, each read status is applied, and every row's next check is set
    (none once final)."""
    with ledger.write() as con:
        for row in old:
            apply_in(con, tenant_id, row["sid"], "unknown", None, "poll", {"reason": "maximum age reached"},
                     now=moment)
            con.execute(load_sql("delivery/check_done.sql"),
                        {"recipient_id": row["recipient_id"], "now": moment, "next_check_at": None})
            summary.unknown += 1
            summary.statuses["unknown"] += 1
        for item in fetched:
            age = moment - (item.sent_at or moment)
            next_check = max(moment, started) + next_delay(age)
            if item.error is not None:
                summary.fetch_failures += 1
                log.warning("Reading SID %s failed (%s): checked again later", item.sid, item.error)
            else:
                summary.checked += 1
                applied = apply_in(con, tenant_id, item.sid, item.status or "", item.error_code, "poll", item.raw,
                                   now=moment)
                summary.changed += applied.outcome == "applied"
                summary.final += applied.outcome == "applied" and applied.status in FINAL
                summary.statuses[applied.status or str(item.status)] += 1
            con.execute(load_sql("delivery/check_done.sql"),
                        {"recipient_id": item.recipient_id, "now": moment, "next_check_at": next_check})
    summary.batches += 1
