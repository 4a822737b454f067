"""The rules on delivery errors (`gateway.errors.DELIVERY_CODES`), applied when a message's final status arrives.

- 30034 (unregistered 10DLC sender) on any recipient pauses its campaign with the code and its meaning. Whether or
  not its campaign could still be paused (one that completed cannot), the report stands against the tenant's sender
  (`sender_alert`: shown by `campaign status`, at launch and on the console's campaign page) until a message of
  the tenant is delivered or the tenant sends from another sender.
- 30007 (carrier filtering) pauses the campaign once its share of the campaign's final delivery outcomes reaches
  `filtered_pause_share` (default 5%) with at least `filtered_pause_min_final` (default 20) outcomes final: checked
  on each 30007 report, and between reports (`enforce_filtered_share`, as later outcomes raise the count).
- 30005/30006 mark the number undeliverable for the tenant (code, time, SID): audiences exclude it as
  `undeliverable`. A later delivered message to the number clears the mark.
- 30003/30008 may be re-sent (`select_resends`), off by default (`resend_max` 0): after `resend_delay_s`, a
  recipient of a campaign still queued, sending or completed goes back to pending, at most `resend_max` times (a
  completed campaign is reopened: queued, a new generation). Its previous SID, status and code are kept in
  `delivery_resends` and stay the recipient's, so reports for the old SID change nothing and no lookup after an
  ambiguous attempt takes the old message for the new one.
Pauses and reopens go through the campaign lifecycle's own transition (a pause is idempotent: the first reason is
kept); a campaign that is no longer queued or sending is not paused.
"""

from __future__ import annotations

import logging
import math
import sqlite3
import time
from collections import Counter
from dataclasses import asdict, dataclass, replace
from typing import Any

from orchestration.errors import UserError
from orchestration.gateway.errors import DeliveryAction, delivery_action, error_meaning
from orchestration.ledger import Ledger
from orchestration.sender.campaigns import lock_campaign, transition
from orchestration.sqlfiles import load_sql
from orchestration.tenants import twilio_summary
from orchestration.tenants.settings import check_tenant_id

log = logging.getLogger(__name__)

PAUSABLE = ("queued", "sending")
RESENDABLE = ("queued", "sending", "completed")  # a campaign whose recipients may be re-sent (resend_candidates.sql)
RESEND_BATCH = 1000


@dataclass(frozen=True)
class DeliveryRules:
    """One tenant's rules on delivery errors."""

    resend_max: int = 0  # re-sends after 30003/30008 per recipient; 0: never
    resend_delay_s: float = 900.0  # after the final report
    filtered_pause_share: float = 0.05  # 30007 share of final outcomes that pauses the campaign
    filtered_pause_min_final: int = 20  # ... once at least this many outcomes are final

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def get_rules(ledger: Ledger, tenant_id: int) -> DeliveryRules:
    """The tenant's rules (the defaults when it never set any)."""
    with ledger.read() as con:
        return rules_in(con, check_tenant_id(tenant_id))


def rules_in(con: sqlite3.Connection, tenant_id: int) -> DeliveryRules:
    row = con.execute(load_sql("delivery/rules_get.sql"), {"tenant_id": tenant_id}).fetchone()
    return DeliveryRules(**dict(row)) if row else DeliveryRules()


def _check(rules: DeliveryRules) -> DeliveryRules:
    if isinstance(rules.resend_max, bool) or not isinstance(rules.resend_max, int) or rules.resend_max < 0:
        raise UserError(f"--delivery-retries must be a whole number >= 0 (0: off), not {rules.resend_max!r}")
    if not (math.isfinite(rules.resend_delay_s) and rules.resend_delay_s >= 0):
        raise UserError(f"--delivery-retry-delay must be 0 or more seconds, not {rules.resend_delay_s!r}")
    if not (math.isfinite(rules.filtered_pause_share) and 0 < rules.filtered_pause_share <= 1):
        raise UserError(f"--filtered-pause-share must be above 0 and at most 1, not {rules.filtered_pause_share!r}")
    if isinstance(rules.filtered_pause_min_final, bool) or rules.filtered_pause_min_final < 1:
        raise UserError(f"--filtered-pause-min must be a whole number >= 1, not {rules.filtered_pause_min_final!r}")
    return rules


def planned_rules(ledger: Ledger, tenant_id: int, **changes: Any) -> DeliveryRules:
    """The rules `update_rules` would store, checked (a UserError for a bad value); nothing is written."""
    given = {name: value for name, value in changes.items() if value is not None}
    return _check(replace(get_rules(ledger, tenant_id), **given))


