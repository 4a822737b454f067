"""Polling delivery, for tenants Twilio cannot call back (no public URL), and as the callbacks' safety net.

`poll_tenant` fetches each due message by SID (`messages(sid).fetch()` through the tenant's own credentials), in
batches, a few at a time: one request per message. `sync_tenant`, which the CLI (`delivery sync`) and the Dagster
sensor call, reads the statuses from the sender's message list instead (`listing.poll_tenant_by_list`: a page of
1,000 messages per request) and fetches by SID only the stragglers the list does not show. What both share (the due
checks, the schedule, recording) is in `checks`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from twilio.rest import Client

from orchestration.config import Home
from orchestration.delivery.checks import (
    MAX_AGE_S,
    PollSummary,
    due_checks,
    fetch_by_sid,
    record_checks,
    too_old,
)
from orchestration.delivery.listing import poll_tenant_by_list
from orchestration.delivery.rules import enforce_filtered_share, select_resends
from orchestration.delivery.status import adopt_unmatched
from orchestration.ledger import Ledger
from orchestration.sqlfiles import load_sql
from orchestration.tenants import TokenCipher, load_twilio
from orchestration.tenants.twilio_client import twilio_client

BATCH = 100
WORKERS = 8


def client_for(home: Home, ledger: Ledger, tenant_id: int, timeout: float = 10.0) -> Client:
    """The tenant's `twilio` Client from its stored credentials (a UserError when it has none)."""
    return twilio_client(load_twilio(ledger, tenant_id, TokenCipher.for_home(home)), timeout)


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
    """Fetches by SID every message of the tenant (or of one campaign) whose delivery check is due as of `now()` at
    the start, in batches; stops after `max_checks` messages when given. Each message is looked at once per call."""
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
            old, young = too_old(rows, moment, max_age_s)
            fetched = list(pool.map(lambda r: fetch_by_sid(client, r), young))
            summary.requests += len(young)
            record_checks(ledger, tenant_id, old, fetched, moment, started, summary)
            if on_batch:
                on_batch(summary)
    return summary


def tenants_due(ledger: Ledger, now: float | None = None) -> list[int]:
    """Tenants with at least one delivery check due."""
    with ledger.read() as con:
        return [row[0] for row in con.execute(load_sql("delivery/tenants_due.sql"),
                                              {"now": time.time() if now is None else now})]


def sync_tenant(home: Home, tenant_id: int, **options: Any) -> PollSummary:
    """The CLI's and the sensor's poll: `poll_tenant_by_list` on the tenant's sender (its From number, else its
    Messaging Service) with its client from the home's ledger, then the carrier-filtering share rule and the
    re-sends after 30003/30008 that the tenant's rules allow."""
    ledger = Ledger(home.ledger)
    credentials = load_twilio(ledger, tenant_id, TokenCipher.for_home(home))
    sender = credentials.from_number or credentials.messaging_service_sid
    summary = poll_tenant_by_list(ledger, tenant_id, twilio_client(credentials, 10.0), sender, **options)
    summary.paused = enforce_filtered_share(ledger, tenant_id)
    summary.resends = select_resends(ledger, tenant_id, now=options.get("now", time.time)())
    return summary
