"""Polling delivery by listing the sender's messages: one list request covers up to a page (1,000) of messages.

Twilio's Messages list is read filtered by the From number (for a Messaging Service, whose messages carry their pool
numbers, the account's list) and by `DateSent>=` the day, in GMT as Twilio's docs give it, of the oldest due send
less a margin for clocks; Twilio sorts it by DateSent, the most recent first. It is read page by page until every due
SID is found, or until a message sent before the oldest due send (less the margin) shows that the rest are older, or
until the pages read reach the number of due SIDs still missing (from there, fetching each by SID costs no more).
A due SID the list did not show is a straggler and is fetched by SID: a message not sent yet (still queued at its
sender, or failed before it left) has no date_sent, so no DateSent filter finds it; another sender; a list that
lags. Either way each status goes through `checks.record_checks`, so the rows, precedence and schedule of next
checks are those of polling by SID, for far fewer requests.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import requests
from twilio.base import values
from twilio.base.exceptions import TwilioException
from twilio.rest import Client

from orchestration.delivery.checks import (
    MAX_AGE_S,
    Fetched,
    PollSummary,
    due_checks,
    fetch_by_sid,
    record_checks,
    shown,
    too_old,
)
from orchestration.delivery.status import adopt_unmatched
from orchestration.ledger import Ledger

PAGE_SIZE = 1000
CLOCK_MARGIN_S = 300.0
MAX_DUE = 100_000  # due messages looked at per call when no max_checks is given
BATCH = 1000  # statuses recorded per transaction
WORKERS = 8


def sent_since(oldest: float) -> str:
    """The `DateSent>=` value for messages sent at or after `oldest`: its day in GMT (YYYY-MM-DD, as Twilio's docs
    give the filter)."""
    return datetime.fromtimestamp(oldest, UTC).strftime("%Y-%m-%d")


def list_statuses(client: Client, sender: str | None, rows: list, oldest: float, page_size: int = PAGE_SIZE) -> tuple[
        dict[str, Fetched], int]:  # fmt: skip
    """The due `rows` (none sent before `oldest`) found in the sender's list of sent messages, by SID, and the pages
    read (see the module)."""
    by_sid = {row["sid"]: row for row in rows}
    found: dict[str, Fetched] = {}
    pages = 0
    page = client.messages.page(from_=sender or values.unset, date_sent_after=sent_since(oldest),
                                page_size=page_size)
    while page is not None:
        pages += 1
        older = False
        for message in page:
            if message.sid in by_sid:
                found[message.sid] = shown(by_sid[message.sid], message)
            older = older or (message.date_sent is not None and message.date_sent.timestamp() < oldest)
        missing = len(by_sid) - len(found)
        if older or not missing or pages >= missing:
            break
        page = page.next_page()
    return found, pages


def poll_tenant_by_list(
    ledger: Ledger,
    tenant_id: int,
    client: Client,
    sender: str | None,
    *,
    campaign_id: int | None = None,
    now: Callable[[], float] = time.time,
    page_size: int = PAGE_SIZE,
    batch: int = BATCH,
    max_checks: int | None = None,
    max_age_s: float = MAX_AGE_S,
    workers: int = WORKERS,
    on_batch: Callable[[PollSummary], None] | None = None,
) -> PollSummary:
    """`poll_tenant`'s result for the messages due as of `now()` (at most `max_checks`), read from the list of
    `sender`, the tenant's From number (None: the account's list, for a Messaging Service), and fetched by SID
    where the list did not show them; recorded `batch` at a time."""
    summary = PollSummary(tenant_id)
    summary.adopted = adopt_unmatched(ledger)
    started = now()
    rows = due_checks(ledger, tenant_id, campaign_id, started, max_checks or MAX_DUE)
    if not rows:
        return summary
    moment = now()
    old, young = too_old(rows, moment, max_age_s)
    found: dict[str, Fetched] = {}
    if young:
        try:
            oldest = min(row["sent_at"] or moment for row in young) - CLOCK_MARGIN_S
            found, summary.requests = list_statuses(client, sender, young, oldest, page_size)
        except (requests.RequestException, TwilioException):
            summary.requests = 1  # the list failed: every one is fetched by SID
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="delivery-list") as pool:
        for start in range(0, max(len(young), 1), batch):
            chunk = young[start:start + batch]
            stragglers = [row for row in chunk if row["sid"] not in found]
            fetched = {item.sid: item for item in pool.map(lambda r: fetch_by_sid(client, r), stragglers)}
            summary.requests += len(stragglers)
            record_checks(ledger, tenant_id, old if start == 0 else [],
                          [found.get(row["sid"]) or fetched[row["sid"]] for row in chunk], moment, started, summary)
            if on_batch:
                on_batch(summary)
    return summary
