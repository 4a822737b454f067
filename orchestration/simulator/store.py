"""The simulator's accepted messages: thread-safe, newest-first queries, optionally recorded to a JSONL file."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from datetime import datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class MessageQuery:
    """Filters of the Messages list; date bounds are inclusive instants (UTC)."""

    to: str | None = None
    from_: str | None = None
    sent_from: datetime | None = None
    sent_until: datetime | None = None


class MessageStore:
    """Accepted messages in creation order; `--record FILE` appends each one as a JSON line and reloads them."""

    def __init__(self, record: Path | None = None) -> None:
        self._lock = threading.Lock()
        self._record = Path(record) if record else None
        self._messages: list[dict[str, Any]] = []
        self._sent_at: list[datetime] = []
        self._by_sid: dict[str, int] = {}
        self._by_to: dict[str, list[int]] = {}
        if self._record and self._record.exists():
            with self._record.open(encoding="utf-8") as lines:
                for line in lines:
                    if line.strip():
                        self._add(json.loads(line))

    def _add(self, message: dict[str, Any]) -> None:
        index = len(self._messages)
        self._messages.append(message)
        self._sent_at.append(parsedate_to_datetime(message["date_sent"]))
        self._by_sid[message["sid"]] = index
        self._by_to.setdefault(message["to"], []).append(index)

    def add(self, message: dict[str, Any]) -> None:
        line = json.dumps(message, separators=(",", ":")) + "\n" if self._record else ""
        with self._lock:
            self._add(message)
            if self._record:
                with self._record.open("a", encoding="utf-8") as out:
                    out.write(line)

    def get(self, account_sid: str, sid: str) -> dict[str, Any] | None:
        with self._lock:
            index = self._by_sid.get(sid)
            message = self._messages[index] if index is not None else None
        return message if message and message["account_sid"] == account_sid else None

    def newest_first(self, account_sid: str, query: MessageQuery) -> list[dict[str, Any]]:
        """Messages of one account matching the query, newest first."""
        with self._lock:
            indexes = self._by_to.get(query.to, []) if query.to else range(len(self._messages))
            chosen = [
                self._messages[i]
                for i in reversed(indexes)
                if self._messages[i]["account_sid"] == account_sid
                and (query.from_ is None or self._messages[i]["from"] == query.from_)
                and (query.sent_from is None or self._sent_at[i] >= query.sent_from)
                and (query.sent_until is None or self._sent_at[i] <= query.sent_until)
            ]
        return chosen

    def all(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._messages)

    def clear(self) -> None:
        with self._lock:
            self._messages.clear()
            self._sent_at.clear()
            self._by_sid.clear()
            self._by_to.clear()
            if self._record:
                self._record.write_text("", encoding="utf-8")
