"""The send engine: one `CampaignRun` owns one running campaign — claim a chunk, send it, record it, repeat.

Order of work, which is what makes a crash harmless:
1. a chunk of due recipients is claimed in one transaction (pending -> sending, with a lease and an open
   attempts-log row) BEFORE any request; numbers suppressed since launch are skipped right there;
2. the chunk is sent by a thread pool under the campaign's rate limit (token bucket);
3. the chunk's results are written in ONE transaction; then the campaign's state is read afresh from the
   ledger, so a pause or cancel by anyone takes effect before the next chunk.
Exactly once, as far as Twilio allows (its create call is not idempotent): after any ambiguous outcome (no answer,
a dropped connection, any 5xx) and after a crash, a recipient is "to verify" (`verify_since`, kept across any
number of crashes) and is looked up in Twilio's message list before anything is resent: found -> sent with that SID,
not found -> sent now. A lookup that fails leaves the recipient to verify, due later; it never resends.
Throttles (429, 21611, 30001) back the sender off as a whole and never count against a person's attempts. The rate
limit is the sender's, shared through the ledger (`pacing.py`). Quiet hours and the frequency cap are claim-time
gates (`gates.py`): a recipient held back is deferred (due later, still pending) or skipped as frequency_cap. A
watcher thread renews the run's hold on the campaign independently of the chunks and halts every wait within
WATCH_S of a pause, cancel or lost hold. A metered tenant's chunk reserves its SMS credits in the claim's
transaction, after the gates (only what the balance covers; none left pauses the campaign "out of credits"); the
transaction that records each outcome keeps or refunds them.
A scheduled campaign is not started before its send time (the run stops as `scheduled`, sending nothing) nor later
than its max lateness (cancelled as missed_schedule); one that freezes its audience at send time has it frozen by
the run, while it holds the campaign.
"""

from __future__ import annotations

import json
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

from orchestration.credits import account as credits
from orchestration.delivery.settings import callback_url
from orchestration.gateway import Action, GatewayError, SendResult, classify
from orchestration.gateway.errors import error_meaning
from orchestration.ledger import Ledger
from orchestration.ledger.store import LedgerError
from orchestration.sender.campaigns import Campaign, get_campaign, lock_campaign, miss_schedule_in, transition
from orchestration.sender.faults import Faults
from orchestration.sender.gates import SendRules, hold_back
from orchestration.sender.pacing import SenderPacing
from orchestration.sender.ratelimit import TokenBucket
from orchestration.sender.schedule import verdict
from orchestration.sqlfiles import load_sql

RUNNER_LEASE_S = 30.0  # a run's hold on its campaign lasts this long unless the watcher renews it
RENEW_EVERY_S = 5.0  # the watcher renews the hold this often, whatever the chunks are doing
WATCH_S = 0.2  # the watcher reads the campaign's state this often: pause and cancel act within a second
LEASE_MARGIN_S = 1.0  # slack after the last moment a request may start, before a claim counts as stranded
TARGET_CHUNK_S = 0.5  # chunks sized to take about this long: pause takes effect within one chunk
MAX_CHUNK = 1000
FIRST_UNLIMITED_CHUNK = 50
CLOCK_SKEW_S = 5.0  # look up stranded attempts from a little before they started
JITTER = 0.1  # back-off delays vary by +-10%
LOOKUP_SETTLE_ENV = "BKNTC_SMS_LOOKUP_SETTLE_S"
DEFAULT_LOOKUP_SETTLE_S = 30.0  # Twilio's message list may show a new message a little late: look up after this


def lookup_settle_s() -> float:
    """Seconds after an ambiguous attempt could have reached Twilio before a lookup may conclude "not sent"."""
    return float(os.environ.get(LOOKUP_SETTLE_ENV) or DEFAULT_LOOKUP_SETTLE_S)


class Sender(Protocol):
    """What the engine needs from a gateway (see orchestration.gateway.Gateway)."""

    timeout: float
    sender: str

    def send(self, to: str, body: str, status_callback: str | None = None) -> SendResult: ...

    def find_sent(self, to: str, since: datetime, body: str | None = None) -> list[str]: ...


