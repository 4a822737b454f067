"""The sender's send slots, shared through the ledger by every run and process of the tenant that uses it.

The rate limit belongs to the sender (a From number or a Messaging Service), not to a campaign: Twilio queues each
sender's messages and drains them at its throughput, in SMS segments per second. A chunk takes its slots in the
same transaction that claims it: the slots start at the sender's `next_slot` (never before now, never before a
throttle's end) and last `segments / throughput` seconds, so two campaigns on one number take turns and together
never exceed it. A throttle from Twilio (429 with or without Retry-After, 21611, 30001) moves the sender's next slot
for every run at once.
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass

from orchestration.auth import audit
from orchestration.sqlfiles import load_sql

TOLL_FREE_AREAS = frozenset({"800", "833", "844", "855", "866", "877", "888"})
MESSAGING_SERVICE_THROUGHPUT = 10.0  # depends on the service's pool; set it with --sender-rate
ALPHANUMERIC_THROUGHPUT = 10.0
SHORT_CODE_THROUGHPUT = 100.0
TOLL_FREE_THROUGHPUT = 3.0
US_LONG_CODE_THROUGHPUT = 1.0
INTERNATIONAL_LONG_CODE_THROUGHPUT = 10.0
MAX_THROTTLE_BACKOFF_S = 300.0


def default_throughput(sender: str) -> float:
    """Twilio's default throughput for a sender of this type, in SMS segments per second."""
    if re.fullmatch(r"MG[0-9a-fA-F]{32}", sender):
        return MESSAGING_SERVICE_THROUGHPUT
    if re.fullmatch(r"\d{5,6}", sender):
        return SHORT_CODE_THROUGHPUT
    if sender.startswith("+1") and len(sender) == 12:
        return TOLL_FREE_THROUGHPUT if sender[2:5] in TOLL_FREE_AREAS else US_LONG_CODE_THROUGHPUT
    if sender.startswith("+"):
        return INTERNATIONAL_LONG_CODE_THROUGHPUT
    return ALPHANUMERIC_THROUGHPUT


def throttle_backoff_s(streak: int) -> float:
    """How long the sender waits after `streak` throttles in a row when Twilio gave no Retry-After: 1, 2, 4 ... s."""
    return min(MAX_THROTTLE_BACKOFF_S, 2.0 ** max(0, streak))


@dataclass(frozen=True)
class SenderState:
    """A sender as the ledger holds it: segments per second (0: no limit) and the first slot it may give out."""

    throughput: float
    next_free: float


@dataclass(frozen=True)
class Slots:
    """A chunk's slots: the first starts at `start`; `throughput` segments per second (0: no limit)."""

    start: float
    throughput: float

    def offset(self, segments_before: int) -> float:
        """When the message after `segments_before` segments of this chunk may start."""
        return self.start + (segments_before / self.throughput if self.throughput > 0 else 0.0)


class SenderPacing:
    """One tenant's sender in the ledger: its throughput and its next free slot."""

    def __init__(self, tenant_id: int, sender: str) -> None:
        self.tenant_id = tenant_id
        self.sender = sender

    @property
    def _keys(self) -> dict[str, object]:
        return {"tenant_id": self.tenant_id, "sender": self.sender}

    def _row(self, con: sqlite3.Connection) -> sqlite3.Row:
        con.execute(load_sql("sender/sender_ensure.sql"), self._keys)
        return con.execute(load_sql("sender/sender_get.sql"), self._keys).fetchone()

    def state(self, con: sqlite3.Connection) -> SenderState:
        """The sender's throughput (its setting, else its type's default; 0: no limit) and its next free slot."""
        row = self._row(con)
        rate = default_throughput(self.sender) if row["throughput_per_s"] is None else float(row["throughput_per_s"])
        return SenderState(rate, max(float(row["next_slot"]), float(row["throttled_until"])))

    def take(self, con: sqlite3.Connection, state: SenderState, segments: int, now: float) -> Slots:
        """Inside the write transaction that read `state`: the next `segments` slots of the sender, for the caller."""
        start = max(now, state.next_free)
        if state.throughput > 0:
            con.execute(
                load_sql("sender/sender_take_slots.sql"),
                {**self._keys, "next_slot": start + segments / state.throughput},
            )
        return Slots(start, state.throughput)

    def throttle(self, con: sqlite3.Connection, now: float, retry_after: float | None) -> float:
        """Inside a write transaction: Twilio said "slow down"; returns until when the sender waits."""
        row = self._row(con)
        wait = retry_after if retry_after is not None else throttle_backoff_s(int(row["throttle_streak"]))
        until = max(now + wait, float(row["throttled_until"]))
        con.execute(load_sql("sender/sender_throttle.sql"), {**self._keys, "until": until})
        return until

    def unthrottle(self, con: sqlite3.Connection) -> None:
        con.execute(load_sql("sender/sender_unthrottle.sql"), self._keys)


def set_sender_throughput(con: sqlite3.Connection, tenant_id: int, sender: str, throughput: float | None) -> None:
    """Sets a sender's throughput in segments per second (None: its type's default; 0: no limit)."""
    con.execute(
        load_sql("sender/sender_set_throughput.sql"),
        {"tenant_id": tenant_id, "sender": sender, "throughput_per_s": throughput},
    )
    audit.record(con, tenant_id, "settings.change", f"sender {sender}", f"throughput_per_s={throughput}")


def sender_throughput_setting(con: sqlite3.Connection, tenant_id: int, sender: str) -> tuple[float | None, float]:
    """(the sender's own setting or None, the throughput in force) in segments per second."""
    row = con.execute(load_sql("sender/sender_get.sql"), {"tenant_id": tenant_id, "sender": sender}).fetchone()
    own = None if row is None or row["throughput_per_s"] is None else float(row["throughput_per_s"])
    return own, default_throughput(sender) if own is None else own
