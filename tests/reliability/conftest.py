"""The reliability suite's session hook: with BKNTC_RELIABILITY_REPORT=1, RELIABILITY.md is rebuilt after the run.

Plain test runs only write their figures to test-artifacts/reliability/, so running the suite leaves the
repository's files as they were; `BKNTC_RELIABILITY_REPORT=1 pytest tests/reliability` (or
`python -m tests.reliability.report`) turns the latest figures into RELIABILITY.md.
"""

from __future__ import annotations

import os

import pytest

from tests.reliability import report


@pytest.fixture(scope="session", autouse=True)
def reliability_report():
    yield
    if os.environ.get("BKNTC_RELIABILITY_REPORT") == "1":
        report.write()
