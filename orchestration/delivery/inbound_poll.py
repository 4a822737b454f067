"""Polling inbound messages, for tenants Twilio cannot call (no public URL), and as the webhook's safety net.

Twilio's Messages list is read with `To` = the tenant's sender number and `DateSent>=` a watermark less a margin
(`OVERLAP_S`): a message shows in the list a little after it was received, so each poll lists again from before the
latest message seen, and the SIDs already recorded (`inbound_messages`) are skipped. The watermark (the latest
`date_sent` seen, per tenant and sender) only moves forward, after the messages are recorded; a list that fails
leaves it where it was. A sender never polled starts `FIRST_LOOKBACK_S` back. Inbound messages to a Messaging
Service's pool numbers are read by the webhook only (the pool is not known here).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime

from twilio.rest import Client

from orchestration.config import Home
from orchestration.delivery.inbound import InboundMessage, InboundSummary, record_inbound
from orchestration.delivery.poll import client_for
from orchestration.ledger import Ledger
from orchestration.sqlfiles import load_sql
from orchestration.tenants import TokenCipher, load_twilio

log = logging.getLogger(__name__)

OVERLAP_S = 600.0  # list again from 10 minutes before the latest message seen (Twilio's list lags by seconds)
FIRST_LOOKBACK_S = 72 * 3600.0
PAGE_SIZE = 200


def _stamp(value: datetime | None) -> float | None:
    return value.timestamp() if value is not None else None


def _message(item) -> InboundMessage:
    raw = {"sid": item.sid, "from": item.from_, "to": item.to, "status": item.status, "direction": item.direction,
           "date_sent": item.date_sent.isoformat() if item.date_sent else None,
           "messaging_service_sid": item.messaging_service_sid}
    return InboundMessage(item.sid, item.from_ or "", item.to or "", item.body or "", _stamp(item.date_sent), raw)


def poll_inbound(
    ledger: Ledger, tenant_id: int, client: Client, senders: list[str], *, now: Callable[[], float] = time.time,
    overlap_s: float = OVERLAP_S, first_lookback_s: float = FIRST_LOOKBACK_S,
) -> InboundSummary:
    """Lists each sender's inbound messages since its watermark (less the margin) and records the new ones."""
    summary = InboundSummary(tenant_id, senders=list(senders))
    for sender in senders:
        started = now()
        with ledger.read() as con:
            row = con.execute(load_sql("inbound/cursor_get.sql"), {"tenant_id": tenant_id, "sender": sender}).fetchone()
        watermark = row["watermark"] if row else started - first_lookback_s
        since = datetime.fromtimestamp(watermark - overlap_s, UTC).replace(microsecond=0)
        listed = client.messages.list(to=sender, date_sent_after=since, page_size=PAGE_SIZE)
        inbound = [_message(m) for m in reversed(listed) if (m.direction or "").startswith("inbound")]
        inbound.sort(key=lambda m: m.date_sent or 0.0)  # oldest first; the list's own order breaks ties
        summary.listed += len(inbound)
        record_inbound(ledger, tenant_id, inbound, "poll", now=started, summary=summary)
        latest = max((m.date_sent for m in inbound if m.date_sent is not None), default=watermark)
        with ledger.write() as con:
            con.execute(load_sql("inbound/cursor_set.sql"),
                        {"tenant_id": tenant_id, "sender": sender,
                         "watermark": max(watermark, latest, started - overlap_s),
                         "listed_at": started})
    return summary


def sync_inbound(home: Home, tenant_id: int, **options) -> InboundSummary:
    """`poll_inbound` for the tenant's sender number, with its client from the home's ledger (the CLI, the sensor)."""
    ledger = Ledger(home.ledger)
    credentials = load_twilio(ledger, tenant_id, TokenCipher.for_home(home))
    senders = [credentials.from_number] if credentials.from_number else []
    if not senders:
        log.info("Tenant %s sends through a Messaging Service: its inbound messages come by the webhook", tenant_id)
    return poll_inbound(ledger, tenant_id, client_for(home, ledger, tenant_id), senders, **options)


def tenants_with_senders(ledger: Ledger) -> list[int]:
    """Tenants whose sender number's inbound messages can be polled."""
    with ledger.read() as con:
        return [row[0] for row in con.execute(load_sql("inbound/tenants_with_senders.sql"))]
