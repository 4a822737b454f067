"""A tenant's SMS credits: its balance in segments, top-ups, and the send engine's reservations and refunds.

A tenant is metered from its first top-up on (`bkntc-sms credits topup`, operators only; `--segments 0` meters a
new SaaS tenant before it has credits); a tenant that was never topped up, like every single-site install, sends
without limit. Every change of a balance is one row of the append-only `credit_entries`:
- a send run reserves (debits) the segments of each chunk it claims, in the claim's transaction, and claims only
  what the balance covers; when it covers nobody due, the campaign pauses as "out of credits";
- each attempt's outcome, in the transaction that records it, keeps its reservation when Twilio accepted the
  message (adjusted to Twilio's `num_segments` when Twilio counted otherwise; a Messaging Service's message has
  0 until its sender is chosen, then ours stands), keeps it while the message may have reached Twilio (no answer, a
  5xx, a crash: until a lookup settles it) and refunds it otherwise (a create that failed, a released claim);
- so a crash between the two transactions neither loses a debit nor repeats one.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from orchestration.auth import audit
from orchestration.auth.actor import current
from orchestration.errors import UserError
from orchestration.ledger import Ledger
from orchestration.sqlfiles import load_sql
from orchestration.tenants.settings import check_tenant_id, ensure_tenant_row

MAX_TOPUP = 1_000_000_000
KEPT = ("sent", "recovered_sent")  # Twilio has the message: the reservation pays for it
HELD = ("ambiguous", "error")  # it may have reached Twilio: kept until a lookup settles the recipient
OUT_OF_CREDITS = "out of credits"


@dataclass(frozen=True)
class CreditStatement:
    """A tenant's credits: metered or not, the balance, its top-ups and what each campaign consumed."""

    tenant_id: int
    metered: bool
    balance: int | None  # None: not metered (unlimited)
    topups: list[dict[str, Any]] = field(default_factory=list)
    consumption: list[dict[str, Any]] = field(default_factory=list)

    @property
    def topped_up(self) -> int:
        return sum(row["segments"] for row in self.topups)

    @property
    def used(self) -> int:
        return sum(row["used"] for row in self.consumption)

    def as_dict(self) -> dict[str, Any]:
        return {"tenant": self.tenant_id, "metered": self.metered, "balance": self.balance,
                "topped_up": self.topped_up, "used": self.used, "topups": self.topups,
                "consumption": self.consumption}  # fmt: skip


def balance_in(con: sqlite3.Connection, tenant_id: int, lock: bool = False) -> int | None:
    """The tenant's balance in SMS segments, or None when it is not metered. `lock`: inside a write transaction
    that reserves from it (PostgreSQL: the account's row stays locked until the transaction ends)."""
    sql = load_sql("credits/balance_lock.sql" if lock else "credits/balance_get.sql")
    row = con.execute(sql, {"tenant_id": tenant_id}).fetchone()
    return None if row is None else int(row[0])


def balance(ledger: Ledger, tenant_id: int) -> int | None:
    """The tenant's balance in SMS segments, or None when it is not metered (sends without limit)."""
    check_tenant_id(tenant_id)
    with ledger.read() as con:
        return balance_in(con, tenant_id)


def topup(ledger: Ledger, tenant_id: int, segments: Any, note: str = "", now: float | None = None) -> int:
    """Adds `segments` to the tenant's balance (operators only; audited); returns the new balance."""
    check_tenant_id(tenant_id)
    if isinstance(segments, bool) or not isinstance(segments, int):
        raise UserError(f"--segments must be a whole number of SMS segments, got {segments!r}.")
    amount = segments
    if not 0 <= amount <= MAX_TOPUP:
        raise UserError(f"--segments must be between 0 and {MAX_TOPUP:,}, got {amount:,}.")
    text = str(note or "").strip()
    with ledger.write() as con:
        ensure_tenant_row(con, tenant_id)
        audit.record(con, tenant_id, "credits.topup", f"{amount} segments", text)
        con.execute(load_sql("credits/topup_insert.sql"), {"tenant_id": tenant_id, "segments": amount,
                                                            "note": text, "actor": current().name,
                                                            "now": time.time() if now is None else now})
        return balance_in(con, tenant_id) or 0


def statement(ledger: Ledger, tenant_id: int) -> CreditStatement:
    """The tenant's balance, top-ups (newest first) and consumption by campaign."""
    check_tenant_id(tenant_id)
    keys = {"tenant_id": tenant_id}
    with ledger.read() as con:
        current_balance = balance_in(con, tenant_id)
        topups = [dict(row) for row in con.execute(load_sql("credits/topups.sql"), keys)]
        consumption = [dict(row) for row in con.execute(load_sql("credits/consumption.sql"), keys)]
    return CreditStatement(tenant_id, current_balance is not None, current_balance, topups, consumption)


def campaign_used(ledger: Ledger, tenant_id: int, campaign_id: int) -> int:
    """The segments a campaign's sends have consumed so far (reserved, less refunds)."""
    with ledger.read() as con:
        return int(con.execute(load_sql("credits/campaign_used.sql"),
                               {"tenant_id": tenant_id, "campaign_id": campaign_id}).fetchone()[0])  # fmt: skip


