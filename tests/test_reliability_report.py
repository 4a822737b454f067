"""RELIABILITY.md must measure the sender and gateway the repository holds: the commit stamped in it (by
`make reliability`) must descend from the last commit that changed orchestration/sender or orchestration/gateway."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.reliability.report import STAMP_PATTERN

ROOT = Path(__file__).resolve().parents[1]
WATCHED = ("orchestration/sender", "orchestration/gateway")


def _git(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=60)


def test_reliability_md_is_not_older_than_the_last_change_to_the_sender_or_the_gateway():
    if not (ROOT / ".git").exists():
        pytest.skip("not a git checkout (no .git, e.g. a tarball): no history to compare RELIABILITY.md with")
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    if _git("rev-parse", "--is-shallow-repository").stdout.strip() == "true":
        pytest.skip("a shallow clone: the history between the stamped commit and the last change may be missing")
    found = STAMP_PATTERN.search((ROOT / "RELIABILITY.md").read_text(encoding="utf-8"))
    assert found, "RELIABILITY.md carries no commit stamp: regenerate it with `make reliability`"
    stamped = found.group(1)
    last_change = _git("log", "-1", "--format=%H", "--", *WATCHED).stdout.strip()
    assert last_change, f"no commit touches {' or '.join(WATCHED)}"
    assert _git("cat-file", "-e", f"{stamped}^{{commit}}").returncode == 0, (
        f"RELIABILITY.md is stamped with {stamped}, which is not a commit of this repository: "
        "regenerate it with `make reliability`"
    )
    ancestor = _git("merge-base", "--is-ancestor", last_change, stamped)
    assert ancestor.returncode in (0, 1), ancestor.stderr
    assert ancestor.returncode == 0, (
        f"RELIABILITY.md measured commit {stamped[:12]}, older than {last_change[:12]}, the last change to "
        f"{' or '.join(WATCHED)}: commit the change, run `make reliability` and commit RELIABILITY.md"
    )
