"""Shared fixtures: each test gets its own home folder; servers are started by the fixtures that need them."""

from __future__ import annotations

import os

import pytest

from orchestration.config import Home

pytest_plugins = ["tests.fixtures.servers"]

for _var in ("TWILIO_EDGE", "TWILIO_REGION"):
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
