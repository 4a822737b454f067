"""The simulator's HTTP server: Twilio's Messages API plus admin paths under /_sim, in a background thread.

  GET  /                          a small HTML page: what this is, its accounts (SIDs only), links to the paths below
Admin paths (no auth; the server binds 127.0.0.1 by default):
  GET  /_sim/messages[?to=+1...]  every message (outbound and inbound), oldest first, with its CURRENT status
  GET  /_sim/messages/SID         one message as it is now
  POST /_sim/reset                forget messages, queues, opt-outs, pending webhooks and counters
  GET  /_sim/config               current fault settings
  POST /_sim/config               change fault settings (JSON object of Faults fields)
  GET  /_sim/stats                counters (see MessagesApi.stats)
  POST /_sim/inbound              a handset's reply: {"from": "+1...", "to": "<sender>", "body": "STOP",
                                  "account_sid": optional}; stored, opt-out keywords applied, webhook posted
"""

from __future__ import annotations

import base64
import binascii
import html
import json
import re
import socket
import threading
import time
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from orchestration.simulator.api import API, MessagesApi, Reply, error_reply
from orchestration.simulator.faults import Faults
from orchestration.simulator.lifecycle import Clock, render
from orchestration.simulator.store import MessageStore

DEMO_ACCOUNT_SID = "AC" + "de" * 16
DEMO_AUTH_TOKEN = "feedfacecafebeef" * 2
DEMO_FROM = "+15005550006"

_MESSAGES = re.compile(rf"^{API}/Accounts/(AC[0-9a-fA-F]{{32}})/Messages\.json$")
_MESSAGE = re.compile(rf"^{API}/Accounts/(AC[0-9a-fA-F]{{32}})/Messages/((?:SM|MM)[0-9a-fA-F]{{32}})\.json$")
_ACCOUNT = re.compile(rf"^{API}/Accounts/(AC[0-9a-fA-F]{{32}})\.json$")


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    request_queue_size = 1024

    def __init__(self, address: tuple[str, int], api: MessagesApi) -> None:
        self.api = api
        super().__init__(address, _Handler)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server_version = "bkntc-twilio-simulator"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's signature
        """Silent: request lines would carry phone numbers."""

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def _dispatch(self, method: str) -> None:
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if len(body) < length:  # the client died mid-request: nothing to answer, nothing to create (like Twilio)
            self.close_connection = True
            return
        if parts.path.startswith("/_sim/"):
            self._send(self._admin(method, parts.path, parse_qs(parts.query), body))
            return
        if (method, parts.path) == ("GET", "/"):
            self._send(Reply(200, {}, raw=home_page(self.server.api), content_type="text/html; charset=utf-8"))
            return
        api = self.server.api
        api.count("requests")
        delay = api.latency_s()
        reply = self._route(method, parts.path, parse_qs(parts.query), body)
        delay += reply.delay_s
        if delay:
            time.sleep(delay)
        if reply.drop:  # the message is created; the client gets no answer at all
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        self._send(reply)

    def _credentials(self) -> tuple[str, str] | None:
        header = self.headers.get("Authorization", "")
        if not header.startswith("Basic "):
            return None
        try:
            user, _, password = base64.b64decode(header[6:]).decode("utf-8").partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return None
        return user, password

    def _route(self, method: str, path: str, query: dict[str, list[str]], body: bytes) -> Reply:
        api = self.server.api
        for pattern, allowed in ((_MESSAGES, ("GET", "POST")), (_MESSAGE, ("GET",)), (_ACCOUNT, ("GET",))):
            match = pattern.match(path)
            if not match:
                continue
            refused = api.authenticate(self._credentials(), match.group(1))
            if refused:
                return refused
            if method not in allowed:
                return Reply(405, {"code": 20004, "message": "Method not allowed", "status": 405,
                                   "more_info": "https://www.twilio.com/docs/errors/20004"})
            if pattern is _ACCOUNT:
                return api.fetch_account(match.group(1))
            if pattern is _MESSAGE:
                return api.fetch_message(match.group(1), match.group(2))
            if method == "POST":
                form = parse_qs(body.decode("utf-8"), keep_blank_values=True)
                return api.create_message(match.group(1), form)
            return api.list_messages(match.group(1), {name: values[0] for name, values in query.items()})
        return error_reply(20404, f"The requested resource {path} was not found")

    def _admin(self, method: str, path: str, query: dict[str, list[str]], body: bytes) -> Reply:
        api = self.server.api
        if (method, path) == ("GET", "/_sim/messages"):
            messages = api.store.all(api.now())
            if "to" in query:
                messages = [m for m in messages if m["to"] == query["to"][0]]
            return Reply(200, {"messages": messages})
        if method == "GET" and path.startswith("/_sim/messages/"):
            found = api.store.entry(path.rsplit("/", 1)[-1])
            if found is None:
                return Reply(404, {"error": "no such message"})
            return Reply(200, render(found[0], found[1], api.now()))
        if (method, path) == ("POST", "/_sim/inbound"):
            try:
                data = json.loads(body or b"{}")
            except ValueError:
                return Reply(400, {"error": "the body must be a JSON object"})
            if not isinstance(data, dict):
                return Reply(400, {"error": "the body must be a JSON object"})
            return api.inbound(data)
        if (method, path) == ("POST", "/_sim/reset"):
            api.reset()
            return Reply(200, {"reset": True})
        if (method, path) == ("GET", "/_sim/stats"):
            return Reply(200, api.stats())
        if path == "/_sim/config" and method == "POST":
            try:
                api.faults = api.faults.changed(json.loads(body or b"{}"))
            except (ValueError, TypeError) as exc:
                return Reply(400, {"error": str(exc)})
        if path == "/_sim/config":
            return Reply(200, api.faults.as_json())
        return Reply(404, {"error": f"unknown admin path {method} {path}"})

    def _send(self, reply: Reply) -> None:
        payload = reply.raw if reply.raw is not None else json.dumps(reply.body, separators=(",", ":")).encode()
        head = [f"HTTP/1.1 {reply.status} {self.responses.get(reply.status, ('',))[0]}",
                f"Content-Type: {reply.content_type}",
                f"Content-Length: {len(payload)}",
                f"Date: {formatdate(usegmt=True)}"]
        head += [f"{name}: {value}" for name, value in reply.headers.items()]
        self.wfile.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + payload)


