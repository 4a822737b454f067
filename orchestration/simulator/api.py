"""Twilio's Messages and Accounts resources as the simulator answers them (no HTTP here: request in, response out).

Also the simulator's side of inbound messages (`inbound`): stored like Twilio's inbound Message resources, with the
default opt-out keywords applied (later creates from that sender to that handset answer 21610) and the sender's
incoming-message webhook posted.
"""

from __future__ import annotations

import math
import random
import re
import secrets
import threading
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any
from urllib.parse import urlencode

from orchestration.messages.segments import count_segments
from orchestration.simulator.faults import HTTP_STATUS_CODES, Faults, error_body, is_delivery_error
from orchestration.simulator.lifecycle import Clock, Schedule, SenderQueues, plan, render, rfc2822
from orchestration.simulator.spec import schema_problems
from orchestration.simulator.store import MessageQuery, MessageStore
from orchestration.simulator.webhooks import WebhookDispatcher

API = "/2010-04-01"
API_VERSION = "2010-04-01"
E164 = re.compile(r"^\+[1-9]\d{1,14}$")
ALPHANUMERIC_SENDER = re.compile(r"^(?=.*[A-Za-z])[A-Za-z0-9 ]{1,11}$")
MAX_BODY = 1600
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 1000
# Twilio's default keywords (whole body, trimmed, case-insensitive; "Twilio support for opt-out keywords").
OPT_OUT_KEYWORDS = frozenset({"STOP", "STOPALL", "STOP ALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "OPTOUT",
                              "REVOKE"})
OPT_IN_KEYWORDS = frozenset({"START", "YES", "UNSTOP"})
HELP_KEYWORDS = frozenset({"HELP", "INFO"})
BAD_GATEWAY_HTML = (b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
                    b"<center><h1>502 Bad Gateway</h1></center>\r\n</body>\r\n</html>\r\n")


@dataclass(frozen=True)
class Reply:
    """One HTTP answer: status, JSON body (or `raw` bytes of `content_type`), extra headers; `delay_s` is slept
    before answering; `drop` closes the connection without any answer."""

    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0
    raw: bytes | None = None
    content_type: str = "application/json; charset=utf-8"
    drop: bool = False


def error_reply(code: int, message: str | None = None, **headers: str) -> Reply:
    if code == HTTP_STATUS_CODES[502]:  # a load balancer's answer, not Twilio's JSON
        return Reply(502, {}, headers, raw=BAD_GATEWAY_HTML, content_type="text/html")
    status, body = error_body(code, message)
    return Reply(status, body, headers)


def keyword(body: str) -> str:
    return " ".join(body.split()).upper()


def _parse_date_filter(value: str) -> tuple[datetime, datetime]:
    """The inclusive [first, last] instants a DateSent value denotes (a whole day for YYYY-MM-DD)."""
    value = value.strip()
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        day = datetime.combine(date.fromisoformat(value), datetime.min.time(), UTC)
        return day, day + timedelta(days=1) - timedelta(microseconds=1)
    try:
        instant = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        try:
            instant = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            raise ValueError(f"DateSent value {value!r} is not a date") from None
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=UTC)
    return instant, instant + timedelta(seconds=1) - timedelta(microseconds=1)


