"""The sender's only door to Twilio: send one SMS, find what was sent to a number, check the account.

The `twilio.rest.Client` comes from `orchestration.tenants.twilio_client.twilio_client`, the one place that builds
clients (base URL per tenant, else $BKNTC_SMS_TWILIO_API_URL, else the real Twilio). The gateway tunes it for
64 sending threads: one shared requests Session with a connection pool of `pool_size`, TWILIO_EDGE/TWILIO_REGION
ignored, and a per-thread copy of the last HTTP response so a 429's Retry-After reaches the caller.
"""

from __future__ import annotations

import json
import re
import threading
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from twilio.base.exceptions import TwilioException

from orchestration.gateway.errors import is_ambiguous
from orchestration.tenants.credentials import TwilioCredentials
from orchestration.tenants.twilio_client import api_base_url, check_credentials, twilio_client

REAL_TWILIO = "https://api.twilio.com"
LOOKUP_PAGE_SIZE = 50

# Twilio's Smart Encoding replaces these Unicode characters with GSM-7 look-alikes before sending.
_SMART_CHARACTERS = str.maketrans({
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'", "\u02bc": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u2033": '"', "\u00ab": '"', "\u00bb": '"',
    "\u2013": "-", "\u2014": "-", "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2212": "-",
    "\u00a0": " ", "\u2002": " ", "\u2003": " ", "\u2009": " ", "\u200b": "", "\u2026": "...",
})
_URL = re.compile(r"https?://\S+", re.IGNORECASE)
_SPACE = re.compile(r"\s+")


def comparable_body(body: str) -> str:
    """A body as Twilio may have changed it, for matching: smart characters folded to what Smart Encoding
    sends, every link one placeholder (link shortening on a Messaging Service rewrites links), runs of space
    collapsed. Two renderings of one template to one person still differ in their words, so a message of
    another campaign to the same number is not taken for this one; the caller also refuses SIDs that another
    recipient of the ledger already owns."""
    text = unicodedata.normalize("NFKC", body).translate(_SMART_CHARACTERS)
    return _SPACE.sub(" ", _URL.sub("<link>", text)).strip()


