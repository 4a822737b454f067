"""The home folder: the one place the product keeps its state (warehouse, ledger, Dagster instance, keys)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

HOME_ENV = "BKNTC_SMS_HOME"
DEFAULT_HOME = ".bkntc-sms"
TWILIO_API_URL_ENV = "BKNTC_SMS_TWILIO_API_URL"
LEDGER_URL_ENV = "BKNTC_SMS_LEDGER_URL"


@dataclass(frozen=True)
class Home:
    """Paths inside one home folder; `Home.resolve()` picks `--home`, then $BKNTC_SMS_HOME, then ./.bkntc-sms."""

    root: Path

    @classmethod
    def resolve(cls, home: str | os.PathLike[str] | None = None) -> Home:
        chosen = home or os.environ.get(HOME_ENV) or DEFAULT_HOME
        return cls(Path(chosen).expanduser().resolve())

    def ensure(self) -> Home:
        for folder in (self.root, self.dagster_home, self.logs):
            folder.mkdir(parents=True, exist_ok=True)
        return self

    @property
    def warehouse(self) -> Path:
        return self.root / "warehouse.duckdb"

    @property
    def ledger(self) -> str | Path:
        """Where the ledger is: $BKNTC_SMS_LEDGER_URL, else the URL in the home's `ledger.url` file (a
        `postgresql://` URL), else the SQLite file in the home (the embedded default)."""
        url = os.environ.get(LEDGER_URL_ENV, "").strip()
        if not url and self.ledger_url_file.is_file():
            url = self.ledger_url_file.read_text(encoding="utf-8").strip()
        return url or self.ledger_file

    @property
    def ledger_file(self) -> Path:
        """The SQLite ledger's file (used unless a PostgreSQL URL is set)."""
        return self.root / "ledger.sqlite"

    @property
    def ledger_url_file(self) -> Path:
        """The home's ledger setting: one line, `postgresql://user:pass@host:5432/db` (the password may instead be
        in $PGPASSWORD or ~/.pgpass, as libpq reads them)."""
        return self.root / "ledger.url"

    @property
    def key_file(self) -> Path:
        return self.root / "secret.key"

    @property
    def dagster_home(self) -> Path:
        return self.root / "dagster"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def source_file(self) -> Path:
        """Where `sync` remembers the source spec, so schedules refresh from the same place."""
        return self.root / "source.txt"
