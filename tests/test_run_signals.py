"""Send runs started by a process that ignores SIGINT and SIGTERM end their children and leave no process behind.

Such a parent is common: a background job of a non-interactive shell (`sh -c 'bkntc-sms ... &'`, nohup scripts, CI
runners) ignores SIGINT, and Dagster then maps SIGTERM to that (orchestration/termination.py). Seen in a suite run
so: a test worker ignored SIGTERM after an in-process run, and every CLI run it started ignored it too, as did the
runs' compute-log `tail -F` children, which Dagster ends with SIGTERM: each step's clean-up waited 30 s for them and
they outlived the run. The premise is checked: each child starts with both signals ignored.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from orchestration.sender import CampaignSettings, delivery_log
from tests.reliability.harness import cli_argv, run_to_exit
from tests.sending import finished_run, manual, numbers, with_twilio

PHONES = numbers(6)
SETTINGS = CampaignSettings(rate_limit_per_s=40, retry_base_seconds=0.05)
BOTH = (1 << (signal.SIGINT - 1)) | (1 << (signal.SIGTERM - 1))


def _ignoring_both() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)


def _started_ignoring_both() -> bool:
    """The premise: a process started as these tests start theirs has both signals ignored (read by the process
    itself, `grep` of its own status, rather than racing a Python child that may restore them at once)."""
    status = subprocess.run(["grep", "^SigIgn:", "/proc/self/status"], preexec_fn=_ignoring_both, text=True,
                            capture_output=True, check=True).stdout  # fmt: skip
    return int(status.split()[1], 16) & BOTH == BOTH


def _processes_of(home_root: Path) -> list[tuple[int, str]]:
    """(pid, command) of every live process other than this one whose command line or environment names the home
    (the CLI, the run process, the compute-log tails of its steps)."""
    marker, found = str(home_root).encode(), []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            command, environ = (entry / "cmdline").read_bytes(), (entry / "environ").read_bytes()
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z" and (marker in command or marker in environ):
            found.append((int(entry.name), command.replace(b"\0", b" ").decode(errors="replace").strip()))
    return found


def _left_behind(home_root: Path, grace_s: float = 30) -> list[tuple[int, str]]:
    """The home's processes still alive once `grace_s` has passed or none is left (a finished run's process may
    still be exiting); what is left is killed."""
    deadline = time.monotonic() + grace_s
    while (left := _processes_of(home_root)) and time.monotonic() < deadline:
        time.sleep(0.2)
    for pid, _ in left:
        os.kill(pid, signal.SIGKILL)
    return left


def test_cli_runs_started_with_sigint_and_sigterm_ignored_leave_no_process_behind(home, simulator):
    ledger = with_twilio(home)
    first, second = manual(ledger, PHONES, settings=SETTINGS), manual(ledger, PHONES[:3], settings=SETTINGS)
    assert _started_ignoring_both()
    for campaign_id in (first, second):
        done = run_to_exit(cli_argv("campaign", "run", str(campaign_id), "--tenant", "1"), preexec_fn=_ignoring_both)
        assert done.returncode == 0, done.stdout + done.stderr

    assert _left_behind(home.root) == []
    assert sorted(delivery_log(ledger, 1, first)["state"]) == ["sent"] * len(PHONES)
    assert sorted(delivery_log(ledger, 1, second)["state"]) == ["sent"] * 3


def test_a_run_launched_by_a_process_ignoring_sigterm_leaves_no_process_behind(home, simulator):
    # `dagster api execute_run` starts its steps' children inside capture_interrupts (SIGTERM handled), so this
    # path passes without orchestration/termination.py too; kept so that it stays so.
    ledger = with_twilio(home)
    campaign_id = manual(ledger, PHONES, settings=SETTINGS)
    launcher = textwrap.dedent(f"""
        from orchestration.config import Home
        from orchestration.defs.launch import launch_send_run
        launch_send_run(Home.resolve({str(home.root)!r}), 1, {campaign_id}, "launch", "tester")
    """)
    assert _started_ignoring_both()
    process = subprocess.Popen([sys.executable, "-c", launcher], preexec_fn=_ignoring_both, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, text=True)  # fmt: skip
    _, err = process.communicate(timeout=120)
    assert process.returncode == 0, err

    assert finished_run(home, campaign_id).is_success
    assert _left_behind(home.root) == []
    assert sorted(delivery_log(ledger, 1, campaign_id)["state"]) == ["sent"] * len(PHONES)
