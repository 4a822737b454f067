"""The send engine: one `CampaignRun` owns one running campaign — claim a chunk, send it, record it, repeat.

Order of work, which is what makes a crash harmless:
1. a chunk of due recipients is claimed in one transaction (pending -> sending, with a lease and an open
   attempts-log row) BEFORE any request; numbers suppressed since launch are skipped right there;
2. the chunk is sent by a thread pool under the campaign's rate limit (token bucket);
3. the chunk's results are written in ONE transaction; then the campaign's state is read afresh from the
   ledger, so a pause or cancel by anyone takes effect before the next chunk.
A run that finds recipients left in `sending` by a dead run looks each up in Twilio's Messages list before
anything is resent: found -> sent with that SID, not found -> pending again (not counted as a failure).
"""

from __future__ import annotations

import math
import os
import random
import socket
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from orchestration.gateway import Action, SendResult, classify
from orchestration.ledger import Ledger
from orchestration.sender.campaigns import Campaign, get_campaign, transition
from orchestration.sender.faults import Faults
from orchestration.sender.ratelimit import TokenBucket
from orchestration.sqlfiles import load_sql

RUNNER_LEASE_S = 30.0  # a live run renews its hold on the campaign at least this often
LEASE_MARGIN_S = 1.0  # slack after the last moment a request may start, before a claim counts as stranded
TARGET_CHUNK_S = 0.5  # chunks sized to take about this long: pause takes effect within one chunk
MAX_CHUNK = 1000
FIRST_UNLIMITED_CHUNK = 50
CLOCK_SKEW_S = 5.0  # look up stranded attempts from a little before they started
JITTER = 0.1  # back-off delays vary by +-10%


class Sender(Protocol):
    """What the engine needs from a gateway (see orchestration.gateway.Gateway)."""

    timeout: float

    def send(self, to: str, body: str) -> SendResult: ...

    def find_sent(self, to: str, since: datetime, body: str | None = None) -> list[str]: ...


@dataclass(frozen=True)
class Delivery:
    """One claimed recipient, as the send threads see it."""

    recipient_id: int
    phone: str
    body: str
    attempt_no: int
    failures: int
    verify_since: float | None
    claim_id: str
    started_at: float
    lease_until: float


@dataclass(frozen=True)
class Outcome:
    """What became of one claimed recipient: an outcome name, the provider's answer, a found SID."""

    delivery: Delivery
    outcome: str  # sent | recovered_sent | recovered_unsent | released | or the action taken on a failure
    result: SendResult | None = None
    action: Action | None = None
    sid: str | None = None


@dataclass
class RunSummary:
    """What one run did; `stopped` says why it ended: completed, paused, cancelled, waiting (the next retry is
    later than the run may wait), busy (another live run owns the campaign) or draft."""

    campaign_id: int
    tenant_id: int
    stopped: str = ""
    sent: int = 0
    failed: int = 0
    skipped: int = 0
    retried: int = 0
    recovered: int = 0
    released: int = 0
    chunks: int = 0
    error_codes: Counter = field(default_factory=Counter)
    pause_reason: str | None = None
    next_due_at: float | None = None
    started: float = field(default_factory=time.time)
    finished: float | None = None

    @property
    def elapsed_s(self) -> float:
        return (self.finished or time.time()) - self.started

    @property
    def throughput(self) -> float:
        """Accepted messages per second of this run."""
        return self.sent / self.elapsed_s if self.elapsed_s > 0 else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "campaign_id": self.campaign_id,
            "tenant_id": self.tenant_id,
            "stopped": self.stopped,
            "sent": self.sent,
            "failed": self.failed,
            "skipped": self.skipped,
            "retried": self.retried,
            "recovered": self.recovered,
            "released": self.released,
            "chunks": self.chunks,
            "error_codes": dict(sorted((str(code), n) for code, n in self.error_codes.items())),
            "pause_reason": self.pause_reason,
            "next_due_at": self.next_due_at,
            "elapsed_s": round(self.elapsed_s, 3),
            "throughput_per_s": round(self.throughput, 2),
        }