def update_rules(ledger: Ledger, tenant_id: int, **changes: Any) -> DeliveryRules:
    """Changes the given rules (None keeps a rule as it is) and returns them all; a UserError for a bad value."""
    given = {name: value for name, value in changes.items() if value is not None}
    with ledger.write() as con:
        rules = _check(replace(rules_in(con, check_tenant_id(tenant_id)), **given))
        con.execute(load_sql("delivery/rules_set.sql"), {"tenant_id": tenant_id, **rules.as_dict()})
    return rules


def reason_for(code: int, detail: str = "") -> str:
    """A pause reason naming the delivery error code and what it means."""
    meaning = error_meaning(code) or "delivery error"
    return f"Twilio delivery error {code}: {meaning}" + (f" ({detail})" if detail else "")


def on_final(
    con: sqlite3.Connection, tenant_id: int, recipient: sqlite3.Row, status: str, code: int | None, sid: str,
    now: float,
) -> None:
    """Inside the write transaction that moved `recipient` to the final `status`: applies the rule of its code."""
    phone = recipient["phone_e164"]
    if status == "delivered":
        con.execute(load_sql("delivery/undeliverable_clear.sql"), {"tenant_id": tenant_id, "phone_e164": phone})
        return
    action = delivery_action(code)
    if action is DeliveryAction.UNDELIVERABLE:
        con.execute(load_sql("delivery/undeliverable_mark.sql"),
                    {"tenant_id": tenant_id, "phone_e164": phone, "error_code": code, "source_sid": sid,
                     "marked_at": now})
    elif action is DeliveryAction.PAUSE and not _pause(con, tenant_id, recipient["campaign_id"],
                                                       reason_for(code, f"message {sid}")):
        log.warning("%s for tenant %s's campaign %s, which has nothing left to pause: the sender is flagged "
                    "(sender_alert)", reason_for(code, f"message {sid}"), tenant_id, recipient["campaign_id"])
    elif action is DeliveryAction.PAUSE_ON_SHARE:
        counts = con.execute(load_sql("delivery/filtered_share.sql"),
                             {"campaign_id": recipient["campaign_id"]}).fetchone()
        _pause_on_share(con, tenant_id, recipient["campaign_id"], counts["final"], counts["filtered"])


def _pause_on_share(con: sqlite3.Connection, tenant_id: int, campaign_id: int, final: int, filtered: int) -> bool:
    rules = rules_in(con, tenant_id)
    if final < rules.filtered_pause_min_final or filtered < rules.filtered_pause_share * final:
        return False
    detail = (f"{filtered} of {final} final delivery outcomes, {filtered / final:.1%}; "
              f"the campaign pauses at {rules.filtered_pause_share:.1%}")
    return _pause(con, tenant_id, campaign_id, reason_for(30007, detail))


def enforce_filtered_share(ledger: Ledger, tenant_id: int | None = None) -> int:
    """Pauses the queued or sending campaigns (of one tenant, or all) whose 30007 share has reached the threshold
    since their last 30007 report (outcomes that came after it count too); returns how many it paused. The poller
    and the callback receiver call it between reports."""
    paused = 0
    with ledger.write() as con:
        rows = con.execute(load_sql("delivery/filtered_campaigns.sql"), {"tenant_id": tenant_id}).fetchall()
        for row in rows:
            paused += _pause_on_share(con, row["tenant_id"], row["campaign_id"], row["final"], row["filtered"])
    return paused


def _pause(con: sqlite3.Connection, tenant_id: int, campaign_id: int, reason: str) -> bool:
    row = con.execute(load_sql("delivery/campaign_state.sql"),
                      {"tenant_id": tenant_id, "campaign_id": campaign_id}).fetchone()
    if row is None or row["state"] not in PAUSABLE:
        return False
    transition(con, tenant_id, campaign_id, "pause", reason=reason)
    return True


@dataclass(frozen=True)
class SenderAlert:
    """Twilio reported the tenant's sender not registered (30034) and nothing of the tenant was delivered since:
    each message it sends is blocked until the sender is registered. Shown whatever the state of the campaign
    that got the report (one that had completed has nothing left to pause)."""

    code: int
    meaning: str
    sid: str
    campaign_id: int
    campaign_state: str
    sender: str | None
    reported_at: float

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def describe(self) -> str:
        sender = f"sender {self.sender}" if self.sender else "the sender"
        return (f"Twilio reported {sender} blocked: {self.code} {self.meaning} (message {self.sid} of campaign "
                f"{self.campaign_id}, {self.campaign_state}); nothing was delivered since. Register the sender "
                f"or change it (`tenant set-twilio`) before sending again.")


