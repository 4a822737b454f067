"""Webhooks the simulator posts like Twilio: status callbacks and incoming-message webhooks.

One background thread posts due deliveries in order of their instants (form-encoded, signed with
`X-Twilio-Signature` by the twilio library's RequestValidator with the account's auth token). A receiver's non-2xx
answer or a connection error is retried a bounded number of times with exponential back-off.
"""

from __future__ import annotations

import heapq
import itertools
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

import requests
from twilio.request_validator import RequestValidator

from orchestration.simulator.lifecycle import Clock

POLL_S = 0.05


@dataclass(order=True)
class Delivery:
    """One POST due at `due` (epoch seconds on the simulator's clock)."""

    due: float
    seq: int
    url: str = field(compare=False)
    params: dict[str, str] = field(compare=False)
    auth_token: str = field(compare=False)
    kind: str = field(compare=False)  # "callback" | "incoming"
    attempt: int = field(default=0, compare=False)


def signature(auth_token: str, url: str, params: dict[str, str]) -> str:
    """X-Twilio-Signature of a POST of `params` to `url`, exactly as Twilio computes it."""
    return RequestValidator(auth_token).compute_signature(url, params)


class WebhookDispatcher:
    """A heap of due deliveries and the thread that posts them."""

    def __init__(self, clock: Clock, count: Callable[[str], None], settings: Callable[[], tuple[int, float, float]]):
        self._clock = clock
        self._count = count
        self._settings = settings  # () -> (retries, backoff_s, timeout_s), read at each attempt
        self._heap: list[Delivery] = []
        self._seq = itertools.count()
        self._cond = threading.Condition()
        self._stop = False
        self._thread: threading.Thread | None = None
        self._session = requests.Session()
        self._busy = 0

    def schedule(self, due: float, url: str, params: dict[str, str], auth_token: str, kind: str) -> None:
        with self._cond:
            heapq.heappush(self._heap, Delivery(due, next(self._seq), url, params, auth_token, kind))
            self._cond.notify()
        self._ensure_thread()

    def pending(self) -> int:
        with self._cond:
            return len(self._heap) + self._busy

    def clear(self) -> None:
        with self._cond:
            self._heap.clear()

    def _ensure_thread(self) -> None:
        with self._cond:
            if self._thread is None or not self._thread.is_alive():
                self._stop = False
                self._thread = threading.Thread(target=self._run, name="twilio-simulator-webhooks", daemon=True)
                self._thread.start()

    def stop(self) -> None:
        with self._cond:
            self._stop = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def _next_due(self) -> Delivery | None:
        with self._cond:
            while not self._stop:
                if self._heap and self._heap[0].due <= self._clock.now():
                    self._busy += 1
                    return heapq.heappop(self._heap)
                wait = POLL_S
                if self._heap:
                    wait = min(POLL_S, max(0.0, self._heap[0].due - self._clock.now()))
                self._cond.wait(wait)
            return None

    def _run(self) -> None:
        while (delivery := self._next_due()) is not None:
            try:
                self._post(delivery)
            finally:
                with self._cond:
                    self._busy -= 1

    def _post(self, delivery: Delivery) -> None:
        retries, backoff_s, timeout_s = self._settings()
        headers = {"X-Twilio-Signature": signature(delivery.auth_token, delivery.url, delivery.params),
                   "User-Agent": "TwilioProxy/1.1", "I-Twilio-Idempotency-Token": f"sim-{delivery.seq}"}
        try:
            answer = self._session.post(delivery.url, data=delivery.params, headers=headers, timeout=timeout_s)
            ok = 200 <= answer.status_code < 300
        except requests.RequestException:
            ok = False
        prefix = "callbacks" if delivery.kind == "callback" else "incoming_webhooks"
        if ok:
            self._count(f"{prefix}_sent")
            return
        self._count(f"{prefix}_failed")
        if delivery.attempt >= retries:
            self._count(f"{prefix}_given_up")
            return
        again = Delivery(self._clock.now() + backoff_s * 2 ** delivery.attempt, next(self._seq), delivery.url,
                         delivery.params, delivery.auth_token, delivery.kind, delivery.attempt + 1)
        with self._cond:
            heapq.heappush(self._heap, again)