def backoff_seconds(failures: int, base: float, rng: random.Random) -> float:
    """Delay before the next try after `failures` failed attempts: base, 2*base, 4*base... +-10% jitter."""
    return base * 2 ** (failures - 1) * rng.uniform(1 - JITTER, 1 + JITTER)


def _pid_alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class CampaignRun:
    """Works one campaign until it completes, is paused or cancelled, or its next retry is further away than
    `max_wait_s` (the Dagster op waits a little, the CLI waits as long as it takes)."""

    def __init__(
        self,
        ledger: Ledger,
        tenant_id: int,
        campaign_id: int,
        gateway: Sender,
        *,
        max_wait_s: float = math.inf,
        workers: int = 64,
        on_chunk: Callable[[RunSummary], None] | None = None,
        faults: Faults | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.ledger = ledger
        self.tenant_id = tenant_id
        self.campaign_id = campaign_id
        self.gateway = gateway
        self.max_wait_s = max_wait_s
        self.workers = workers
        self.on_chunk = on_chunk
        self.faults = faults or Faults.from_env()
        self.rng = rng or random.Random()
        self.runner_id = uuid.uuid4().hex
        self.summary = RunSummary(campaign_id, tenant_id)
        self._halt = threading.Event()
        self._bucket = TokenBucket(0)
        self._chunk_size = FIRST_UNLIMITED_CHUNK

    @property
    def _keys(self) -> dict[str, Any]:
        return {"tenant_id": self.tenant_id, "campaign_id": self.campaign_id}

    # --- the run ------------------------------------------------------------------------------------

    def run(self) -> RunSummary:
        """Owns the campaign for the run's duration; returns what was done (decided from the ledger)."""
        if not self._acquire():
            self.summary.stopped = "busy"
            self.summary.finished = time.time()
            return self.summary
        try:
            with ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="send") as pool:
                self._recover_stranded(pool)
                self._work(pool)
        finally:
            with self.ledger.write() as con:
                con.execute(load_sql("sender/runner_release.sql"), {**self._keys, "runner_id": self.runner_id})
            self.summary.finished = time.time()
        return self.summary

    def _acquire(self) -> bool:
        now = time.time()
        with self.ledger.write() as con:
            campaign = Campaign.from_row(con.execute(load_sql("sender/campaign_get.sql"), self._keys).fetchone())
            if self._owned_by_live_run(campaign, now):
                return False
            con.execute(
                load_sql("sender/runner_claim.sql"),
                {
                    **self._keys,
                    "runner_id": self.runner_id,
                    "runner_host": socket.gethostname(),
                    "runner_pid": os.getpid(),
                    "lease_until": now + RUNNER_LEASE_S,
                },
            )
            if campaign.state == "queued":
                transition(con, self.tenant_id, self.campaign_id, "start")
        return True

    @staticmethod
    def _owned_by_live_run(campaign: Campaign, now: float) -> bool:
        if campaign.runner_id is None or (campaign.runner_lease_until or 0) < now:
            return False
        if campaign.runner_host != socket.gethostname():
            return True
        return campaign.runner_pid == os.getpid() or _pid_alive(campaign.runner_pid)

    def _renew(self, con: Any) -> None:
        con.execute(
            load_sql("sender/runner_renew.sql"),
            {**self._keys, "runner_id": self.runner_id, "lease_until": time.time() + RUNNER_LEASE_S},
        )

    def _work(self, pool: ThreadPoolExecutor) -> None:
        while True:
            campaign = get_campaign(self.ledger, self.tenant_id, self.campaign_id)
            if campaign.state != "sending":
                self.summary.stopped = campaign.state
                self.summary.pause_reason = campaign.pause_reason
                return
            self._bucket.rate = campaign.rate_limit_per_s
            self._bucket.burst = max(1.0, campaign.rate_limit_per_s * 0.2)
            chunk = self._claim(campaign)
            if chunk:
                self._record(self._send(pool, chunk, campaign), campaign)
                continue
            if not self._wait_for_due(campaign):
                return

    def _wait_for_due(self, campaign: Campaign) -> bool:
        """Nothing due now: complete the campaign, or sleep a little towards the next retry (False: stop)."""
        with self.ledger.write() as con:
            fresh = Campaign.from_row(con.execute(load_sql("sender/campaign_get.sql"), self._keys).fetchone())
            if fresh.state != "sending":  # paused or cancelled meanwhile: the loop reports it
                return True
            left = con.execute(load_sql("sender/unfinished.sql"), {"campaign_id": self.campaign_id}).fetchone()
            if left["pending"] == 0 and left["sending"] == 0:
                self.summary.stopped = transition(con, self.tenant_id, self.campaign_id, "complete").state
                return False
            self._renew(con)
        if left["pending"] == 0:  # only another run's stranded claims are left: let a later run recover them
            self.summary.stopped = "waiting"
            return False
        wait = left["next_due_at"] - time.time()
        if wait > self.max_wait_s:
            self.summary.stopped = "waiting"
            self.summary.next_due_at = left["next_due_at"]
            return False
        time.sleep(min(max(wait, 0.0), TARGET_CHUNK_S))
        return True

    # --- claiming -----------------------------------------------------------------------------------

    def _next_chunk_size(self, campaign: Campaign) -> int:
        if campaign.rate_limit_per_s > 0:
            return max(1, min(MAX_CHUNK, math.ceil(campaign.rate_limit_per_s * TARGET_CHUNK_S)))
        return self._chunk_size

    def _claim(self, campaign: Campaign) -> list[Delivery]:
        now = time.time()
        size = self._next_chunk_size(campaign)
        expected = size / campaign.rate_limit_per_s if campaign.rate_limit_per_s > 0 else TARGET_CHUNK_S * 4
        lease_until = now + expected + 2 * self.gateway.timeout + LEASE_MARGIN_S
        claim_id = uuid.uuid4().hex
        with self.ledger.write() as con:
            ids = [
                row[0]
                for row in con.execute(
                    load_sql("sender/claim_candidates.sql"),
                    {"campaign_id": self.campaign_id, "now": now, "limit": size},
                )
            ]
            if not ids:
                return []
            id_list = json_ids(ids)
            skipped = con.execute(
                load_sql("sender/claim_skip_suppressed.sql"),
                {"ids": id_list, "tenant_id": self.tenant_id, "now": now},
            ).rowcount
            rows = con.execute(
                load_sql("sender/claim_mark_sending.sql"),
                {"ids": id_list, "claim_id": claim_id, "lease_until": lease_until, "now": now},
            ).fetchall()
            con.execute(load_sql("sender/attempts_open.sql"), {"ids": id_list, "claim_id": claim_id})
            self._renew(con)
        self.summary.skipped += skipped
        self.faults.hit("after_claim")
        return [
            Delivery(
                recipient_id=row["recipient_id"],
                phone=row["phone_e164"],
                body=row["body"],
                attempt_no=row["attempts"],
                failures=row["failures"],
                verify_since=row["verify_since"],
                claim_id=claim_id,
                started_at=now,
                lease_until=lease_until,
            )
            for row in rows
        ]

    # --- sending ------------------------------------------------------------------------------------

    def _send(self, pool: ThreadPoolExecutor, chunk: list[Delivery], campaign: Campaign) -> list[Outcome]:
        self._halt.clear()
        started = time.monotonic()
        outcomes = list(pool.map(lambda d: self._deliver(d, campaign.max_attempts), chunk))
        if campaign.rate_limit_per_s <= 0:
            took = max(time.monotonic() - started, 1e-3)
            self._chunk_size = max(10, min(MAX_CHUNK, int(len(chunk) / took * TARGET_CHUNK_S)))
        self.faults.hit("before_record")
        return outcomes

    def _deliver(self, delivery: Delivery, max_attempts: int) -> Outcome:
        """One recipient, in a send thread: look up an earlier ambiguous attempt, wait for a slot, send."""
        if self._halt.is_set():
            return Outcome(delivery, "released")
        if delivery.verify_since is not None:
            found = self._lookup(delivery, delivery.verify_since)
            if found:
                return Outcome(delivery, "recovered_sent", sid=found)
        self._bucket.acquire()
        latest_start = delivery.lease_until - self.gateway.timeout - LEASE_MARGIN_S
        if self._halt.is_set() or time.time() > latest_start:
            return Outcome(delivery, "released")
        self.faults.hit("before_request")
        result = self.gateway.send(delivery.phone, delivery.body)
        if result.ok:
            self.faults.hit("after_accept")
            return Outcome(delivery, "sent", result=result, sid=result.sid)
        action = classify(result)
        if result.retry_after:
            self._bucket.hold(result.retry_after)
        if action is Action.PAUSE:
            self._halt.set()
        if action is Action.RETRY and result.kind == "network" and delivery.failures + 1 >= max_attempts:
            found = self._lookup(delivery, delivery.started_at)  # last try: did the unanswered request land?
            if found:
                return Outcome(delivery, "recovered_sent", result=result, sid=found)
        return Outcome(delivery, str(action), result=result, action=action)

    def _lookup(self, delivery: Delivery, since: float) -> str | None:
        start = datetime.fromtimestamp(since - CLOCK_SKEW_S, UTC)
        found = self.gateway.find_sent(delivery.phone, since=start, body=delivery.body)
        return found[0] if found else None

    # --- recording ----------------------------------------------------------------------------------

    def _record(self, outcomes: list[Outcome], campaign: Campaign) -> None:
        """Writes one chunk's results, suppressions, streak and any auto-pause in ONE transaction."""
        now = time.time()
        settles, closes, opt_outs = [], [], []
        pause_reason = None
        with self.ledger.write() as con:
            fresh = Campaign.from_row(con.execute(load_sql("sender/campaign_get.sql"), self._keys).fetchone())
            streak = fresh.failure_streak
            for item in outcomes:
                settle, close = self._settlement(item, fresh, now)
                settles.append(settle)
                closes.append(close)
                if item.outcome in ("sent", "recovered_sent"):
                    streak = 0
                elif item.action in (Action.FAIL, Action.RETRY):
                    streak += 1
                elif item.action is Action.SUPPRESS:
                    opt_outs.append(item)
                elif item.action is Action.PAUSE and pause_reason is None:
                    pause_reason = f"Twilio error {item.result.error_code}: {item.result.error_message}"
            con.executemany(load_sql("sender/recipient_settle.sql"), settles)
            con.executemany(load_sql("sender/attempt_close.sql"), closes)
            con.executemany(
                load_sql("sender/suppression_add_opt_out.sql"),
                [
                    {"tenant_id": self.tenant_id, "phone_e164": o.delivery.phone, "reason": "replied STOP (21610)"}
                    for o in opt_outs
                ],
            )
            con.execute(load_sql("sender/campaign_set_streak.sql"), {**self._keys, "failure_streak": streak})
            if pause_reason is None and streak >= fresh.failure_streak_pause:
                pause_reason = f"{streak} failed attempts in a row (last: {self._last_error(outcomes)})"
            if pause_reason is not None and fresh.state == "sending":
                transition(con, self.tenant_id, self.campaign_id, "pause", reason=pause_reason)
            self._renew(con)
        self.summary.chunks += 1
        if self.on_chunk:
            self.on_chunk(self.summary)

    @staticmethod
    def _last_error(outcomes: list[Outcome]) -> str:
        for item in reversed(outcomes):
            if item.result is not None and not item.result.ok:
                return f"{item.result.error_code or 'no code'}: {item.result.error_message}"
        return "unknown"

    def _settlement(self, item: Outcome, campaign: Campaign, now: float) -> tuple[dict, dict]:
        """The recipient update and the attempts-log close for one outcome; counts it in the summary."""
        d, result = item.delivery, item.result
        state, failures, due_at, verify_since, skip_reason = "pending", d.failures, now, None, None
        outcome = item.outcome
        if outcome in ("sent", "recovered_sent"):
            state = "sent"
            self.summary.sent += 1
            self.summary.recovered += outcome == "recovered_sent"
        elif outcome == "released":
            self.summary.released += 1
        elif item.action is Action.SUPPRESS:
            state, skip_reason, outcome = "skipped", "opted_out", "opted_out"
            self.summary.skipped += 1
        elif item.action is Action.FAIL:
            state, failures, outcome = "failed", failures + 1, "failed"
            self.summary.failed += 1
        elif item.action is Action.RETRY:
            failures += 1
            if failures >= campaign.max_attempts:
                state, outcome = "failed", "failed"
                self.summary.failed += 1
            else:
                delay = backoff_seconds(failures, campaign.retry_base_seconds, self.rng)
                due_at = now + max(delay, result.retry_after or 0.0)
                verify_since = d.started_at if result.kind == "network" else None
                self.summary.retried += 1
        if state == "pending" and campaign.state == "cancelled":
            state, skip_reason = "skipped", "cancelled"
        if result is not None and not result.ok:
            self.summary.error_codes[result.error_code or result.kind] += 1
        settle = {
            "recipient_id": d.recipient_id,
            "claim_id": d.claim_id,
            "state": state,
            "failures": failures,
            "due_at": due_at,
            "verify_since": verify_since,
            "sid": item.sid,
            "error_code": result.error_code if result is not None and not result.ok else None,
            "error_message": result.error_message if result is not None and not result.ok else None,
            "skip_reason": skip_reason,
            "sent_at": now if state == "sent" else None,
            "now": now,
        }
        close = {
            "recipient_id": d.recipient_id,
            "attempt_no": d.attempt_no,
            "now": now,
            "outcome": outcome,
            "error_code": settle["error_code"],
            "error_message": settle["error_message"],
            "http_status": result.http_status if result is not None else None,
            "sid": item.sid,
        }
        return settle, close

    # --- recovery after a crash ---------------------------------------------------------------------

    def _recover_stranded(self, pool: ThreadPoolExecutor) -> None:
        """Recipients a dead run left in `sending`: wait out their lease, then ask Twilio what happened."""
        while True:
            with self.ledger.read() as con:
                rows = con.execute(
                    load_sql("sender/stale_sending.sql"), {"campaign_id": self.campaign_id}
                ).fetchall()
            if not rows:
                return
            now = time.time()
            expired = [row for row in rows if (row["lease_until"] or 0) <= now]
            if not expired:
                time.sleep(min(max(min(row["lease_until"] for row in rows) - now, 0.0) + 0.05, TARGET_CHUNK_S))
                with self.ledger.write() as con:
                    self._renew(con)
                continue
            deliveries = [
                Delivery(
                    recipient_id=row["recipient_id"],
                    phone=row["phone_e164"],
                    body=row["body"],
                    attempt_no=row["attempts"],
                    failures=row["failures"],
                    verify_since=None,
                    claim_id=row["claim_id"],
                    started_at=row["attempt_started_at"],
                    lease_until=row["lease_until"],
                )
                for row in expired
            ]
            found = list(pool.map(lambda d: self._lookup(d, d.started_at), deliveries))
            outcomes = [
                Outcome(d, "recovered_sent", sid=sid) if sid else Outcome(d, "recovered_unsent")
                for d, sid in zip(deliveries, found, strict=True)
            ]
            self._record(outcomes, get_campaign(self.ledger, self.tenant_id, self.campaign_id))


def json_ids(ids: list[int]) -> str:
    """Recipient ids as a JSON array, bound as one parameter and read by SQLite's json_each."""
    return "[" + ",".join(str(int(i)) for i in ids) + "]"
