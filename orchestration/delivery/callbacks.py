"""The callback receiver: a small WSGI app Twilio POSTs message status changes and incoming messages to.

Each tenant's messages are created with its public URL plus `?tenant=T` (`settings.callback_url`), so a callback
names the tenant whose auth token must have signed it. `X-Twilio-Signature` is checked with the twilio library's
`RequestValidator` against the URL Twilio called: the tenant's public URL as configured (which is what Twilio was
given, whatever proxy sits in front of the receiver), and else the URL this request arrived at. A bad or missing
signature answers 403 and changes nothing; a valid one is applied with Twilio's precedence (`apply_status`) and
answered 204. A SID no recipient of the tenant owns changes nothing (it is logged and kept for later adoption).
Tokens are never logged; the callback's form (which holds none) is kept in `delivery_events`.

Incoming messages (the sender number's or Messaging Service's webhook set to `https://HOST/twilio/inbound?tenant=T`)
are signature-checked the same way, refused (403) when they name another account or sender than the tenant's, and
recorded by `inbound.record_inbound` (STOP/START keywords); the answer is an empty TwiML `<Response/>`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import urlsplit

from twilio.request_validator import RequestValidator
from werkzeug.serving import BaseWSGIServer, make_server
from werkzeug.wrappers import Request, Response

from orchestration.config import Home
from orchestration.delivery.inbound import InboundMessage, record_inbound
from orchestration.delivery.rules import enforce_filtered_share
from orchestration.delivery.settings import TENANT_PARAM, callback_url
from orchestration.delivery.status import adopt_unmatched
from orchestration.delivery.writer import StatusWriter
from orchestration.errors import UserError
from orchestration.ledger import Ledger
from orchestration.tenants import TokenCipher, TwilioCredentials, load_twilio

log = logging.getLogger(__name__)

ADOPT_EVERY_S = 1.0
TOKEN_TTL_S = 30.0
INBOUND_PATH = "/inbound"  # POST https://HOST/twilio/inbound?tenant=T: the sender number's incoming-message webhook
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>'


class CallbackApp:
    """The WSGI application: POST <any path>?tenant=T with Twilio's status-callback form, and
    POST .../inbound?tenant=T with Twilio's incoming-message form."""

    def __init__(self, home: Home, ledger: Ledger | None = None, public_url: str | None = None) -> None:
        self.home = home
        self.ledger = ledger or Ledger(home.ledger)
        self.public_url = public_url  # the receiver's public base, when requests arrive through a proxy
        self._tokens: dict[int, tuple[float, TwilioCredentials]] = {}  # tenant -> (read at, credentials)
        self._urls: dict[int, tuple[float, str | None]] = {}  # tenant -> (read at, its status-callback URL)
        self._lock = threading.Lock()
        self.writer = StatusWriter(self.ledger)  # reports are committed in batches, each before its answer

    def _credentials(self, tenant_id: int) -> TwilioCredentials | None:
        with self._lock:
            cached = self._tokens.get(tenant_id)
        if cached and time.monotonic() - cached[0] < TOKEN_TTL_S:
            return cached[1]
        try:
            credentials = load_twilio(self.ledger, tenant_id, TokenCipher.for_home(self.home))
        except UserError:
            return None
        with self._lock:
            self._tokens[tenant_id] = (time.monotonic(), credentials)
        return credentials

    def _callback_url(self, tenant_id: int) -> str | None:
        with self._lock:
            cached = self._urls.get(tenant_id)
        if cached and time.monotonic() - cached[0] < TOKEN_TTL_S:
            return cached[1]
        url = callback_url(self.ledger, tenant_id)
        with self._lock:
            self._urls[tenant_id] = (time.monotonic(), url)
        return url

    def _candidate_urls(self, request: Request, tenant_id: int) -> list[str]:
        urls = []
        configured = self._callback_url(tenant_id)
        if configured:
            urls.append(configured)
            parts = urlsplit(configured)  # the same public host, at the path this request came to (inbound)
            urls.append(f"{parts.scheme}://{parts.netloc}{request.full_path.rstrip('?')}")
        if self.public_url:
            urls.append(self.public_url.rstrip("/") + request.full_path.rstrip("?"))
        urls.append(request.url)
        return list(dict.fromkeys(urls))

    def handle(self, request: Request) -> Response:
        if request.method != "POST":
            return Response("POST a Twilio status callback here\n", status=405, headers={"Allow": "POST"})
        try:
            tenant_id = int(request.args.get(TENANT_PARAM, ""))
        except ValueError:
            return Response("no tenant in the URL\n", status=404)
        credentials = self._credentials(tenant_id)
        signature = request.headers.get("X-Twilio-Signature", "")
        form = {key: request.form.get(key, "") for key in request.form}
        kind = "Incoming message" if _is_inbound(request) else "Status callback"
        if credentials is None or not signature:
            log.warning("%s for tenant %s refused: %s", kind, tenant_id,
                        "no signature" if credentials else "tenant has no credentials")
            return Response("forbidden\n", status=403)
        validator = RequestValidator(credentials.auth_token)
        if not any(validator.validate(url, form, signature) for url in self._candidate_urls(request, tenant_id)):
            log.warning("%s for tenant %s refused: the signature does not match", kind, tenant_id)
            return Response("forbidden\n", status=403)
        if _is_inbound(request):
            return self._inbound(tenant_id, credentials, form)
        sid = form.get("MessageSid") or form.get("SmsSid")
        status = form.get("MessageStatus") or form.get("SmsStatus")
        if not sid or not status:
            return Response("no MessageSid or MessageStatus\n", status=400)
        if form.get("AccountSid") and form["AccountSid"] != credentials.account_sid:
            log.warning("Status callback for tenant %s names another account: ignored", tenant_id)
            return Response(status=204)
        self.writer.apply(tenant_id, sid, status, form.get("ErrorCode"), "callback", form)
        return Response(status=204)

    def _inbound(self, tenant_id: int, credentials: TwilioCredentials, form: dict[str, str]) -> Response:
        """A signed incoming message: recorded once, its keyword applied; answered with empty TwiML (Twilio's own
        opt-out reply is left to Twilio). One to another account or sender than the tenant's is refused."""
        sid = form.get("MessageSid") or form.get("SmsSid")
        if not sid or not form.get("From"):
            return Response("no MessageSid or From\n", status=400)
        own_sender = form.get("To") == credentials.from_number or (
            credentials.messaging_service_sid is not None
            and form.get("MessagingServiceSid") == credentials.messaging_service_sid)
        if form.get("AccountSid") != credentials.account_sid or not own_sender:
            log.warning("Incoming message for tenant %s is to another account or sender: refused", tenant_id)
            return Response("forbidden\n", status=403)
        received = float(int(time.time()))  # whole seconds, like the date_sent the poller reads
        message = InboundMessage(sid, form["From"], form.get("To", ""), form.get("Body", ""), received, form)
        record_inbound(self.ledger, tenant_id, [message], "callback")
        return Response(EMPTY_TWIML, status=200, content_type="text/xml")

    def __call__(self, environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        return self.handle(Request(environ))(environ, start_response)


def _is_inbound(request: Request) -> bool:
    return request.path.rstrip("/").endswith(INBOUND_PATH)


def sweep_until(ledger: Ledger, stop: threading.Event) -> None:
    """Every second until `stop` is set: applies reports which outran the record of their send, and checks the
    carrier-filtering share of running campaigns (both idempotent, so several receiver processes may run it)."""
    while not stop.wait(ADOPT_EVERY_S):
        try:
            adopt_unmatched(ledger)
            enforce_filtered_share(ledger)
        except Exception as exc:  # a busy ledger or a bug: logged, tried again next second
            log.error("Adopting early status reports or checking the 30007 share failed: %r", exc)


class CallbackServer:
    """The receiver on a port, with a thread that applies reports which outran the record of their send and checks
    the carrier-filtering share of running campaigns, every second."""

    def __init__(self, home: Home, host: str = "127.0.0.1", port: int = 0, public_url: str | None = None) -> None:
        self.app = CallbackApp(home, public_url=public_url)
        self._server: BaseWSGIServer = make_server(host, port, self.app, threaded=True)
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def _adopt(self) -> None:
        sweep_until(self.app.ledger, self._stop)

    def start(self) -> str:
        """Serves in daemon threads; returns the base URL."""
        for target, name in ((self._server.serve_forever, "callbacks"), (self._adopt, "callbacks-adopt")):
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)
        return self.url

    def serve_forever(self) -> None:
        """Serves in the calling thread (the CLI) until interrupted."""
        adopter = threading.Thread(target=self._adopt, name="callbacks-adopt", daemon=True)
        adopter.start()
        try:
            self._server.serve_forever()
        finally:
            self._stop.set()
            self._server.server_close()
            self.app.writer.stop()

    def stop(self) -> None:
        self._stop.set()
        self._server.shutdown()
        self._server.server_close()
        self.app.writer.stop()
        for thread in self._threads:
            thread.join(timeout=5)
        self._threads = []

    def __enter__(self) -> CallbackServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
