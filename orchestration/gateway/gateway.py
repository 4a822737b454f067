"""The sender's only door to Twilio: send one SMS, find what was sent to a number, check the account.

The `twilio.rest.Client` comes from `orchestration.tenants.twilio_client.twilio_client`, the one place that builds
clients (base URL per tenant, else $BKNTC_SMS_TWILIO_API_URL, else the real Twilio). The gateway tunes it for
64 sending threads: one shared requests Session with a connection pool of `pool_size`, TWILIO_EDGE/TWILIO_REGION
ignored, and a per-thread copy of the last HTTP response so a 429's Retry-After reaches the caller.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import requests
from requests.adapters import HTTPAdapter
from twilio.base.exceptions import TwilioException

from orchestration.tenants.credentials import TwilioCredentials
from orchestration.tenants.twilio_client import api_base_url, check_credentials, twilio_client

REAL_TWILIO = "https://api.twilio.com"


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
        adapter = HTTPAdapter(pool_connections=4, pool_maxsize=pool_size)
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

    def __repr__(self) -> str:
        sender = self.messaging_service_sid or self.from_number
        return f"<Gateway {self.account_sid} from {sender} via {self.base_url}>"

    def _remember(self, response: requests.Response, *args: object, **kwargs: object) -> None:
        self._last.response = response

    def send(self, to: str, body: str) -> SendResult:
        """Ask Twilio to send `body` to `to`; never raises for provider or network errors."""
        params = {"to": to, "body": body}
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
        """SIDs of messages sent to `to` since `since` (and with this body, when given), newest first.

        Used to reconcile a recipient left in `sending` after a crash. Raises GatewayError if Twilio cannot answer.
        """
        since = (since if since.tzinfo else since.replace(tzinfo=UTC)).astimezone(UTC).replace(microsecond=0)
        self._last.response = None
        try:
            found = self._client.messages.stream(to=to, date_sent_after=since, page_size=100)
            return [
                message.sid
                for message in found
                if (body is None or message.body == body)
                and (message.date_created is None or message.date_created >= since)
            ]
        except requests.RequestException as exc:
            raise GatewayError(_network_words(exc, self.timeout)) from None
        except TwilioException as exc:
            refusal = self._refusal(exc)
            raise GatewayError(
                f"Twilio refused the message list: HTTP {refusal.http_status} "
                f"(code {refusal.error_code}: {refusal.error_message})"
            ) from None

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