def sender_alert(ledger: Ledger, tenant_id: int) -> SenderAlert | None:
    """The tenant's standing 30034 report (see `SenderAlert`), or None. A report naming another sender than the
    tenant's now (its From number or Messaging Service) is no longer standing."""
    with ledger.read() as con:
        row = con.execute(load_sql("delivery/sender_alert.sql"), {"tenant_id": check_tenant_id(tenant_id)}).fetchone()
    if row is None:
        return None
    now_sending = twilio_summary(ledger, tenant_id)
    senders = {now_sending.from_number, now_sending.messaging_service_sid} if now_sending else set()
    if row["sender"] is not None and row["sender"] not in senders:
        return None
    return SenderAlert(row["error_code"], error_meaning(row["error_code"]) or "", row["sid"], row["campaign_id"],
                       row["campaign_state"], row["sender"], row["received_at"])


def select_resends(ledger: Ledger, tenant_id: int, *, now: float | None = None) -> int:
    """Puts the tenant's recipients whose message ended 30003/30008 back to be sent again, when its rules allow;
    returns how many. One transaction; a recipient is taken only while it still holds the undelivered SID.

    Its campaigns are locked first, in campaign_id order, before any recipient changes: a send run completes a
    campaign under the same lock (so it counts the reset recipient, or has completed it and the campaign is
    reopened here), a campaign paused or cancelled since the candidates were read is left alone, and two of these
    at once never wait on each other in a circle."""
    moment = time.time() if now is None else now
    with ledger.write() as con:
        rules = rules_in(con, tenant_id)
        if rules.resend_max <= 0:
            return 0
        rows = con.execute(load_sql("delivery/resend_candidates.sql"),
                           {"tenant_id": tenant_id, "resend_max": rules.resend_max, "delay_s": rules.resend_delay_s,
                            "now": moment, "limit": RESEND_BATCH}).fetchall()
        states = {}
        for campaign_id in sorted({row["campaign_id"] for row in rows}):
            lock_campaign(con, tenant_id, campaign_id)
            states[campaign_id] = con.execute(load_sql("delivery/campaign_state.sql"),
                                              {"tenant_id": tenant_id, "campaign_id": campaign_id}).fetchone()[0]
        taken: Counter[int] = Counter()
        for row in rows:
            if states[row["campaign_id"]] not in RESENDABLE:
                continue
            reset = con.execute(load_sql("delivery/resend_reset.sql"),
                                {"recipient_id": row["recipient_id"], "previous_sid": row["sid"], "now": moment})
            if reset.rowcount == 0:
                continue
            con.execute(load_sql("delivery/resend_insert.sql"),
                        {"tenant_id": tenant_id, "campaign_id": row["campaign_id"],
                         "recipient_id": row["recipient_id"], "resend_no": row["resends"] + 1,
                         "previous_sid": row["sid"], "previous_status": row["delivery_status"],
                         "previous_error_code": row["delivery_error_code"], "previous_sent_at": row["sent_at"],
                         "now": moment})
            taken[row["campaign_id"]] += 1
        for campaign_id in sorted(taken):
            if states[campaign_id] == "completed":  # a queued or sending one sends them in its run as it is
                transition(con, tenant_id, campaign_id, "reopen", new_generation=True)
    return taken.total()


def resend_counts(ledger: Ledger, tenant_id: int, campaign_id: int) -> dict[str, int]:
    """A campaign's re-sends after delivery errors: `delivery_resends` (messages) and `recipients`."""
    with ledger.read() as con:
        row = con.execute(load_sql("delivery/resend_counts.sql"),
                          {"tenant_id": tenant_id, "campaign_id": campaign_id}).fetchone()
    return dict(row)


def undeliverable_numbers(ledger: Ledger, tenant_id: int) -> list[dict[str, Any]]:
    """The tenant's undeliverable numbers with the code, SID and time of the report that marked each."""
    with ledger.read() as con:
        return [dict(row) for row in con.execute(load_sql("delivery/undeliverable_list.sql"),
                                                 {"tenant_id": tenant_id})]


def tenants_resending(ledger: Ledger) -> list[int]:
    """Tenants whose rules re-send after 30003/30008."""
    with ledger.read() as con:
        return [row[0] for row in con.execute(load_sql("delivery/tenants_resending.sql"))]
