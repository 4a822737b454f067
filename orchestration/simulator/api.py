"""Twilio's Messages and Accounts resources as the simulator answers them (no HTTP here: request in, response out)."""

from __future__ import annotations

import math
import random
import re
import secrets
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any
from urllib.parse import urlencode

from orchestration.messages.segments import count_segments
from orchestration.simulator.faults import Faults, error_body
from orchestration.simulator.spec import schema_problems
from orchestration.simulator.store import MessageQuery, MessageStore

API = "/2010-04-01"
E164 = re.compile(r"^\+[1-9]\d{1,14}$")
ALPHANUMERIC_SENDER = re.compile(r"^(?=.*[A-Za-z])[A-Za-z0-9 ]{1,11}$")
MAX_BODY = 1600
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 1000


@dataclass(frozen=True)
class Reply:
    """One HTTP answer: status, JSON body, extra headers; `delay_s` is slept before answering."""

    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0


def error_reply(code: int, message: str | None = None, **headers: str) -> Reply:
    status, body = error_body(code, message)
    return Reply(status, body, headers)


def rfc2822(instant: datetime) -> str:
    return format_datetime(instant.astimezone(UTC).replace(microsecond=0)).replace("-0000", "+0000")


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

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._buckets: dict[str, tuple[float, float]] = {}

    def take(self, sender: str, rate: float) -> float:
        """0 if the sender may send now (a token is spent), else the seconds until it may."""
        capacity = max(1.0, rate)
        now = time.monotonic()
        with self._lock:
            tokens, stamp = self._buckets.get(sender, (capacity, now))
            tokens = min(capacity, tokens + (now - stamp) * rate)
            if tokens >= 1.0:
                self._buckets[sender] = (tokens - 1.0, now)
                return 0.0
            self._buckets[sender] = (tokens, now)
            return (1.0 - tokens) / rate

    def clear(self) -> None:
        with self._lock:
            self._buckets.clear()


class MessagesApi:
    """Auth, validation, fault injection and the Messages/Accounts resources of one simulated Twilio."""

    def __init__(
        self, accounts: dict[str, str], faults: Faults, store: MessageStore, seed: int | None, strict: bool
    ) -> None:
        self.accounts = dict(accounts)
        self.faults = faults
        self.store = store
        self.strict = strict
        self._stats: Counter[str] = Counter()
        self._stats_lock = threading.Lock()
        self._rng = random.Random(seed)
        self._rng_lock = threading.Lock()
        self._throttle = SenderThrottle()
        self._created = datetime.now(UTC)

    # -- plumbing -------------------------------------------------------------------------------------------

    def count(self, event: str) -> None:
        with self._stats_lock:
            self._stats[event] += 1

    def stats(self) -> dict[str, int]:
        """Counters: requests, creates, accepted, error_<code>."""
        with self._stats_lock:
            return dict(self._stats)

    def _draw(self) -> float:
        with self._rng_lock:
            return self._rng.random()

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
        with self._stats_lock:
            self._stats.clear()

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
        message = self.store.get(account_sid, sid)
        if message is None:
            path = f"{API}/Accounts/{account_sid}/Messages/{sid}.json"
            return error_reply(20404, f"The requested resource {path} was not found")
        return Reply(200, message)

    def create_message(self, account_sid: str, form: dict[str, list[str]]) -> Reply:
        self.count("creates")
        reply = self._refusal(form) or self._injected_fault(form)
        if reply is not None and reply.status != 201:
            self.count(f"error_{reply.body['code']}")
            return reply
        message = self._new_message(account_sid, form)
        self.store.add(message)
        self.count("accepted")
        return Reply(201, message, delay_s=reply.delay_s if reply else 0.0)

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

    def _injected_fault(self, form: dict[str, list[str]]) -> Reply | None:
        """Throughput limit, rate-drawn faults (429, slow, error codes), then the destination-suffix table.

        A 201 reply means "accept, but answer only after `delay_s`" (the slow fault: the message IS created).
        """
        faults = self.faults
        sender = (form.get("MessagingServiceSid") or form["From"])[0]
        if faults.rate_limit_per_sender:
            wait = self._throttle.take(sender, faults.rate_limit_per_sender)
            if wait:
                return error_reply(20429, **{"Retry-After": str(max(1, math.ceil(wait)))})
        if faults.rate_429 or faults.slow_rate or faults.error_rates:
            draw = self._draw()
            if draw < faults.rate_429:
                return error_reply(20429, **{"Retry-After": str(faults.retry_after_s)})
            draw -= faults.rate_429
            if draw < faults.slow_rate:
                refused = faults.suffix_error(form["To"][0])  # slow or not, Twilio never accepts a refused number
                return error_reply(refused) if refused else Reply(201, {}, delay_s=faults.slow_s)
            draw -= faults.slow_rate
            for code, rate in faults.error_rates.items():
                if draw < rate:
                    return error_reply(code)
                draw -= rate
        code = faults.suffix_error(form["To"][0])
        return error_reply(code) if code else None

    def _new_message(self, account_sid: str, form: dict[str, list[str]]) -> dict[str, Any]:
        one = {name: values[0] for name, values in form.items() if values}
        sid = "SM" + secrets.token_hex(16)
        stamp = rfc2822(datetime.now(UTC))
        service = one.get("MessagingServiceSid")
        media = form.get("MediaUrl", [])
        uri = f"{API}/Accounts/{account_sid}/Messages/{sid}.json"
        return {
            "body": one.get("Body", ""),
            "num_segments": str(count_segments(one.get("Body", "")).segments or 1),
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
            "date_sent": stamp,
            "date_created": stamp,
            "error_code": None,
            "price_unit": "USD",
            "api_version": "2010-04-01",
            "subresource_uris": {
                "media": f"{API}/Accounts/{account_sid}/Messages/{sid}/Media.json",
                "feedback": f"{API}/Accounts/{account_sid}/Messages/{sid}/Feedback.json",
            },
        }

    def list_messages(self, account_sid: str, params: dict[str, str]) -> Reply:
        """One page of the account's messages, newest first, with Twilio's paging fields."""
        try:
            query = self._query(params)
            page_size = min(MAX_PAGE_SIZE, max(1, int(params.get("PageSize", DEFAULT_PAGE_SIZE))))
            page = max(0, int(params.get("Page", 0)))
        except ValueError as exc:
            return error_reply(20001, str(exc))
        found = self.store.newest_first(account_sid, query)
        start = page * page_size
        token = params.get("PageToken", "")
        sids = {message["sid"]: i for i, message in enumerate(found)} if token else {}
        if token[:2] == "PA" and token[2:] in sids:
            start = sids[token[2:]] + 1
        elif token[:2] == "PB" and token[2:] in sids:
            start = max(0, sids[token[2:]] - page_size)
        chosen = found[start:start + page_size]
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
