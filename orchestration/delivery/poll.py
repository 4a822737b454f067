"""Polling delivery by SID, for tenants Twilio cannot call back (no public URL), and as the callbacks' safety net.

The messages whose status is not final and whose next check is due are fetched (`messages(sid).fetch()` through
the tenant's own credentials) in batches, a few at a time. Young messages are checked often and old ones rarely
(`next_delay`); a message with no final status `MAX_AGE_S` after it was sent becomes `unknown`. A fetch that fails
(no answer, an error) changes nothing but the time of the next check. Statuses go through `apply_in`, so polling
and callbacks write the same rows with the same precedence.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import requests
from twilio.base.exceptions import TwilioException
from twilio.rest import Client

from orchestration.config import Home
from orchestration.delivery.rules import enforce_filtered_share, select_resends
from orchestration.delivery.status import FINAL, adopt_unmatched, apply_in
from orchestration.ledger import Ledger
from orchestration.sqlfiles import load_sql
from orchestration.tenants import TokenCipher, load_twilio
from orchestration.tenants.twilio_client import twilio_client

log = logging.getLogger(__name__)

MAX_AGE_S = 72 * 3600.0
BATCH = 100
WORKERS = 8
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
    """What one poll did: messages fetched, fetches that failed, statuses that moved, and the resulting counts."""

    tenant_id: int
    checked: int = 0
    fetch_failures: int = 0
    changed: int = 0
    final: int = 0
    unknown: int = 0
    adopted: int = 0
    batches: int = 0
    paused: int = 0  # campaigns paused by the carrier-filtering (30007) share
    resends: int = 0  # recipients put back to be sent again after 30003/30008 (when the tenant's rules allow)
    statuses: Counter = field(default_factory=Counter)

    def as_dict(self) -> dict[str, Any]:
        return {
            "tenant_id": self.tenant_id, "checked": self.checked, "fetch_failures": self.fetch_failures,
            "changed": self.changed, "final": self.final, "unknown": self.unknown, "adopted": self.adopted,
            "batches": self.batches, "paused": self.paused, "resends": self.resends,
            "statuses": dict(sorted(self.statuses.items())),
        }


@dataclass(frozen=True)
class _Fetched:
    recipient_id: int
    sid: str
    sent_at: float | None
    status: str | None = None
    error_code: int | None = None
    raw: dict[str, Any] | None = None
    error: str | None = None


def _fetch(client: Client, row: Any) -> _Fetched:
    try:
        message = client.messages(row["sid"]).fetch()
    except (requests.RequestException, TwilioException) as exc:
        return _Fetched(row["recipient_id"], row["sid"], row["sent_at"], error=type(exc).__name__)
    raw = {
        "sid": message.sid, "status": message.status, "error_code": message.error_code,
        "error_message": message.error_message,
        "date_sent": message.date_sent.isoformat() if message.date_sent else None,
        "date_updated": message.date_updated.isoformat() if message.date_updated else None,
    }
    return _Fetched(row["recipient_id"], row["sid"], row["sent_at"], message.status, message.error_code, raw)


def client_for(home: Home, ledger: Ledger, tenant_id: int, timeout: float = 10.0) -> Client:
    """The tenant's `twilio` Client from its stored credentials (a UserError when it has none)."""
    return twilio_client(load_twilio(ledger, tenant_id, TokenCipher.for_home(home)), timeout)


def due_checks(ledger: Ledger, tenant_id: int, campaign_id: int | None, now: float, limit: int) -> list:
    """The tenant's (or campaign's) messages not final whose next check is due at `now`, at most `limit`."""
    with ledger.read() as con:
        return con.execute(
            load_sql("delivery/due_checks.sql"),
            {"tenant_id": tenant_id, "campaign_id": campaign_id, "now": now, "limit": limit},
        ).fetchall()


def poll_tenant(
    ledger: Ledger,
    tenant_id: int,
    client: Client,
    *,
    campaign_id: int | None = None,
    now: Callable[[], float] = time.time,
    batch: int = BATCH,
    max_checks: int | None = None,
    max_age_s: float = MAX_AGE_S,
    workers: int = WORKERS,
    on_batch: Callable[[PollSummary], None] | None = None,
) -> PollSummary:
    """Checks every message of the tenant (or of one campaign) whose delivery check is due as of `now()` at the
    start, in batches; stops after `max_checks` messages when given. Each message is looked at once per call."""
    summary = PollSummary(tenant_id)
    summary.adopted = adopt_unmatched(ledger)
    started = now()
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="delivery-poll") as pool:
        while max_checks is None or summary.checked + summary.unknown < max_checks:
            size = batch if max_checks is None else min(batch, max_checks - summary.checked - summary.unknown)
            rows = due_checks(ledger, tenant_id, campaign_id, started, size)
            if not rows:
                break
            moment = now()
            too_old = [r for r in rows if r["sent_at"] is not None and moment - r["sent_at"] >= max_age_s]
            young = [r for r in rows if r not in too_old]
            fetched = list(pool.map(lambda r: _fetch(client, r), young))
            _record(ledger, tenant_id, too_old, fetched, moment, started, summary)
            summary.batches += 1
            if on_batch:
                on_batch(summary)
    return summary


def _record(
    ledger: Ledger, tenant_id: int, too_old: list, fetched: list[_Fetched], moment: float, started: float,
    summary: PollSummary,
) -> None:
    with ledger.write() as con:
        for row in too_old:
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
                log.warning("Fetching SID %s failed (%s): checked again later", item.sid, item.error)
            else:
                summary.checked += 1
                applied = apply_in(con, tenant_id, item.sid, item.status or "", item.error_code, "poll", item.raw,
                                   now=moment)
                summary.changed += applied.outcome == "applied"
                summary.final += applied.outcome == "applied" and applied.status in FINAL
                summary.statuses[applied.status or str(item.status)] += 1
            con.execute(load_sql("delivery/check_done.sql"),
                        {"recipient_id": item.recipient_id, "now": moment, "next_check_at": next_check})


def tenants_due(ledger: Ledger, now: float | None = None) -> list[int]:
    """Tenants with at least one delivery check due."""
    with ledger.read() as con:
        return [row[0] for row in con.execute(load_sql("delivery/tenants_due.sql"),
                                              {"now": time.time() if now is None else now})]


def sync_tenant(home: Home, tenant_id: int, **options: Any) -> PollSummary:
    """`poll_tenant` with the tenant's client built from the home's ledger (the CLI and the sensor), then the
    carrier-filtering share rule and the re-sends after 30003/30008 that the tenant's rules allow."""
    ledger = Ledger(home.ledger)
    summary = poll_tenant(ledger, tenant_id, client_for(home, ledger, tenant_id), **options)
    summary.paused = enforce_filtered_share(ledger, tenant_id)
    summary.resends = select_resends(ledger, tenant_id, now=options.get("now", time.time)())
    return summary