@dataclass(frozen=True)
class Delivery:
    """One claimed recipient, as the send threads see it."""

    recipient_id: int
    phone: str
    body: str
    attempt_no: int
    failures: int
    verify_since: float | None  # an earlier attempt may have reached Twilio: look it up before sending
    claim_id: str
    started_at: float
    lease_until: float
    segments: int = 1
    not_before: float = 0.0  # the chunk's send slot for this message (the sender's shared pacing)


@dataclass(frozen=True)
class Outcome:
    """What became of one claimed recipient: an outcome name, the provider's answer, a found SID."""

    delivery: Delivery
    outcome: str  # sent | recovered_sent | released | lookup_failed | failed_unsent | error | or a failure's action
    result: SendResult | None = None
    action: Action | None = None
    sid: str | None = None
    due_at: float | None = None  # released or throttled: not before then


@dataclass
class RunSummary:
    """What one run did; `stopped` says why it ended: completed, paused, cancelled, waiting (the next retry is
    later than the run may wait), scheduled (its send time, `next_due_at`, has not come), busy (another live run
    owns the campaign), lost (another run took the campaign over) or draft."""

    campaign_id: int
    tenant_id: int
    stopped: str = ""
    sent: int = 0
    failed: int = 0
    skipped: int = 0
    retried: int = 0
    recovered: int = 0
    released: int = 0
    throttled: int = 0
    stranded: int = 0  # left in `sending` by a dead run, made "to verify" by this one
    deferred: int = 0  # held back by quiet hours or the frequency cap: due later, still pending
    lookups: int = 0
    lookup_failures: int = 0
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
            "throttled": self.throttled,
            "stranded": self.stranded,
            "deferred": self.deferred,
            "lookups": self.lookups,
            "lookup_failures": self.lookup_failures,
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
        freeze: Callable[[], None] | None = None,
        now: float | None = None,
    ) -> None:
        """`freeze` freezes the audience of a campaign scheduled to freeze at its send time (it needs the warehouse:
        `runner.run_campaign` gives it); `now` is the instant the run starts at (default: the clock): its clock runs
        on from there, for the schedule, the quiet hours, the frequency cap, leases and retries alike."""
        self.ledger = ledger
        self.tenant_id = tenant_id
        self.campaign_id = campaign_id
        self.gateway = gateway
        self.max_wait_s = max_wait_s
        self.workers = workers
        self.on_chunk = on_chunk
        self.faults = faults or Faults.from_env()
        self.rng = rng or random.Random()
        self.freeze = freeze
        self._offset = 0.0 if now is None else now - time.time()
        self.runner_id = uuid.uuid4().hex
        self.summary = RunSummary(campaign_id, tenant_id)
        self.pacing = SenderPacing(tenant_id, gateway.sender)
        self.settle_s = lookup_settle_s()
        self.status_callback = callback_url(ledger, tenant_id)  # the tenant's public URL, ?tenant=T; None: polled
        self._halt = threading.Event()  # stop sending now: paused, cancelled, lost hold, or a pause-worthy error
        self._lost = threading.Event()  # another run holds the campaign now
        self._finished = threading.Event()
        self._throttle_lock = threading.Lock()
        self._throttled_until = 0.0
        self._bucket = TokenBucket(0)
        self._chunk_size = FIRST_UNLIMITED_CHUNK
        self._sender_rate = 0.0

    def _clock(self) -> float:
        """The run's time (Unix seconds): the wall clock, shifted to start at the `now` a caller injected."""
        return time.time() + self._offset

    @property
    def _keys(self) -> dict[str, Any]:
        return {"tenant_id": self.tenant_id, "campaign_id": self.campaign_id}

    # --- the run ------------------------------------------------------------------------------------

    def run(self) -> RunSummary:
        """Owns the campaign for the run's duration; returns what was done (decided from the ledger)."""
        refused = self._acquire()
        if refused is not None:
            self.summary.stopped = refused
            self.summary.finished = time.time()
            return self.summary
        watcher = threading.Thread(target=self._watch, name=f"watch-{self.campaign_id}", daemon=True)
        watcher.start()
        try:
            self._freeze_if_pending()
            self._recover_stranded()
            with ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="send") as pool:
                self._work(pool)
        finally:
            self._finished.set()
            watcher.join(timeout=5)
            with self.ledger.write() as con:
                con.execute(load_sql("sender/runner_release.sql"), {**self._keys, "runner_id": self.runner_id})
            self.summary.finished = time.time()
        return self.summary

    def _acquire(self) -> str | None:
        """Takes hold of the campaign; None, or why the run stops at once (busy, scheduled, cancelled)."""
        now = self._clock()
        with self.ledger.write() as con:
            lock_campaign(con, self.tenant_id, self.campaign_id)  # two runs starting at once: one takes the hold
            campaign = Campaign.from_row(con.execute(load_sql("sender/campaign_get.sql"), self._keys).fetchone())
            if campaign.state in ("completed", "paused", "cancelled", "draft"):
                return campaign.state  # nothing for a run to do: say so, not "busy"
            if self._owned_by_live_run(campaign, now):
                return "busy"
            if campaign.state == "queued" and campaign.send_at is not None and campaign.first_run_at is None:
                due = verdict(campaign.send_at, campaign.max_lateness_s, now)
                if due == "early":
                    self.summary.next_due_at = campaign.send_at
                    return "scheduled"
                if due == "missed":
                    self.summary.pause_reason = miss_schedule_in(con, self.tenant_id, self.campaign_id, now
                                                                 ).pause_reason  # fmt: skip
                    return "cancelled"
            con.execute(load_sql("sender/campaign_first_run.sql"), {**self._keys, "now": now})
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
        return None

    def _freeze_if_pending(self) -> None:
        """A campaign scheduled to freeze at its send time: its audience is frozen now, under this run's hold."""
        if not get_campaign(self.ledger, self.tenant_id, self.campaign_id).freeze_pending:
            return
        if self.freeze is None:
            raise ValueError("this campaign freezes its audience at its send time: the run needs `freeze`")
        self.freeze()

    @staticmethod
    def _owned_by_live_run(campaign: Campaign, now: float) -> bool:
        if campaign.runner_id is None or (campaign.runner_lease_until or 0) < now:
            return False
        if campaign.runner_host != socket.gethostname():
            return True
        return campaign.runner_pid == os.getpid() or _pid_alive(campaign.runner_pid)

    def _watch(self) -> None:
        """The run's heartbeat, independent of chunk progress: renews the hold every RENEW_EVERY_S and halts every
        wait as soon as the campaign is no longer sending or another run holds it."""
        renewed = time.monotonic()
        while not self._finished.wait(WATCH_S):
            try:
                with self.ledger.read() as con:
                    row = con.execute(load_sql("sender/campaign_watch.sql"), self._keys).fetchone()
                if row is None or row["runner_id"] != self.runner_id:
                    self._lost.set()
                if row is None or row["state"] != "sending" or self._lost.is_set():
                    self._halt.set()
                if time.monotonic() - renewed >= RENEW_EVERY_S and not self._lost.is_set():
                    with self.ledger.write() as con:
                        if not self._renew(con):
                            self._lost.set()
                            self._halt.set()
                    renewed = time.monotonic()
            except LedgerError:  # a busy ledger: try again next tick; the hold lasts RUNNER_LEASE_S
                if time.monotonic() - renewed > RUNNER_LEASE_S - RENEW_EVERY_S:
                    self._lost.set()
                    self._halt.set()

    def _renew(self, con: Any) -> bool:
        """Extends the hold; False when this run no longer holds the campaign."""
        return (
            con.execute(
                load_sql("sender/runner_renew.sql"),
                {**self._keys, "runner_id": self.runner_id, "lease_until": self._clock() + RUNNER_LEASE_S},
            ).rowcount
            > 0
        )

    def _work(self, pool: ThreadPoolExecutor) -> None:
        while True:
            if self._lost.is_set():
                self.summary.stopped = "lost"
                return
            campaign = get_campaign(self.ledger, self.tenant_id, self.campaign_id)
            if campaign.state != "sending":
                self.summary.stopped = campaign.state
                self.summary.pause_reason = campaign.pause_reason
                return
            self._halt.clear()  # the watcher sets it again within WATCH_S if the campaign stops meanwhile
            self._bucket.rate = campaign.rate_limit_per_s
            self._bucket.burst = max(1.0, campaign.rate_limit_per_s * 0.2)
            chunk = self._claim(campaign)
            if chunk:
                self._record(self._send(pool, chunk, campaign), campaign)
                continue
            if not self._wait_for_due(campaign):
                return

    def _wait_for_due(self, campaign: Campaign) -> bool:
        """Nothing due now: complete the campaign, or wait a little towards the next due recipient (False: stop)."""
        if self._lost.is_set():
            return True
        with self.ledger.write() as con:
            # Locked before counting: a re-send after a delivery error (delivery.rules.select_resends) puts a
            # recipient back to pending under this lock, so it is counted here or finds the campaign completed and
            # reopens it, never lands in between (a completed campaign holding a recipient no run sends).
            lock_campaign(con, self.tenant_id, self.campaign_id)
            fresh = Campaign.from_row(con.execute(load_sql("sender/campaign_get.sql"), self._keys).fetchone())
            if fresh.state != "sending":  # paused or cancelled meanwhile: the loop reports it
                return True
            left = con.execute(load_sql("sender/unfinished.sql"), {"campaign_id": self.campaign_id}).fetchone()
            if left["pending"] == 0 and left["sending"] == 0:
                self.summary.stopped = transition(con, self.tenant_id, self.campaign_id, "complete").state
                return False
        if left["pending"] == 0:  # only another run's claims are left: a later run recovers them
            self.summary.stopped = "waiting"
            return False
        wait = left["next_due_at"] - self._clock()
        if wait > self.max_wait_s:
            self.summary.stopped = "waiting"
            self.summary.next_due_at = left["next_due_at"]
            return False
        self._halt.wait(min(max(wait, 0.0), TARGET_CHUNK_S))
        return True

    # --- claiming -----------------------------------------------------------------------------------

    def _next_chunk_size(self, campaign: Campaign, sender_rate: float) -> int:
        rates = [rate for rate in (campaign.rate_limit_per_s, sender_rate) if rate > 0]
        if rates:
            return max(1, min(MAX_CHUNK, math.ceil(min(rates) * TARGET_CHUNK_S)))
        return self._chunk_size

    def _claim(self, campaign: Campaign) -> list[Delivery]:
        """One transaction: the next due recipients, their send slots at the sender, their lease."""
        now = self._clock()
        claim_id = uuid.uuid4().hex
        with self.ledger.write() as con:
            if not con.execute(load_sql("sender/runner_is_owner.sql"), {**self._keys, "runner_id": self.runner_id}
                               ).fetchone()["owner"]:  # fmt: skip
                self._lost.set()
                self._halt.set()
                return []
            sender = self.pacing.state(con)
            self._sender_rate = sender.throughput
            size = self._next_chunk_size(campaign, sender.throughput)
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
            held = hold_back(con, SendRules.for_campaign(con, campaign), self.tenant_id, id_list, now)
            self.summary.deferred += len(held.deferred)
            skipped += len(held.skipped)
            if held.ids:
                id_list = json_ids([i for i in ids if i not in held.ids])
            id_list, out_of_credits = credits.fit_claim(con, self.tenant_id, id_list)
            if out_of_credits is not None:
                transition(con, self.tenant_id, self.campaign_id, "pause", reason=out_of_credits)
                self.summary.skipped += skipped
                return []
            rows = con.execute(
                load_sql("sender/claim_mark_sending.sql"),
                {"ids": id_list, "claim_id": claim_id, "lease_until": now, "now": now},
            ).fetchall()
            segments = sum(row["segments"] for row in rows)
            credits.reserve(con, self.tenant_id, self.campaign_id, claim_id, segments, now)
            slots = self.pacing.take(con, sender, segments, now)
            starts, before = [], 0
            for row in rows:
                starts.append(slots.offset(before))
                before += row["segments"]
            local = len(rows) / campaign.rate_limit_per_s if campaign.rate_limit_per_s > 0 else TARGET_CHUNK_S * 4
            lookups = 2 * self.gateway.timeout if any(row["verify_since"] is not None for row in rows) else 0.0
            lease_until = max(starts, default=now) + local + lookups + 2 * self.gateway.timeout + LEASE_MARGIN_S
            con.execute(load_sql("sender/claim_set_lease.sql"), {"claim_id": claim_id, "lease_until": lease_until})
            con.execute(load_sql("sender/attempts_open.sql"), {"ids": id_list, "claim_id": claim_id})
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
                segments=row["segments"],
                not_before=start,
            )
            for row, start in zip(rows, starts, strict=True)
        ]

    # --- sending ------------------------------------------------------------------------------------

    def _send(self, pool: ThreadPoolExecutor, chunk: list[Delivery], campaign: Campaign) -> list[Outcome]:
        started = time.monotonic()
        futures = [pool.submit(self._deliver, d, campaign.max_attempts) for d in chunk]
        outcomes, bug = [], None
        for delivery, future in zip(chunk, futures, strict=True):
            try:
                outcomes.append(future.result())
            except Exception as exc:  # a bug: record the others, keep this one to verify, then stay loud
                outcomes.append(Outcome(delivery, "error"))
                bug = bug or exc
        if bug is not None:
            self._record(outcomes, campaign)
            raise bug
        if campaign.rate_limit_per_s <= 0 and self._sender_rate <= 0:
            took = max(time.monotonic() - started, 1e-3)
            self._chunk_size = max(10, min(MAX_CHUNK, int(len(chunk) / took * TARGET_CHUNK_S)))
        self.faults.hit("before_record")
        return outcomes

    def _wait_until(self, instant: float) -> bool:
        """Sleeps until `instant` unless the run halts first (False then)."""
        delay = instant - self._clock()
        return not (self._halt.wait(delay) if delay > 0 else self._halt.is_set())

    def _throttle_wait(self) -> float:
        with self._throttle_lock:
            return self._throttled_until

    def _deliver(self, delivery: Delivery, max_attempts: int) -> Outcome:
        """One recipient, in a send thread: settle an earlier ambiguous attempt, wait for the slot, send."""
        if not self._wait_until(delivery.not_before):
            return Outcome(delivery, "released")
        if delivery.verify_since is not None:
            try:
                found = self._lookup(delivery, delivery.verify_since)
            except GatewayError:
                return Outcome(delivery, "lookup_failed")
            if found:
                return Outcome(delivery, "recovered_sent", sid=found)
            if delivery.failures >= max_attempts:  # it did not land, and it had its tries: failed, not resent
                return Outcome(delivery, "failed_unsent")
        if not self._bucket.acquire(self._halt):
            return Outcome(delivery, "released")
        throttled_until = self._throttle_wait()
        if throttled_until > self._clock():
            return Outcome(delivery, "released", due_at=throttled_until)
        latest_start = delivery.lease_until - self.gateway.timeout - LEASE_MARGIN_S
        if self._halt.is_set() or self._clock() > latest_start:
            return Outcome(delivery, "released")
        self.faults.hit("before_request")
        callback = {"status_callback": self.status_callback} if self.status_callback else {}
        result = self.gateway.send(delivery.phone, delivery.body, **callback)
        if result.ok:
            self.faults.hit("after_accept")
            return Outcome(delivery, "sent", result=result, sid=result.sid)
        action = classify(result)
        if action is Action.THROTTLE:
            return Outcome(delivery, "throttled", result=result, action=action, due_at=self._throttle(result))
        if action is Action.PAUSE:
            self._halt.set()
        return Outcome(delivery, str(action), result=result, action=action)

    def _throttle(self, result: SendResult) -> float:
        """Twilio asked the sender to slow down: every run on this sender waits (in the ledger), and so does the
        rest of this chunk."""
        with self.ledger.write() as con:
            until = self.pacing.throttle(con, self._clock(), result.retry_after)
        with self._throttle_lock:
            self._throttled_until = max(self._throttled_until, until)
        return until

    def _lookup(self, delivery: Delivery, since: float) -> str | None:
        """The SID of this recipient's message if an earlier attempt reached Twilio (a GatewayError if Twilio
        cannot say). A SID that another recipient of the tenant already owns is not this recipient's."""
        self.summary.lookups += 1
        start = datetime.fromtimestamp(since - self._offset - CLOCK_SKEW_S, UTC)  # Twilio keeps wall-clock times
        try:
            found = self.gateway.find_sent(delivery.phone, since=start, body=delivery.body)
        except GatewayError:
            self.summary.lookup_failures += 1
            raise
        if not found:
            return None
        with self.ledger.read() as con:
            owned = {
                row[0]
                for row in con.execute(
                    load_sql("sender/sids_owned.sql"),
                    {"tenant_id": self.tenant_id, "sids": json.dumps(found), "recipient_id": delivery.recipient_id},
                )
            }
        mine = [sid for sid in found if sid not in owned]
        return mine[-1] if mine else None  # the oldest: the first attempt that landed

    # --- recording ----------------------------------------------------------------------------------

    def _record(self, outcomes: list[Outcome], campaign: Campaign) -> None:
        """Writes one chunk's results, suppressions, streak and any auto-pause in ONE transaction."""
        now = self._clock()
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
                    pause_reason = _pause_reason(item.result)
            if any(item.outcome == "sent" for item in outcomes):
                self.pacing.unthrottle(con)  # the sender's row before the credit balance's, as a claim takes them
            credits.settle_attempts(con, outcomes, settles, closes, now)
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
        state, failures, due_at, skip_reason = "pending", d.failures, max(now, item.due_at or now), None
        verify_since = d.verify_since  # stays until a lookup settles it
        outcome = item.outcome
        if outcome in ("sent", "recovered_sent"):
            state, verify_since = "sent", None
            self.summary.sent += 1
            self.summary.recovered += outcome == "recovered_sent"
        elif outcome == "released":
            self.summary.released += 1
        elif outcome == "error":  # its thread failed, maybe after the request went out: look it up first
            verify_since = min(d.verify_since or d.started_at, d.started_at)
            due_at = now + self.gateway.timeout + self.settle_s
        elif outcome == "lookup_failed":
            due_at = now + backoff_seconds(1, campaign.retry_base_seconds, self.rng)
        elif outcome == "failed_unsent":
            state, verify_since, outcome = "failed", None, "failed"
            self.summary.failed += 1
        elif item.action is Action.THROTTLE:
            self.summary.throttled += 1
        elif item.action is Action.PAUSE:
            pass  # the campaign pauses; the recipient waits for the resume, its attempts untouched
        elif item.action is Action.SUPPRESS:
            state, skip_reason, outcome, verify_since = "skipped", "opted_out", "opted_out", None
            self.summary.skipped += 1
        elif item.action is Action.FAIL:
            state, failures, outcome, verify_since = "failed", failures + 1, "failed", None
            self.summary.failed += 1
        elif item.action is Action.RETRY:
            failures += 1
            if result.ambiguous:  # Twilio may have created it: look it up before any resend, and before failing
                outcome = "ambiguous"
                verify_since = min(d.verify_since or d.started_at, d.started_at)
                delay = backoff_seconds(failures, campaign.retry_base_seconds, self.rng)
                in_flight = self.gateway.timeout if result.kind == "network" else 0.0  # a 5xx answer ends it
                due_at = max(now + delay, now + in_flight + self.settle_s)
                self.summary.retried += failures < campaign.max_attempts  # the last one is only looked up
            elif failures >= campaign.max_attempts:
                state, outcome, verify_since = "failed", "failed", None
                self.summary.failed += 1
            else:
                due_at = now + max(backoff_seconds(failures, campaign.retry_base_seconds, self.rng),
                                   result.retry_after or 0.0)  # fmt: skip
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

    def _recover_stranded(self) -> None:
        """Recipients a dead run left in `sending` become "to verify": pending, looked up before any resend once
        their lease is over and Twilio's list has settled. One transaction, no request: a crash here changes
        nothing, and the need to look up survives every later crash."""
        now = self._clock()
        with self.ledger.write() as con:
            rows = con.execute(
                load_sql("sender/stranded_to_verify.sql"),
                {"campaign_id": self.campaign_id, "now": now, "settle_s": self.settle_s},
            ).fetchall()
            con.executemany(
                load_sql("sender/attempt_interrupted.sql"),
                [{"recipient_id": row["recipient_id"], "attempt_no": row["attempts"], "now": now} for row in rows],
            )
        self.summary.stranded += len(rows)


def _pause_reason(result: SendResult) -> str:
    """Why a configuration error paused the campaign: the code, what it means, and Twilio's words."""
    meaning = error_meaning(result.error_code)
    words = f"{meaning} (Twilio: {result.error_message})" if meaning else result.error_message
    return f"Twilio error {result.error_code or result.http_status}: {words}"


def json_ids(ids: list[int]) -> str:
    """Recipient ids as a JSON array, bound as one parameter and read by SQLite's json_each."""
    return "[" + ",".join(str(int(i)) for i in ids) + "]"