def home_page(api: MessagesApi) -> bytes:
    """The root page: what the simulator is, its accounts (SIDs, never tokens), counts and links to the admin paths."""
    accounts = "".join(f"<li><code>{html.escape(sid)}</code></li>" for sid in api.accounts) or "<li>none</li>"
    stats = api.stats()
    counts = ", ".join(f"{html.escape(str(k))} {v}" for k, v in sorted(stats.items()) if v) or "nothing yet"
    suffixes = "".join(f"<tr><td><code>…{html.escape(s)}</code></td><td>{c}</td></tr>"
                       for s, c in sorted(api.faults.suffix_errors.items()))
    links = "".join(f'<li><a href="{path}">{path}</a> — {what}</li>' for path, what in (
        ("/_sim/stats", "counters"), ("/_sim/messages", "every message with its current status"),
        ("/_sim/config", "fault settings")))
    page = f"""<!doctype html><html><head><meta charset="utf-8"><title>Twilio simulator</title>
<style>body{{font-family:system-ui,sans-serif;max-width:46rem;margin:2rem auto;color:#1f2937}}
code{{background:#f3f4f6;padding:0 .25rem}}td{{padding:.1rem .8rem .1rem 0}}</style></head><body>
<h1>Twilio simulator</h1>
<p>A local stand-in for Twilio's Messages API ({html.escape(API)}/Accounts/…/Messages.json), used by
Booknetic SMS Campaigns' demo and tests. Nothing sent here leaves this machine.
Mode: <b>{html.escape(api.faults.mode)}</b>.</p>
<h2>Accounts</h2><ul>{accounts}</ul>
<h2>So far</h2><p>{counts}</p>
<h2>Admin</h2><ul>{links}</ul>
<h2>Failing numbers</h2><p>A destination ending in these digits gets this Twilio error (21xxx at create, 30xxx
later as its delivery status):</p><table>{suffixes}</table>
</body></html>"""
    return page.encode("utf-8")


class Simulator:
    """A Twilio-compatible Messages API on a local port: `start()` returns its base URL, `stop()` ends it.

    With no accounts given, one demo account is configured: DEMO_ACCOUNT_SID / DEMO_AUTH_TOKEN.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        accounts: dict[str, str] | None = None,
        faults: Faults | None = None,
        record: str | Path | None = None,
        seed: int | None = None,
        strict: bool = True,
        clock: Clock | None = None,
    ) -> None:
        self._address = (host, port)
        store = MessageStore(Path(record) if record else None)
        self.api = MessagesApi(accounts or {DEMO_ACCOUNT_SID: DEMO_AUTH_TOKEN}, faults or Faults(), store, seed, strict,
                               clock)
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    def __repr__(self) -> str:
        return f"<Simulator {self.base_url if self._server else 'stopped'} accounts={sorted(self.api.accounts)}>"

    @property
    def accounts(self) -> dict[str, str]:
        return dict(self.api.accounts)

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("the simulator is not running")
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def bind(self) -> str:
        """Listen on the address (an OSError if the port is taken); returns the base URL."""
        if self._server is None:
            self._server = _Server(self._address, self.api)
        return self.base_url

    def start(self) -> str:
        """Bind and serve in a daemon thread; returns the base URL."""
        self.bind()
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), name="twilio-simulator", daemon=True
        )
        self._thread.start()
        return self.base_url

    def serve_forever(self) -> None:
        """Serve in the calling thread (the CLI) until interrupted."""
        self.bind()
        try:
            self._server.serve_forever()
        finally:
            self._server.server_close()
            self._server = None
            self.api.close()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        self.api.close()

    def __enter__(self) -> Simulator:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def accepted(self, to: str | None = None) -> list[dict[str, Any]]:
        """Created outbound messages (Twilio's message JSON with their current status), oldest first; only those
        to `to` when given."""
        messages = [m for m in self.api.store.all(self.api.now()) if m["direction"] != "inbound"]
        return [m for m in messages if m["to"] == to] if to else messages

    def message(self, sid: str) -> dict[str, Any] | None:
        """One message (outbound or inbound) as it is now, or None."""
        found = self.api.store.entry(sid)
        return render(found[0], found[1], self.api.now()) if found else None

    def inbound(self, from_: str, to: str, body: str, account_sid: str | None = None) -> dict[str, Any]:
        """A handset's reply (as POST /_sim/inbound): {"message": ..., "opt_out_type": STOP|START|HELP|None}."""
        reply = self.api.inbound({"from": from_, "to": to, "body": body, "account_sid": account_sid})
        if reply.status != 200:
            raise ValueError(reply.body["error"])
        return reply.body

    @property
    def clock(self) -> Clock:
        return self.api.clock

    def pending_webhooks(self) -> int:
        """Status callbacks and incoming webhooks not posted yet (including retries)."""
        return self.api.webhooks.pending()

    def configure(self, **changes: Any) -> Faults:
        """Change fault settings at runtime (same names as Faults)."""
        self.api.faults = self.api.faults.changed(changes)
        return self.api.faults

    def reset(self) -> None:
        self.api.reset()

    def stats(self) -> dict[str, int]:
        return self.api.stats()