class SenderThrottle:
    """Per-sender token buckets: `rate` messages/s, bursts of up to max(1, rate)."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._buckets: dict[str, tuple[float, float]] = {}

    def take(self, sender: str, rate: float) -> float:
        """0 if the sender may send now (a token is spent), else the seconds until it may."""
        capacity = max(1.0, rate)
        now = self._clock.now()
        with self._lock:
            tokens, stamp = self._buckets.get(sender, (capacity, now))
            tokens = min(capacity, tokens + max(0.0, now - stamp) * rate)
            if tokens >= 1.0:
                self._buckets[sender] = (tokens - 1.0, now)
                return 0.0
            self._buckets[sender] = (tokens, now)
            return (1.0 - tokens) / rate

    def clear(self) -> None:
        with self._lock:
            self._buckets.clear()


class MessagesApi:
    """Auth, validation, fault injection, the lifecycle and the Messages/Accounts resources of one simulated Twilio."""

    def __init__(
        self, accounts: dict[str, str], faults: Faults, store: MessageStore, seed: int | None, strict: bool,
        clock: Clock | None = None,
    ) -> None:
        self.accounts = dict(accounts)
        self.faults = faults
        self.store = store
        self.strict = strict
        self.clock = clock or Clock()
        self._stats: Counter[str] = Counter()
        self._stats_lock = threading.Lock()
        self._rng = random.Random(seed)
        self._rng_lock = threading.Lock()
        self._throttle = SenderThrottle(self.clock)
        self.queues = SenderQueues()
        self._created = self.clock.now()
        self._lock = threading.Lock()  # opt-outs and pool rotation
        self._opted_out: set[tuple[str, str]] = set()  # (sender number or Messaging Service SID, handset)
        self._pool_turn: Counter[str] = Counter()
        self.webhooks = WebhookDispatcher(self.clock, self.count, self._webhook_settings)
        self._restore()

    def _restore(self) -> None:
        """Sender queues and opt-outs of messages reloaded from a record file."""
        for message, schedule in self.store.entries():
            if message.get("direction") == "inbound":
                self._apply_keyword(message["to"], message["from"], message.get("body", ""))
            elif schedule is not None:
                sender = message.get("from") or message.get("messaging_service_sid") or ""
                self.queues.restore(sender, schedule.sent if schedule.sent is not None else schedule.sending)

    # -- plumbing -------------------------------------------------------------------------------------------

    def count(self, event: str) -> None:
        with self._stats_lock:
            self._stats[event] += 1

    def stats(self) -> dict[str, int]:
        """Counters: requests, creates, accepted, error_<code>, errors_after_create, dropped_after_create, slow,
        lists, fetches, list_errors, callbacks_sent/failed/given_up, incoming_webhooks_sent/failed, inbound,
        opt_outs, opt_ins."""
        with self._stats_lock:
            return dict(self._stats)

    def _draw(self) -> float:
        with self._rng_lock:
            return self._rng.random()

    def _webhook_settings(self) -> tuple[int, float, float]:
        faults = self.faults
        return faults.callback_retries, faults.callback_retry_backoff_s, faults.callback_timeout_s

    def latency_s(self) -> float:
        faults = self.faults
        if not faults.latency_ms and not faults.jitter_ms:
            return 0.0
        jitter = (self._draw() * 2 - 1) * faults.jitter_ms if faults.jitter_ms else 0.0
        return max(0.0, faults.latency_ms + jitter) / 1000.0

    def authenticate(self, credentials: tuple[str, str] | None, account_sid: str) -> Reply | None:
        """None if the Basic credentials match a configured account owning the URL's account, else 401 20003."""
        if credentials is None or self.accounts.get(credentials[0]) != credentials[1] or credentials[0] != account_sid:
            return error_reply(20003, **{"WWW-Authenticate": 'Basic realm="Twilio API"'})
        return None

    def reset(self) -> None:
        self.store.clear()
        self._throttle.clear()
        self.queues.clear()
        self.webhooks.clear()
        with self._lock:
            self._opted_out.clear()
            self._pool_turn.clear()
        with self._stats_lock:
            self._stats.clear()

    def close(self) -> None:
        self.webhooks.stop()

    def _too_many(self, retry_after_s: float) -> Reply:
        """429 20429 with Retry-After in the configured form (delta-seconds, an HTTP-date, or none)."""
        seconds = max(1, math.ceil(retry_after_s))
        form = self.faults.retry_after_form
        if form == "none":
            return error_reply(20429)
        if form == "http-date":
            instant = datetime.fromtimestamp(math.ceil(self.clock.now()) + seconds, UTC)
            return error_reply(20429, **{"Retry-After": format_datetime(instant, usegmt=True)})
        return error_reply(20429, **{"Retry-After": str(seconds)})

    def _read_fault(self) -> Reply | None:
        """The injected failure of a list or fetch request (500 or 429), if drawn."""
        if not self.faults.list_error_rate or self._draw() >= self.faults.list_error_rate:
            return None
        self.count("list_errors")
        reply = error_reply(20500) if self._draw() < 0.5 else self._too_many(self.faults.retry_after_s)
        self.count(f"error_{reply.body['code']}")
        return reply

    def now(self) -> float:
        return self.clock.now()

    # -- resources -------------------------------------------------------------------------------------------

    def fetch_account(self, sid: str) -> Reply:
        stamp = rfc2822(self._created)
        base = f"{API}/Accounts/{sid}"
        return Reply(200, {
            "auth_token": None,  # Twilio returns it; the simulator never echoes a credential.
            "date_created": stamp,
            "date_updated": stamp,
            "friendly_name": "Simulated account",
            "owner_account_sid": sid,
            "sid": sid,
            "status": "active",
            "subresource_uris": {
                "messages": f"{base}/Messages.json",
                "balance": f"{base}/Balance.json",
            },
            "type": "Full",
            "uri": f"{base}.json",
        })

    def fetch_message(self, account_sid: str, sid: str) -> Reply:
        self.count("fetches")
        fault = self._read_fault()
        if fault is not None:
            return fault
        message = self.store.get(account_sid, sid, self.clock.now())
        if message is None:
            path = f"{API}/Accounts/{account_sid}/Messages/{sid}.json"
            return error_reply(20404, f"The requested resource {path} was not found")
        return Reply(200, message)

    def create_message(self, account_sid: str, form: dict[str, list[str]]) -> Reply:
        self.count("creates")
        reply = self._refusal(form)
        if reply is not None:
            self.count(f"error_{reply.body.get('code', 20502)}")
            return reply
        one = {name: values[0] for name, values in form.items() if values}
        fault, code = self._draw_fault(one)
        if fault == "throttle":  # a 429 whose Retry-After is `code` seconds
            self.count("error_20429")
            return self._too_many(code)
        if fault == "refuse":
            self.count(f"error_{code}")
            return error_reply(code)
        later = code if fault == "later" else None
        refused, later = self._sync_checks(one, later)
        if refused is not None:
            self.count(f"error_{refused.body['code']}")
            return refused
        message, schedule = self._new_message(account_sid, one, form.get("MediaUrl", []), later)
        self.store.add(message, schedule)
        self.count("accepted")
        if one.get("StatusCallback"):
            self._schedule_callbacks(one["StatusCallback"], message, schedule)
        if fault == "after":
            self.count("errors_after_create")
            self.count(f"error_{HTTP_STATUS_CODES[code]}")
            return error_reply(HTTP_STATUS_CODES[code])
        if fault == "drop":
            self.count("dropped_after_create")
            return Reply(0, {}, drop=True)
        if fault == "slow":
            self.count("slow")
            return Reply(201, message, delay_s=self.faults.slow_s)
        return Reply(201, message)

    def _refusal(self, form: dict[str, list[str]]) -> Reply | None:
        """Twilio's synchronous validation of a create request."""
        one = {name: values[0] for name, values in form.items() if values}
        to = one.get("To", "")
        if not to:
            return error_reply(21604)
        if not one.get("From") and not one.get("MessagingServiceSid"):
            return error_reply(21603)
        if not one.get("Body") and not form.get("MediaUrl") and not one.get("ContentSid"):
            return error_reply(21602)
        problems = schema_problems(form, self.strict)
        if problems:
            return error_reply(20001, "; ".join(problems))
        if not E164.match(to):
            return error_reply(21211, f"The 'To' number {to} is not a valid phone number.")
        sender = one.get("From")
        if sender and not (E164.match(sender) or ALPHANUMERIC_SENDER.match(sender)):
            return error_reply(21212, f"The 'From' number {sender} is not a valid phone number, shortcode, "
                                 "or alphanumeric sender ID.")
        if len(one.get("Body", "")) > MAX_BODY:
            return error_reply(21617)
        return None

    @staticmethod
    def _sender(one: dict[str, str]) -> str:
        """The queue a message waits in: its From number, else its Messaging Service."""
        return one.get("From") or one["MessagingServiceSid"]

    def _draw_fault(self, one: dict[str, str]) -> tuple[str | None, int]:
        """(kind, code): the throughput limit, then one seeded draw among 429, slow, an error before creating
        ("refuse", or "later" for a delivery error), an error after creating ("after", an HTTP status) or a
        dropped connection ("drop")."""
        faults = self.faults
        if faults.rate_limit_per_sender:
            wait = self._throttle.take(self._sender(one), faults.rate_limit_per_sender)
            if wait:
                return "throttle", max(1, math.ceil(wait))
        if not (faults.rate_429 or faults.slow_rate or faults.error_rates or faults.error_after_create_rates
                or faults.drop_after_create_rate):
            return None, 0
        draw = self._draw()
        if draw < faults.rate_429:
            return "throttle", faults.retry_after_s
        draw -= faults.rate_429
        if draw < faults.slow_rate:
            return "slow", 0
        draw -= faults.slow_rate
        for code, rate in faults.error_rates.items():
            if draw < rate:
                return ("later" if is_delivery_error(code) else "refuse"), code
            draw -= rate
        for status, rate in faults.error_after_create_rates.items():
            if draw < rate:
                return "after", status
            draw -= rate
        if draw < faults.drop_after_create_rate:
            return "drop", 0
        return None, 0

    def _sync_checks(self, one: dict[str, str], later: int | None) -> tuple[Reply | None, int | None]:
        """The destination-suffix table (21xxx now, 30xxx later), opt-outs (21610) and the sender's queue
        (21611 for a number; a Messaging Service's message is created and fails with 30001, as Twilio documents)."""
        faults = self.faults
        to = one["To"]
        code = faults.suffix_error(to)
        if code is not None and not is_delivery_error(code):
            return error_reply(code), later
        later = later or code
        if self._is_opted_out(one, to):
            return error_reply(21610), later
        if faults.mode == "realistic":
            sender = self._sender(one)
            if self.queues.backlog_s(sender, self.clock.now()) > faults.queue_limit_s:
                if one.get("From"):
                    return error_reply(21611), later
                later = 30001
        return None, later

    def _is_opted_out(self, one: dict[str, str], to: str) -> bool:
        senders = [one["From"]] if one.get("From") else []
        if one.get("MessagingServiceSid"):
            senders.append(one["MessagingServiceSid"])
            if not one.get("From"):
                senders.extend(self.faults.pool(one["MessagingServiceSid"]))
        with self._lock:
            return any((sender, to) in self._opted_out for sender in senders)

    def _pool_number(self, service: str) -> str:
        pool = self.faults.pool(service)
        with self._lock:
            turn = self._pool_turn[service]
            self._pool_turn[service] += 1
        return pool[turn % len(pool)]

    def _new_message(
        self, account_sid: str, one: dict[str, str], media: list[str], later: int | None,
    ) -> tuple[dict[str, Any], Schedule]:
        sid = "SM" + secrets.token_hex(16)
        now = self.clock.now()
        stamp = rfc2822(now)
        service = one.get("MessagingServiceSid")
        body = one.get("Body", "")
        segments = count_segments(body).segments or 1
        uri = f"{API}/Accounts/{account_sid}/Messages/{sid}.json"
        message = {
            "body": body,
            "num_segments": str(segments),
            "direction": "outbound-api",
            "from": one.get("From"),
            "to": one["To"],
            "date_updated": stamp,
            "price": None,
            "error_message": None,
            "uri": uri,
            "account_sid": account_sid,
            "num_media": str(len(media)),
            "status": "queued" if one.get("From") or not service else "accepted",
            "messaging_service_sid": service,
            "sid": sid,
            "date_sent": None,
            "date_created": stamp,
            "error_code": None,
            "price_unit": "USD",
            "api_version": API_VERSION,
            "subresource_uris": {
                "media": f"{API}/Accounts/{account_sid}/Messages/{sid}/Media.json",
                "feedback": f"{API}/Accounts/{account_sid}/Messages/{sid}/Feedback.json",
            },
        }
        number = None if one.get("From") else self._pool_number(service)
        if later == 30001:  # the service's queue overflowed: failed at once, never queued
            schedule = Schedule(now, now, None, now, "failed", 30001, number)
        else:
            schedule = plan(self.faults, self.queues, self._sender(one), now, segments, later, number)
        return message, schedule

    def _schedule_callbacks(self, url: str, message: dict[str, Any], schedule: Schedule) -> None:
        """Every status change after create, posted to StatusCallback (duplicated / reordered when drawn)."""
        faults = self.faults
        token = self.accounts.get(message["account_sid"], "")
        service_only = message["from"] is None
        events = schedule.events(service_only)
        dues = [due for due, _ in events]
        if faults.callback_reorder_rate and len(events) >= 2 and self._draw() < faults.callback_reorder_rate:
            dues[-1], dues[-2] = dues[-2], dues[-1] + 0.05  # the final status arrives before the one preceding it
            self.count("callbacks_reordered")
        for due, (at, status) in zip(dues, events, strict=True):
            params = self._status_params(message, schedule, status, at)
            self.webhooks.schedule(due, url, params, token, "callback")
            if faults.callback_duplicate_rate and self._draw() < faults.callback_duplicate_rate:
                self.count("callbacks_duplicated")
                self.webhooks.schedule(due + 0.01, url, params, token, "callback")

    @staticmethod
    def _status_params(message: dict[str, Any], schedule: Schedule, status: str, at: float) -> dict[str, str]:
        """Twilio's status callback parameters for one status change."""
        params = {
            "AccountSid": message["account_sid"],
            "ApiVersion": API_VERSION,
            "From": schedule.sender_number or message["from"] or "",
            "MessageSid": message["sid"],
            "MessageStatus": status,
            "SmsSid": message["sid"],
            "SmsStatus": status,
            "To": message["to"],
        }
        if message.get("messaging_service_sid"):
            params["MessagingServiceSid"] = message["messaging_service_sid"]
        if status in ("undelivered", "failed") and schedule.error_code:
            params["ErrorCode"] = str(schedule.error_code)
        if status in ("delivered", "undelivered"):
            params["RawDlrDoneDate"] = datetime.fromtimestamp(at, UTC).strftime("%y%m%d%H%M")
        return params

    def list_messages(self, account_sid: str, params: dict[str, str]) -> Reply:
        """One page of the account's messages, newest first, with Twilio's paging fields."""
        self.count("lists")
        fault = self._read_fault()
        if fault is not None:
            return fault
        try:
            query = self._query(params)
            page_size = min(MAX_PAGE_SIZE, max(1, int(params.get("PageSize", DEFAULT_PAGE_SIZE))))
            page = max(0, int(params.get("Page", 0)))
        except ValueError as exc:
            return error_reply(20001, str(exc))
        now = self.clock.now()
        found = self.store.newest_first(account_sid, query, now, self.faults.effective_list_lag_s)
        start = page * page_size
        token = params.get("PageToken", "")
        sids = {message["sid"]: i for i, (message, _) in enumerate(found)} if token else {}
        if token[:2] == "PA" and token[2:] in sids:
            start = sids[token[2:]] + 1
        elif token[:2] == "PB" and token[2:] in sids:
            start = max(0, sids[token[2:]] - page_size)
        chosen = [render(message, schedule, now) for message, schedule in found[start:start + page_size]]
        filters = [
            (name, params[name]) for name in ("To", "From", "DateSent", "DateSent<", "DateSent>") if name in params
        ]
        base = f"{API}/Accounts/{account_sid}/Messages.json?"

        def uri(page_no: int, page_token: str | None = None) -> str:
            pairs = filters + [("PageSize", page_size), ("Page", page_no)]
            return base + urlencode(pairs + ([("PageToken", page_token)] if page_token else []))

        has_next = start + page_size < len(found)
        return Reply(200, {
            "end": page * page_size + max(0, len(chosen) - 1),
            "first_page_uri": uri(0),
            "next_page_uri": uri(page + 1, "PA" + chosen[-1]["sid"]) if has_next and chosen else None,
            "page": page,
            "page_size": page_size,
            "previous_page_uri": uri(page - 1, "PB" + chosen[0]["sid"]) if page > 0 and chosen else None,
            "start": page * page_size,
            "uri": uri(page, token or None),
            "messages": chosen,
        })

    @staticmethod
    def _query(params: dict[str, str]) -> MessageQuery:
        sent_from = sent_until = None
        if "DateSent" in params:
            sent_from, sent_until = _parse_date_filter(params["DateSent"])
        if "DateSent>" in params:
            sent_from = _parse_date_filter(params["DateSent>"])[0]
        if "DateSent<" in params:
            sent_until = _parse_date_filter(params["DateSent<"])[1]
        return MessageQuery(params.get("To"), params.get("From"), sent_from, sent_until)

    # -- inbound ---------------------------------------------------------------------------------------------

    def _apply_keyword(self, sender: str, handset: str, body: str) -> str | None:
        """Twilio's default opt-out handling of an inbound body; returns OptOutType (STOP, START, HELP) or None."""
        word = keyword(body)
        scope = [sender, *self.faults.services_of(sender)]
        if word in OPT_OUT_KEYWORDS:
            with self._lock:
                self._opted_out.update((s, handset) for s in scope)
            return "STOP"
        if word in OPT_IN_KEYWORDS:
            with self._lock:
                self._opted_out.difference_update((s, handset) for s in scope)
            return "START"
        return "HELP" if word in HELP_KEYWORDS else None

    def inbound(self, data: dict[str, Any]) -> Reply:
        """A handset's message to one of the account's senders: stored (direction inbound, status received),
        keywords applied, the sender's incoming-message webhook posted."""
        handset, sender = str(data.get("from") or ""), str(data.get("to") or "")
        body = str(data.get("body") or "")
        account_sid = str(data.get("account_sid") or next(iter(self.accounts), ""))
        if not E164.match(handset) or not sender:
            return Reply(400, {"error": "inbound needs 'from' (E.164) and 'to' (the sender's number)"})
        if account_sid not in self.accounts:
            return Reply(400, {"error": f"unknown account {account_sid}"})
        now = self.clock.now()
        stamp = rfc2822(now)
        sid = "SM" + secrets.token_hex(16)
        services = self.faults.services_of(sender)
        segments = count_segments(body).segments or 1
        message = {
            "body": body, "num_segments": str(segments), "direction": "inbound", "from": handset, "to": sender,
            "date_updated": stamp, "price": None, "error_message": None,
            "uri": f"{API}/Accounts/{account_sid}/Messages/{sid}.json", "account_sid": account_sid,
            "num_media": "0", "status": "received", "messaging_service_sid": services[0] if services else None,
            "sid": sid, "date_sent": stamp, "date_created": stamp, "error_code": None, "price_unit": "USD",
            "api_version": API_VERSION,
            "subresource_uris": {
                "media": f"{API}/Accounts/{account_sid}/Messages/{sid}/Media.json",
                "feedback": f"{API}/Accounts/{account_sid}/Messages/{sid}/Feedback.json",
            },
        }
        self.store.add(message, None)
        self.count("inbound")
        opt = self._apply_keyword(sender, handset, body)
        if opt == "STOP":
            self.count("opt_outs")
        elif opt == "START":
            self.count("opt_ins")
        url = self.faults.incoming_urls.get(sender) or next(
            (self.faults.incoming_urls[s] for s in services if s in self.faults.incoming_urls), None)
        if url:
            params = {
                "AccountSid": account_sid, "ApiVersion": API_VERSION, "Body": body, "From": handset,
                "MessageSid": sid, "NumMedia": "0", "NumSegments": str(segments), "SmsMessageSid": sid,
                "SmsSid": sid, "SmsStatus": "received", "To": sender,
            }
            if services:
                params["MessagingServiceSid"] = services[0]
            if opt:
                params["OptOutType"] = opt
            self.webhooks.schedule(now, url, params, self.accounts[account_sid], "incoming")
        return Reply(200, {"message": message, "opt_out_type": opt})
