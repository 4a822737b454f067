"""The simulator's messages: thread-safe, newest-first queries, optionally recorded to a JSONL file.

Each message is kept as created (Twilio's JSON at create) with its `Schedule`; what a reader sees is rendered from
both at read time (`lifecycle.render`). A JSONL record line is the created message plus its schedule under "_sim".
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from datetime import datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

from orchestration.simulator.lifecycle import Schedule, render

Entry = tuple[dict[str, Any], Schedule | None]


@dataclass(frozen=True)
class MessageQuery:
    """Filters of the Messages list; date bounds are inclusive instants (UTC) compared with `date_sent`."""

    to: str | None = None
    from_: str | None = None
    sent_from: datetime | None = None
    sent_until: datetime | None = None

    @property
    def by_date(self) -> bool:
        return self.sent_from is not None or self.sent_until is not None


def _sent_instant(message: dict[str, Any], schedule: Schedule | None, now: float) -> float | None:
    """When the message was sent (whole seconds, as Twilio shows it), or None if it is not sent at `now`."""
    if schedule is None:
        stamp = message.get("date_sent")
        return parsedate_to_datetime(stamp).timestamp() if stamp else None
    if schedule.sent is None or now < schedule.sent:
        return None
    return float(int(schedule.sent))


def _from_at(message: dict[str, Any], schedule: Schedule | None, now: float) -> str | None:
    if schedule is not None and schedule.sender_number and now >= schedule.sending:
        return schedule.sender_number
    return message.get("from")


class MessageStore:
    """Messages in creation order; `--record FILE` appends each one as a JSON line and reloads them."""

    def __init__(self, record: Path | None = None) -> None:
        self._lock = threading.Lock()
        self._record = Path(record) if record else None
        self._messages: list[dict[str, Any]] = []
        self._schedules: list[Schedule | None] = []
        self._by_sid: dict[str, int] = {}
        self._by_to: dict[str, list[int]] = {}
        if self._record and self._record.exists():
            with self._record.open(encoding="utf-8") as lines:
                for line in lines:
                    if line.strip():
                        message = json.loads(line)
                        schedule = message.pop("_sim", None)
                        self._add(message, Schedule.from_json(schedule) if schedule else None)

    def _add(self, message: dict[str, Any], schedule: Schedule | None) -> None:
        index = len(self._messages)
        self._messages.append(message)
        self._schedules.append(schedule)
        self._by_sid[message["sid"]] = index
        self._by_to.setdefault(message["to"], []).append(index)

    def add(self, message: dict[str, Any], schedule: Schedule | None = None) -> None:
        line = ""
        if self._record:
            stored = dict(message, _sim=schedule.as_json()) if schedule else message
            line = json.dumps(stored, separators=(",", ":")) + "\n"
        with self._lock:
            self._add(message, schedule)
            if self._record:
                with self._record.open("a", encoding="utf-8") as out:
                    out.write(line)

    def entry(self, sid: str) -> Entry | None:
        with self._lock:
            index = self._by_sid.get(sid)
            return (self._messages[index], self._schedules[index]) if index is not None else None

    def get(self, account_sid: str, sid: str, now: float) -> dict[str, Any] | None:
        found = self.entry(sid)
        if found is None or found[0]["account_sid"] != account_sid:
            return None
        return render(found[0], found[1], now)

    def newest_first(self, account_sid: str, query: MessageQuery, now: float, lag_s: float = 0.0) -> list[Entry]:
        """Entries of one account matching the query at `now`, newest first; those created less than `lag_s`
        ago are not listed yet. A message not sent yet matches no DateSent filter."""
        low = query.sent_from.timestamp() if query.sent_from else None
        high = query.sent_until.timestamp() if query.sent_until else None
        with self._lock:
            indexes = self._by_to.get(query.to, []) if query.to else range(len(self._messages))
            chosen = []
            for i in reversed(indexes):
                message, schedule = self._messages[i], self._schedules[i]
                if message["account_sid"] != account_sid:
                    continue
                if lag_s and schedule is not None and now < schedule.created + lag_s:
                    continue
                if query.from_ is not None and _from_at(message, schedule, now) != query.from_:
                    continue
                if query.by_date:
                    sent = _sent_instant(message, schedule, now)
                    if sent is None or (low is not None and sent < low) or (high is not None and sent > high):
                        continue
                chosen.append((message, schedule))
        return chosen

    def entries(self) -> list[Entry]:
        with self._lock:
            return list(zip(self._messages, self._schedules, strict=True))

    def all(self, now: float) -> list[dict[str, Any]]:
        return [render(message, schedule, now) for message, schedule in self.entries()]

    def clear(self) -> None:
        with self._lock:
            self._messages.clear()
            self._schedules.clear()
            self._by_sid.clear()
            self._by_to.clear()
            if self._record:
                self._record.write_text("", encoding="utf-8")