def campaign_cost(ledger: Ledger, tenant_id: int, campaign_id: int) -> int:
    """A campaign's cost in SMS segments (its frozen recipients that are not skipped)."""
    with ledger.read() as con:
        return int(con.execute(load_sql("credits/campaign_cost.sql"),
                               {"tenant_id": tenant_id, "campaign_id": campaign_id}).fetchone()[0])  # fmt: skip


def shortfall(needed: int, available: int, recipients: int | None = None) -> str:
    """`out of credits: ...`, the numbers a person needs to top up."""
    who = f" for {recipients:,} recipients" if recipients is not None else ""
    return (f"{OUT_OF_CREDITS}: {needed:,} SMS segments needed{who}, {available:,} left "
            f"(top up {needed - available:,} or more with `bkntc-sms credits topup`)")


def campaign_shortfall(con: sqlite3.Connection, tenant_id: int, campaign_id: int) -> str | None:
    """`out of credits: ...` when the campaign's unsent recipients need more segments than the tenant's balance;
    None when it is covered or the tenant is not metered."""
    available = balance_in(con, tenant_id)
    if available is None:
        return None
    row = con.execute(load_sql("credits/campaign_pending_segments.sql"), {"campaign_id": campaign_id}).fetchone()
    return shortfall(row["segments"], available, row["recipients"]) if row["segments"] > available else None


def refuse_short(con: sqlite3.Connection, tenant_id: int, campaign_id: int, action: str) -> None:
    """Inside a write transaction: one UserError with the numbers when the tenant's credits do not cover the
    campaign's unsent recipients."""
    reason = campaign_shortfall(con, tenant_id, campaign_id)
    if reason is not None:
        raise UserError(f"Cannot {action} campaign {campaign_id}: {reason}.")


# --- the send engine's side -------------------------------------------------------------------------


def fit_claim(con: sqlite3.Connection, tenant_id: int, ids: str) -> tuple[str, str | None]:
    """Inside the claim's transaction: the claim's recipients (a JSON array) that the balance covers, in order, and
    the pause reason when it covers none of them; unchanged for a tenant that is not metered."""
    available = balance_in(con, tenant_id, lock=True)
    if available is None:
        return ids, None
    chosen, total, needed = [], 0, None
    for row in con.execute(load_sql("credits/claimable.sql"), {"ids": ids}):
        if total + row["segments"] > available:
            needed = row["segments"]
            break
        chosen.append(int(row["recipient_id"]))
        total += row["segments"]
    if not chosen and needed is not None:
        return "[]", shortfall(needed, available) + " — the campaign resumes where it stopped"
    return "[" + ",".join(map(str, chosen)) + "]", None


def reserve(con: sqlite3.Connection, tenant_id: int, campaign_id: int, claim_id: str, segments: int,
            now: float) -> None:  # fmt: skip
    """Inside the claim's transaction: debits the claimed chunk's segments (metered tenants only)."""
    if segments and balance_in(con, tenant_id) is not None:
        con.execute(load_sql("credits/reserve.sql"), {"tenant_id": tenant_id, "campaign_id": campaign_id,
                                                       "claim_id": claim_id, "segments": int(segments), "now": now})


def settle_attempts(con: sqlite3.Connection, outcomes: Sequence[Any], settles: Sequence[dict],
                    closes: Sequence[dict], now: float) -> None:  # fmt: skip
    """Inside the transaction that records a chunk (before its recipients are released): keeps, adjusts or refunds
    each attempt's reservation, and refunds the earlier attempts a lookup has now settled. `outcomes` are the
    engine's (each with its `.delivery` and `.result`), `settles`/`closes` the rows it writes for them."""
    if not outcomes:
        return
    claim_id = outcomes[0].delivery.claim_id
    if con.execute(load_sql("credits/claim_reserved.sql"), {"claim_id": claim_id}).fetchone() is None:
        return  # not metered when it claimed (so never before): nothing reserved, nothing to give back
    credits, settled = [], []
    for item, settle, close in zip(outcomes, settles, closes, strict=True):
        d = item.delivery
        keys = {"recipient_id": d.recipient_id, "attempt_no": d.attempt_no, "claim_id": d.claim_id, "now": now}
        if close["outcome"] in KEPT:
            charged = item.result.num_segments if item.result is not None else None
            if charged and charged != d.segments:
                credits.append({**keys, "kind": "adjust", "segments": d.segments - int(charged)})
        elif close["outcome"] not in HELD:
            credits.append({**keys, "kind": "refund", "segments": d.segments})
        if d.verify_since is not None and settle["verify_since"] is None:
            settled.append({"recipient_id": d.recipient_id, "attempt_no": d.attempt_no, "now": now})
    con.executemany(load_sql("credits/attempt_credit.sql"), credits)
    con.executemany(load_sql("credits/refund_unsettled.sql"), settled)
