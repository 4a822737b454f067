"""What a campaign did: status counts, live progress (rate, ETA, error codes), the delivery log and its CSV export."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from orchestration.errors import UserError
from orchestration.gateway.errors import error_meaning
from orchestration.ledger import Ledger
from orchestration.messages.csv_safe import escape_formulas
from orchestration.sender.campaigns import Campaign, get_campaign
from orchestration.sqlfiles import load_sql
from orchestration.tenants import twilio_summary

RECIPIENT_STATES = ("pending", "sending", "sent", "failed", "skipped")
LOG_PAGE = 50_000
TEXT_COLUMNS = ("phone_e164", "full_name", "state", "skip_reason", "last_error_message", "message_sid", "body",
                "delivery_status", "delivery_error_meaning")
TIME_COLUMNS = ("first_attempt_at", "sent_at", "updated_at", "delivered_at")


@dataclass(frozen=True)
class CampaignStatus:
    """Counts by recipient state, skip reasons, attempts and error codes: what the campaign did so far."""

    campaign: Campaign
    counts: dict[str, int]
    skipped_by_reason: dict[str, int]
    segments_sent: int
    attempts: int
    retries: int
    error_codes: dict[str, int]
    delivery: dict[str, Any] = field(default_factory=dict)  # sent recipients by delivery status, undelivered codes

    def as_dict(self) -> dict[str, Any]:
        values = asdict(self)
        values["campaign"] = {
            k: v for k, v in self.campaign.as_dict().items() if k not in ("runner_host", "runner_pid", "runner_id")
        }
        return values


@dataclass(frozen=True)
class Progress:
    """A live view for the console: status plus sending rate over the last `window_s`, ETA and the sender."""

    status: CampaignStatus
    window_s: float
    rate_per_s: float
    remaining: int
    eta_s: float | None
    sender: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        values = asdict(self)
        values["status"] = self.status.as_dict()
        return values


def status(ledger: Ledger, tenant_id: int, campaign_id: int) -> CampaignStatus:
    """The campaign's counts, decided from the ledger."""
    campaign = get_campaign(ledger, tenant_id, campaign_id)
    counts = dict.fromkeys(RECIPIENT_STATES, 0)
    skipped: dict[str, int] = {}
    segments_sent = 0
    keys = {"campaign_id": campaign_id}
    with ledger.read() as con:
        for row in con.execute(load_sql("sender/counts_by_state.sql"), keys):
            counts[row["state"]] += row["recipients"]
            if row["state"] == "skipped":
                skipped[row["skip_reason"]] = row["recipients"]
            if row["state"] == "sent":
                segments_sent += row["segments"] or 0
        totals = con.execute(load_sql("sender/attempt_totals.sql"), {**keys, "since": 0}).fetchone()
        codes = {str(r["error_code"]): r["attempts"] for r in con.execute(load_sql("sender/error_codes.sql"), keys)}
        delivery = _delivery_counts(con.execute(load_sql("delivery/counts.sql"), keys).fetchall())
    return CampaignStatus(campaign, counts, skipped, segments_sent, totals["attempts"], totals["retries"], codes,
                          delivery)


def _delivery_counts(rows: list) -> dict[str, Any]:
    """Sent recipients by delivery status (`none`: not tracked yet), and the error codes of the ones not delivered
    with their meanings."""
    counts = dict.fromkeys(("queued", "sending", "sent", "delivered", "undelivered", "failed", "unknown"), 0)
    codes: dict[str, dict[str, Any]] = {}
    for row in rows:
        counts[row["delivery_status"]] = counts.get(row["delivery_status"], 0) + row["recipients"]
        if row["delivery_error_code"] is not None and row["delivery_status"] != "delivered":
            code = str(row["delivery_error_code"])
            entry = codes.setdefault(code, {"recipients": 0, "meaning": error_meaning(row["delivery_error_code"])})
            entry["recipients"] += row["recipients"]
    tracked = sum(counts.values())
    return {**counts, "total": tracked,
            "delivery_rate": round(counts["delivered"] / tracked, 4) if tracked else None,
            "error_codes": dict(sorted(codes.items()))}


