"""The reliability suite's session hook: RELIABILITY.md is regenerated from the figures after every run."""

from __future__ import annotations

import pytest

from tests.reliability import report


@pytest.fixture(scope="session", autouse=True)
def reliability_report():
    yield
    report.write()