class PooledAdapter(HTTPAdapter):
    """requests' adapter, remembering the pool-key attributes per (scheme, host, port, trust settings): requests
    works them out again for every request, with a stat of the CA bundle each time (a measurable share of a send
    thread's CPU with 64 threads, BENCHMARKS.md round 2)."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self._pool_keys: dict[tuple, tuple[dict, dict]] = {}

    def build_connection_pool_key_attributes(self, request, verify, cert=None):  # noqa: ANN001, ANN201 - requests'
        parts = urlsplit(request.url)
        key = (parts.scheme, parts.hostname, parts.port, verify if isinstance(verify, (bool, str)) else id(verify),
               cert if isinstance(cert, (str, tuple, type(None))) else id(cert))  # fmt: skip
        found = self._pool_keys.get(key)
        if found is None:
            found = self._pool_keys[key] = super().build_connection_pool_key_attributes(request, verify, cert)
        host, pool = found
        return dict(host), dict(pool)


@dataclass(frozen=True)
class SendResult:
    """The outcome of one create call. kind: 'accepted', 'provider' (Twilio said no) or 'network' (no answer)."""

    ok: bool
    sid: str | None = None
    status: str | None = None
    error_code: int | None = None
    error_message: str | None = None
    http_status: int | None = None
    retry_after: float | None = None
    num_segments: int | None = None
    kind: str = "accepted"

    @property
    def ambiguous(self) -> bool:
        """Twilio may have created the message although it did not say so (no answer, or any 5xx)."""
        return not self.ok and is_ambiguous(self.http_status, network=self.kind == "network")


class GatewayError(Exception):
    """Twilio could not answer a query (not a send): the caller must not guess, and tries again later."""


class Gateway:
    """One tenant's sending identity; thread-safe (share one Gateway between the threads of a send run)."""

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        from_number: str | None = None,
        messaging_service_sid: str | None = None,
        base_url: str | None = None,
        timeout: float = 10.0,
        pool_size: int = 64,
    ) -> None:
        self._credentials = TwilioCredentials(account_sid, auth_token, from_number, messaging_service_sid, base_url)
        self.account_sid = account_sid
        self.from_number = from_number
        self.messaging_service_sid = messaging_service_sid
        self.base_url = api_base_url(self._credentials) or REAL_TWILIO
        self.timeout = timeout
        self._last = threading.local()
        self._client = twilio_client(self._credentials, timeout)
        session = self._client.http_client.session
        adapter = PooledAdapter(pool_connections=4, pool_maxsize=pool_size)
        session.mount("https://", adapter)
        session.mount("http://", adapter)
        session.hooks["response"].append(self._remember)

    @classmethod
    def for_tenant(cls, credentials: TwilioCredentials, timeout: float = 10.0, pool_size: int = 64) -> Gateway:
        """The gateway for a tenant's stored credentials."""
        return cls(
            credentials.account_sid,
            credentials.auth_token,
            credentials.from_number,
            credentials.messaging_service_sid,
            credentials.api_base_url,
            timeout,
            pool_size,
        )

    @property
    def sender(self) -> str:
        """Who sends, as Twilio queues it: the Messaging Service when there is one, else the From number."""
        return self.messaging_service_sid or self.from_number or ""

    def __repr__(self) -> str:
        return f"<Gateway {self.account_sid} from {self.sender} via {self.base_url}>"

    def _remember(self, response: requests.Response, *args: object, **kwargs: object) -> None:
        self._last.response = response

    def send(self, to: str, body: str, status_callback: str | None = None) -> SendResult:
        """Ask Twilio to send `body` to `to` (posting its status changes to `status_callback` when given); never
        raises for provider or network errors."""
        params = {"to": to, "body": body}
        if status_callback:
            params["status_callback"] = status_callback
        if self.messaging_service_sid:
            params["messaging_service_sid"] = self.messaging_service_sid
        if self.from_number:
            params["from_"] = self.from_number
        self._last.response = None
        try:
            message = self._client.messages.create(**params)
        except requests.RequestException as exc:
            return SendResult(ok=False, error_message=_network_words(exc, self.timeout), kind="network")
        except TwilioException as exc:
            return self._refusal(exc)
        return SendResult(
            ok=True,
            sid=message.sid,
            status=message.status,
            http_status=201,
            num_segments=int(message.num_segments) if message.num_segments else None,
        )

    def _refusal(self, exc: TwilioException) -> SendResult:
        response: requests.Response | None = getattr(self._last, "response", None)
        status = response.status_code if response is not None else getattr(exc, "status", None)
        code, message = None, None
        if response is not None:
            try:
                payload = json.loads(response.text)
            except ValueError:
                payload = {}
            if isinstance(payload, dict):
                code = payload.get("code") if isinstance(payload.get("code"), int) else None
                message = payload.get("message")
        retry_after = _retry_after(response.headers.get("Retry-After")) if response is not None else None
        return SendResult(
            ok=False,
            error_code=code,
            error_message=message or f"HTTP {status}",
            http_status=status,
            retry_after=retry_after,
            kind="provider",
        )

    def find_sent(self, to: str, since: datetime, body: str | None = None) -> list[str]:
        """SIDs of this sender's messages to `to` created at or after `since` (and with this body), newest first.

        Reconciles an ambiguous attempt (timeout, dropped connection, 5xx, a crash). It must not depend on
        `date_sent`: a message waiting in its sender's queue at Twilio (`queued`/`accepted`) has none yet, and
        DateSent filters cannot see it. So it lists by To (and From, when the sender is a number; a Messaging
        Service's message has no From until it is sent, so it is matched by `messaging_service_sid` here),
        newest first, compares `date_created` on our side and pages only until the messages are older than
        `since`. Bodies are compared after `comparable_body`, which undoes what Twilio may do to a body.
        Raises GatewayError if Twilio cannot answer (the caller leaves the recipient to be looked up later).
        """
        since = (since if since.tzinfo else since.replace(tzinfo=UTC)).astimezone(UTC).replace(microsecond=0)
        wanted = comparable_body(body) if body is not None else None
        params: dict[str, object] = {"to": to, "page_size": LOOKUP_PAGE_SIZE}
        if self.from_number and not self.messaging_service_sid:
            params["from_"] = self.from_number
        self._last.response = None
        found = []
        try:
            for message in self._client.messages.stream(**params):
                if message.date_created is not None and message.date_created < since:
                    break  # newest first: everything further is older than the window
                if not str(message.direction or "").startswith("outbound"):
                    continue
                if self.messaging_service_sid and message.messaging_service_sid != self.messaging_service_sid:
                    continue
                if wanted is not None and comparable_body(message.body or "") != wanted:
                    continue
                found.append(message.sid)
        except requests.RequestException as exc:
            raise GatewayError(_network_words(exc, self.timeout)) from None
        except TwilioException as exc:
            refusal = self._refusal(exc)
            raise GatewayError(
                f"Twilio refused the message list: HTTP {refusal.http_status} "
                f"(code {refusal.error_code}: {refusal.error_message})"
            ) from None
        return found

    def check_account(self) -> tuple[bool, str]:
        """Whether the credentials work, and why not in words a person can act on (never the token)."""
        answer = check_credentials(self._credentials, self.timeout)
        return answer.works, answer.message


def _network_words(exc: requests.RequestException, timeout: float) -> str:
    if isinstance(exc, requests.Timeout):
        return f"no answer within {timeout:g} s ({type(exc).__name__})"
    return f"network error: {type(exc).__name__}"


def _retry_after(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header (seconds or an HTTP date)."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, (parsedate_to_datetime(value) - datetime.now(UTC)).total_seconds())
    except (TypeError, ValueError):
        return None
