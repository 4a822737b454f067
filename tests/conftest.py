"""Shared fixtures: each test gets its own home folder; servers are started by the fixtures that need them."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from orchestration.config import LEDGER_URL_ENV, Home

pytest_plugins = ["tests.fixtures.servers"]

for _var in ("TWILIO_EDGE", "TWILIO_REGION", LEDGER_URL_ENV):
    os.environ.pop(_var, None)
# The simulator's fast mode shows a new message in its list at once; tests of the realistic mode set their own.
os.environ.setdefault("BKNTC_SMS_LOOKUP_SETTLE_S", "0.1")
# Sends do not depend on the hour the suite runs at: tenants without their own quiet hours send at any hour (the
# quiet-hours tests set their tenant's window and state rules, and inject the time).
os.environ.setdefault("BKNTC_SMS_DEFAULT_QUIET_HOURS", "off")


@pytest.fixture
def home(tmp_path, monkeypatch) -> Home:
    """A fresh home folder, also exported as BKNTC_SMS_HOME for CLI calls and subprocesses."""
    monkeypatch.setenv("BKNTC_SMS_HOME", str(tmp_path / "home"))
    return Home.resolve(tmp_path / "home").ensure()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def ledger_url(request, home, monkeypatch) -> Iterator[str]:
    """Runs the test on each ledger: the home's SQLite file, then a fresh database on the session's PostgreSQL
    server (exported as $BKNTC_SMS_LEDGER_URL, so `home.ledger`, the CLI and subprocesses all use it).

    A test file opts in with `pytestmark = pytest.mark.usefixtures("ledger_url")`; every other test stays on
    SQLite alone. `-m "not postgres"` leaves the PostgreSQL runs out."""
    if request.param == "sqlite":
        yield str(home.ledger)
        return
    from orchestration.ledger.postgres import close_pools
    from tests.fixtures.servers import fresh_database

    url = fresh_database(request.getfixturevalue("postgres_server"))
    monkeypatch.setenv(LEDGER_URL_ENV, url)
    yield url
    close_pools()  # this database's connections end with the test
