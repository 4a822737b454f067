"""A campaign's delivery funnel: accepted by Twilio, then delivered, undelivered, failed, unknown or still in flight;
per sender, and the undelivered by error code with its meaning. The CLI, the console and Dagster read these totals."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from orchestration.gateway.errors import error_meaning
from orchestration.ledger import Ledger
from orchestration.sqlfiles import load_sql
from orchestration.tenants import twilio_summary

# A sent recipient's delivery status -> its funnel stage (NULL and the non-final statuses are still in flight).
STAGES = ("delivered", "undelivered", "failed", "unknown", "in_flight")
_STAGE = {"delivered": "delivered", "undelivered": "undelivered", "failed": "failed", "unknown": "unknown"}
UNSET_SENDER = "not set"


def delivery_rate(delivered: int, accepted: int, in_flight: int) -> float | None:
    """Delivered of the accepted messages whose status is final (None until one is)."""
    settled = accepted - in_flight
    return round(delivered / settled, 4) if settled else None


@dataclass
class SenderFunnel:
    """One sender's (From number or Messaging Service SID) accepted messages by stage, and its delivery rate."""

    sender: str
    accepted: int = 0
    delivered: int = 0
    undelivered: int = 0
    failed: int = 0
    unknown: int = 0
    in_flight: int = 0

    @property
    def delivery_rate(self) -> float | None:
        return delivery_rate(self.delivered, self.accepted, self.in_flight)


@dataclass
class DeliveryFunnel:
    """A campaign's recipients from the send to the handset.

    `accepted` (Twilio took the message: recipient state sent) splits into the STAGES; `send_failed` never reached
    Twilio's queue (state failed), `not_sent_yet` is pending or sending, `skipped` was left out at send time."""

    campaign_id: int
    recipients: int = 0
    accepted: int = 0
    delivered: int = 0
    undelivered: int = 0
    failed: int = 0
    unknown: int = 0
    in_flight: int = 0
    send_failed: int = 0
    not_sent_yet: int = 0
    skipped: int = 0
    senders: list[SenderFunnel] = field(default_factory=list)
    error_codes: list[dict[str, Any]] = field(default_factory=list)  # code, status, recipients, meaning

    @property
    def delivery_rate(self) -> float | None:
        return delivery_rate(self.delivered, self.accepted, self.in_flight)

    def as_dict(self) -> dict[str, Any]:
        values = asdict(self)
        values["delivery_rate"] = self.delivery_rate
        values["senders"] = [{**asdict(s), "delivery_rate": s.delivery_rate} for s in self.senders]
        return values


def current_sender(ledger: Ledger, tenant_id: int) -> str:
    """The tenant's sender now: its Messaging Service SID, else its From number ('not set' without credentials)."""
    summary = twilio_summary(ledger, tenant_id)
    if summary is None:
        return UNSET_SENDER
    return summary.messaging_service_sid or summary.from_number or UNSET_SENDER


def delivery_funnel(ledger: Ledger, tenant_id: int, campaign_id: int) -> DeliveryFunnel:
    """The funnel of one tenant's campaign (all zero for another tenant's campaign id: nothing of it is read).

    A message no status report has named a sender for yet counts for the tenant's sender now."""
    funnel = DeliveryFunnel(campaign_id)
    senders: dict[str, SenderFunnel] = {}
    codes: dict[tuple[int, str], int] = {}
    with ledger.read() as con:
        rows = con.execute(load_sql("delivery/funnel.sql"), {
            "tenant_id": tenant_id, "campaign_id": campaign_id, "current_sender": current_sender(ledger, tenant_id),
        }).fetchall()
    for row in rows:
        n = row["recipients"]
        funnel.recipients += n
        if row["state"] == "failed":
            funnel.send_failed += n
        elif row["state"] == "skipped":
            funnel.skipped += n
        elif row["state"] in ("pending", "sending"):
            funnel.not_sent_yet += n
        else:
            stage = _STAGE.get(row["delivery_status"] or "", "in_flight")
            sender = senders.setdefault(row["sender"], SenderFunnel(row["sender"]))
            for target in (funnel, sender):
                target.accepted += n
                setattr(target, stage, getattr(target, stage) + n)
            if stage in ("undelivered", "failed") and row["delivery_error_code"] is not None:
                key = (row["delivery_error_code"], stage)
                codes[key] = codes.get(key, 0) + n
    funnel.senders = sorted(senders.values(), key=lambda s: (-s.accepted, s.sender))
    funnel.error_codes = [
        {"code": code, "status": stage, "recipients": n, "meaning": error_meaning(code)}
        for (code, stage), n in sorted(codes.items(), key=lambda item: (-item[1], item[0]))
    ]
    return funnel
