"""A thread-safe token bucket that paces sends to a steady rate (messages per second)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class TokenBucket:
    """`acquire()` blocks until the next send slot; `rate <= 0` means no limit.

    Slots are handed out one interval apart (at most `burst` tokens saved up), so the achieved rate stays
    within a few percent of `rate` however many threads ask at once. It is the campaign's own cap; the sender's
    shared limit and its throttles are `pacing.SenderPacing`.
    """

    def __init__(self, rate: float, burst: float = 1.0, clock: Callable[[], float] = time.monotonic):
        self.rate = rate
        self.burst = max(1.0, burst)
        self._clock = clock
        self._lock = threading.Lock()
        self._next = clock()

    def acquire(self, stop: threading.Event | None = None) -> bool:
        """Waits for the next slot; False (at once) when `stop` is set before it comes."""
        with self._lock:
            now = self._clock()
            if self.rate <= 0:
                slot = max(self._next, now)
            else:
                interval = 1.0 / self.rate
                slot = max(self._next, now - (self.burst - 1) * interval)
                self._next = slot + interval
        delay = slot - now
        if stop is not None:
            return not (stop.wait(delay) if delay > 0 else stop.is_set())
        if delay > 0:
            time.sleep(delay)
        return True
