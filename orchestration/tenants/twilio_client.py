"""The official `twilio` Client for a tenant, pointed at its API base URL (the simulator, or the real Twilio)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

import requests
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client

from orchestration.config import TWILIO_API_URL_ENV
from orchestration.tenants.credentials import TwilioCredentials, check_api_base_url

REAL_TWILIO = "https://api.twilio.com"
DEFAULT_TIMEOUT_S = 15.0


def api_base_url(credentials: TwilioCredentials) -> str | None:
    """Where requests go: the tenant's URL, else $BKNTC_SMS_TWILIO_API_URL, else None (the real Twilio)."""
    chosen = credentials.api_base_url or os.environ.get(TWILIO_API_URL_ENV) or None
    return check_api_base_url(chosen.rstrip("/")) if chosen else None


class EnvironmentOnceSession(requests.Session):
    """A requests Session that reads the proxy and CA-bundle environment once per (scheme, host, settings) instead
    of on every request: requests scans every environment variable twice per request, which profiling showed as
    a large share of the send engine's CPU per message (BENCHMARKS.md). The environment is read when the host is
    first used, so set proxy variables before the process sends."""

    def __init__(self) -> None:
        super().__init__()
        self._environment: dict[tuple, dict] = {}

    def merge_environment_settings(self, url, proxies, stream, verify, cert):  # noqa: ANN001, ANN201 - requests' API
        parts = urlsplit(url)
        key = (parts.scheme, parts.netloc, tuple(sorted((proxies or {}).items())), stream, verify, cert)
        if key not in self._environment:
            self._environment[key] = super().merge_environment_settings(url, proxies, stream, verify, cert)
        settings = self._environment[key]
        return {**settings, "proxies": dict(settings["proxies"])}


class HttpClient(TwilioHttpClient):
    """The twilio library's HTTP client on an `EnvironmentOnceSession` (same adapters and pooling)."""

    def __init__(self, timeout: float = DEFAULT_TIMEOUT_S):
        super().__init__(timeout=timeout)
        session = EnvironmentOnceSession()
        for prefix, adapter in self.session.adapters.items():
            session.mount(prefix, adapter)
        self.session = session


class BaseUrlHttpClient(HttpClient):
    """A TwilioHttpClient that sends every request for `*.twilio.com` to one base URL instead.

    The library builds absolute URLs from its domains (`https://api.twilio.com/2010-04-01/...`, also for
    `next_page_uri` paging and for region/edge hosts), so rewriting at the HTTP layer covers every resource.
    URLs that already point elsewhere (e.g. a simulator's own `next_page_url`) are left alone.
    """

    def __init__(self, base_url: str, timeout: float = DEFAULT_TIMEOUT_S):
        super().__init__(timeout=timeout)
        self.base_url = base_url.rstrip("/")

    def rewrite(self, url: str) -> str:
        parts = urlsplit(url)
        host = parts.hostname or ""
        if host != "twilio.com" and not host.endswith(".twilio.com"):
            return url
        base = urlsplit(self.base_url)
        return urlunsplit((base.scheme, base.netloc, base.path + parts.path, parts.query, parts.fragment))

    def request(self, method: str, url: str, *args, **kwargs) -> Response:
        return super().request(method, self.rewrite(url), *args, **kwargs)


def twilio_client(credentials: TwilioCredentials, timeout: float = DEFAULT_TIMEOUT_S) -> Client:
    """A `twilio.rest.Client` for these credentials, talking to `api_base_url(credentials)`."""
    base = api_base_url(credentials)
    http_client = BaseUrlHttpClient(base, timeout) if base else HttpClient(timeout=timeout)
    client = Client(credentials.account_sid, credentials.auth_token, http_client=http_client)
    client.edge = client.region = None  # TWILIO_EDGE / TWILIO_REGION would rewrite the host
    return client


@dataclass(frozen=True)
class CredentialCheck:
    """The answer to "do these credentials work?", in words a person can act on."""

    works: bool
    message: str


def check_credentials(credentials: TwilioCredentials, timeout: float = 10.0) -> CredentialCheck:
    """Fetch the account through the Twilio API and say whether the credentials work (no token in the words)."""
    target = api_base_url(credentials) or REAL_TWILIO
    try:
        account = twilio_client(credentials, timeout).api.v2010.accounts(credentials.account_sid).fetch()
    except TwilioRestException as exc:
        text = str(exc.msg).split(": ", 1)[-1]
        if exc.code == 20003 or exc.status == 401:
            return CredentialCheck(False, f"Twilio refused the credentials ({exc.code} {text})")
        return CredentialCheck(False, f"Twilio answered HTTP {exc.status} ({exc.code} {text})")
    except requests.exceptions.Timeout:
        return CredentialCheck(False, f"Cannot reach {target}: no answer within {timeout:g} s")
    except requests.exceptions.ConnectionError:
        return CredentialCheck(False, f"Cannot reach {target}: the connection failed")
    except TwilioException as exc:
        return CredentialCheck(False, f"Twilio answered with an error: {type(exc).__name__}")
    name = account.friendly_name or account.sid
    if account.status == "active":
        return CredentialCheck(True, f"Credentials work: account '{name}' is active")
    return CredentialCheck(False, f"Credentials work, but account '{name}' is {account.status}: it cannot send")