def progress(ledger: Ledger, tenant_id: int, campaign_id: int, window_s: float = 60.0) -> Progress:
    """Status plus the send rate and the time left at that rate.

    While the campaign is queued or sending, the rate is the messages sent over the last `window_s` seconds (or
    since its first attempt, when that is more recent: a campaign 5 s old that sent 50 sends at 10/s, not
    50/60). Once it stopped (completed, paused, cancelled), it is its average: sent over the time from its first
    attempt to its last; `window_s` is then that time."""
    current = status(ledger, tenant_id, campaign_id)
    now = time.time()
    with ledger.read() as con:
        totals = con.execute(
            load_sql("sender/attempt_totals.sql"), {"campaign_id": campaign_id, "since": now - window_s}
        ).fetchone()
    first, last = totals["first_started_at"], totals["last_finished_at"]
    if current.campaign.state in ("queued", "sending"):
        window = max(min(window_s, now - first), 1.0) if first is not None else window_s
        rate = totals["recent_sent"] / window
    else:
        window = max(last - first, 1.0) if first is not None and last is not None else 0.0
        rate = current.counts["sent"] / window if window else 0.0
    remaining = current.counts["pending"] + current.counts["sending"]
    summary = twilio_summary(ledger, tenant_id)
    sender = {
        "sender": (summary.messaging_service_sid or summary.from_number) if summary else None,
        "sent": current.counts["sent"],
        "segments": current.segments_sent,
        "failed": current.counts["failed"],
    }
    eta = remaining / rate if rate > 0 else None
    return Progress(current, window, rate, remaining, eta, sender)


def delivery_log(
    ledger: Ledger,
    tenant_id: int,
    campaign_id: int,
    state: str | None = None,
    phone: str | None = None,
    limit: int = 1000,
    after_id: int = 0,
) -> pd.DataFrame:
    """One row per recipient (phone, customer, status, attempts, last error, SID, segments, times), in recipient
    order; page with `after_id` = the last recipient_id seen."""
    get_campaign(ledger, tenant_id, campaign_id)
    if state is not None and state not in RECIPIENT_STATES:
        raise UserError(f"Unknown recipient state {state!r}; use one of {', '.join(RECIPIENT_STATES)}.")
    with ledger.read() as con:
        cursor = con.execute(
            load_sql("sender/delivery_log.sql"),
            {"tenant_id": tenant_id, "campaign_id": campaign_id, "state": state, "phone": phone,
             "after_id": after_id, "limit": limit},
        )
        columns = [c[0] for c in cursor.description]
        frame = pd.DataFrame(cursor.fetchall(), columns=columns)
    frame["delivery_error_meaning"] = [error_meaning(int(c)) if pd.notna(c) else None
                                       for c in frame["delivery_error_code"]]
    return _readable(frame)


def attempts_of(ledger: Ledger, tenant_id: int, campaign_id: int, recipient_id: int) -> pd.DataFrame:
    """Every attempt made for one recipient (attempt no, times, outcome, error, HTTP status, SID)."""
    with ledger.read() as con:
        cursor = con.execute(
            load_sql("sender/attempts_of_recipient.sql"),
            {"tenant_id": tenant_id, "campaign_id": campaign_id, "recipient_id": recipient_id},
        )
        frame = pd.DataFrame(cursor.fetchall(), columns=[c[0] for c in cursor.description])
    for column in ("started_at", "finished_at"):
        frame[column] = pd.to_datetime(frame[column], unit="s", utc=True)
    return frame


def _readable(frame: pd.DataFrame) -> pd.DataFrame:
    for column in TIME_COLUMNS:
        frame[column] = pd.to_datetime(frame[column].astype("float64"), unit="s", utc=True)
    for column in ("customer_id", "last_error_code", "delivery_error_code"):
        frame[column] = frame[column].astype("Int64")
    return frame


def _pages(ledger: Ledger, tenant_id: int, campaign_id: int) -> Iterator[pd.DataFrame]:
    after = 0
    while True:
        page = delivery_log(ledger, tenant_id, campaign_id, limit=LOG_PAGE, after_id=after)
        if page.empty:
            return
        yield page
        after = int(page["recipient_id"].iloc[-1])


def export_csv(ledger: Ledger, tenant_id: int, campaign_id: int, out: str | Path) -> int:
    """Writes the delivery log to a CSV file (cells a spreadsheet would run as formulas are escaped); returns
    the number of rows. The file appears whole or not at all."""
    target = Path(out)
    if not target.parent.is_dir():
        raise UserError(f"Cannot write {target}: the folder {target.parent} does not exist.")
    partial = target.with_name(f".{target.name}.partial")
    rows = 0
    try:
        for number, page in enumerate(_pages(ledger, tenant_id, campaign_id)):
            for column in TEXT_COLUMNS:
                page[column] = escape_formulas(page[column].fillna("").astype("str"))
            for column in TIME_COLUMNS:
                page[column] = page[column].dt.strftime("%Y-%m-%dT%H:%M:%S.%fZ").fillna("")
            page.to_csv(partial, mode="w" if number == 0 else "a", header=number == 0, index=False)
            rows += len(page)
        if rows == 0:
            pd.DataFrame(columns=_empty_columns(ledger, tenant_id, campaign_id)).to_csv(partial, index=False)
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)
    return rows


def _empty_columns(ledger: Ledger, tenant_id: int, campaign_id: int) -> list[str]:
    return list(delivery_log(ledger, tenant_id, campaign_id, limit=0).columns)
