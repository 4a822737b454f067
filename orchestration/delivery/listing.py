"""Polling delivery by listing the sender's messages: one list request covers up to a page (1,000) of SIDs.

`poll_tenant` fetches each due message by SID: one request per message. Here the tenant's due messages are looked
up in Twilio's message list instead, filtered by the From number (a Messaging Service's messages carry their pool
number, so for one the account's list is read unfiltered), newest first, a page of 1,000 at a time, stopping at
the first message created before the oldest due one was sent (less a margin for clocks). A due SID the list did not
show (another sender, a list that lags) is fetched by SID as `poll_tenant` does, so the result is the same rows,
with the same precedence and schedule of next checks, for far fewer requests.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import requests
from twilio.base.exceptions import TwilioException
from twilio.rest import Client

from orchestration.delivery.poll import MAX_AGE_S, WORKERS, PollSummary, _fetch, _Fetched, _record, due_checks
from orchestration.delivery.status import adopt_unmatched
from orchestration.ledger import Ledger

PAGE_SIZE = 1000
CLOCK_MARGIN_S = 300.0
MAX_DUE = 100_000  # due messages looked at per call


def _listed(client: Client, sender: str | None, wanted: set[str], oldest: float, page_size: int) -> tuple[
        dict[str, _Fetched], int]:  # fmt: skip
    """The wanted SIDs found in the sender's list (newest first, down to `oldest`), and the pages read."""
    found: dict[str, _Fetched] = {}
    from_ = sender if sender and sender.startswith("+") else None
    seen = 0
    for message in client.messages.stream(from_=from_, page_size=page_size):
        seen += 1
        if message.sid in wanted:
            raw = {"sid": message.sid, "status": message.status, "error_code": message.error_code,
                   "error_message": message.error_message, "from": message.from_,
                   "date_sent": message.date_sent.isoformat() if message.date_sent else None,
                   "date_updated": message.date_updated.isoformat() if message.date_updated else None}
            found[message.sid] = _Fetched(0, message.sid, None, message.status, message.error_code, raw)
            if len(found) == len(wanted):
                break
        if message.date_created is not None and message.date_created.timestamp() < oldest:
            break
    return found, -(-seen // page_size)


def poll_tenant_by_list(
    ledger: Ledger,
    tenant_id: int,
    client: Client,
    sender: str | None,
    *,
    campaign_id: int | None = None,
    now: Callable[[], float] = time.time,
    page_size: int = PAGE_SIZE,
    max_age_s: float = MAX_AGE_S,
    workers: int = WORKERS,
) -> PollSummary:
    """`poll_tenant`'s result for the messages due as of `now()`, read from the sender's message list (`sender`:
    the tenant's From number or Messaging Service SID); `batches` counts list pages plus single fetches."""
    summary = PollSummary(tenant_id)
    summary.adopted = adopt_unmatched(ledger)
    started = now()
    rows = due_checks(ledger, tenant_id, campaign_id, started, MAX_DUE)
    if not rows:
        return summary
    moment = now()
    too_old = [r for r in rows if r["sent_at"] is not None and moment - r["sent_at"] >= max_age_s]
    young = [r for r in rows if r not in too_old]
    fetched: list[_Fetched] = []
    if young:
        oldest = min(r["sent_at"] or moment for r in young) - CLOCK_MARGIN_S
        try:
            found, pages = _listed(client, sender, {r["sid"] for r in young}, oldest, page_size)
        except (requests.RequestException, TwilioException):
            found, pages = {}, 1  # the list failed: every one is fetched by SID
        summary.batches += pages
        missing = [r for r in young if r["sid"] not in found]
        fetched = [_Fetched(r["recipient_id"], r["sid"], r["sent_at"], item.status, item.error_code, item.raw)
                   for r in young if (item := found.get(r["sid"])) is not None]
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="delivery-list") as pool:
            fetched += list(pool.map(lambda r: _fetch(client, r), missing))
        summary.batches += len(missing)
    _record(ledger, tenant_id, too_old, fetched, moment, started, summary)
    return summary
