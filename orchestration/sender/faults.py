"""Test-only crash points: BKNTC_SMS_FAULT=after_accept:3 makes the send process die at the 3rd such point."""

from __future__ import annotations

import os
import threading
from collections import Counter

FAULT_ENV = "BKNTC_SMS_FAULT"
FAULT_EXIT_CODE = 86
POINTS = ("after_claim", "before_request", "after_accept", "before_record")


class Faults:
    """Counts each crash point as the engine passes it and ends the process (os._exit, like SIGKILL) at the
    configured count. Without the variable it does nothing."""

    def __init__(self, spec: str | None = None):
        self._at: dict[str, int] = {}
        for item in filter(None, (part.strip() for part in (spec or "").split(","))):
            point, _, count = item.partition(":")
            if point not in POINTS:
                raise ValueError(f"unknown fault point {point!r} (known: {', '.join(POINTS)})")
            self._at[point] = int(count or 1)
        self._seen: Counter[str] = Counter()
        self._lock = threading.Lock()

    @classmethod
    def from_env(cls) -> Faults:
        return cls(os.environ.get(FAULT_ENV))

    def hit(self, point: str) -> None:
        if point not in self._at:
            return
        with self._lock:
            self._seen[point] += 1
            if self._seen[point] == self._at[point]:
                os._exit(FAULT_EXIT_CODE)
