"""A send process killed at any point and restarted: no recipient lost, none messaged twice."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter

import pytest

from orchestration.sender import CampaignSettings, delivery_log, status
from orchestration.sender.faults import FAULT_ENV, FAULT_EXIT_CODE
from tests.sending import manual, numbers, with_twilio

PHONES = numbers(30)
SETTINGS = CampaignSettings(rate_limit_per_s=40, retry_base_seconds=0.05)  # chunks of 20: two chunks


def campaign_run(campaign_id: int, fault: str | None = None) -> subprocess.Popen:
    """`bkntc-sms campaign run` in its own process (home and simulator URL come from the environment)."""
    env = {**os.environ, "BKNTC_SMS_HTTP_TIMEOUT": "1"}
    env.pop(FAULT_ENV, None)
    if fault:
        env[FAULT_ENV] = fault
    command = [sys.executable, "-m", "orchestration.cli.entry", "campaign", "run", str(campaign_id),
               "--tenant", "1", "--json"]  # fmt: skip
    # Output to a file, not a pipe: Dagster's compute-log capture mirrors a step's output through `tail -F`
    # children, and when the crash hook ends the process abruptly those can outlive it holding a pipe open, so a
    # `communicate()` would wait for them rather than for the process (seen: 120 s hangs under a loaded suite).
    out, err = tempfile.TemporaryFile(mode="w+"), tempfile.TemporaryFile(mode="w+")
    process = subprocess.Popen(command, env=env, stdout=out, stderr=err, text=True)
    process.output_files = (out, err)  # type: ignore[attr-defined]
    return process


def finish(process: subprocess.Popen) -> tuple[int, str]:
    """Waits for the process itself (not for what it left behind); its exit code and output."""
    process.wait(timeout=120)
    texts = []
    for output in process.output_files:  # type: ignore[attr-defined]
        output.seek(0)
        texts.append(output.read())
        output.close()
    return process.returncode, "".join(texts)  # stdout, then stderr


def assert_each_sent_exactly_once(ledger, simulator, campaign_id: int) -> None:
    log = delivery_log(ledger, 1, campaign_id)
    accepted = simulator.accepted()
    assert Counter(m["to"] for m in accepted) == Counter(PHONES)
    assert set(log["state"]) == {"sent"}
    assert sorted(log["message_sid"]) == sorted(m["sid"] for m in accepted)


@pytest.mark.parametrize(
    "fault",
    ["after_claim:2", "before_request:1", "before_request:25", "after_accept:1", "after_accept:25",
     "before_record:1", "before_record:2"],
)  # fmt: skip
def test_process_dying_at_a_crash_point_then_restarted_sends_each_recipient_once(home, simulator, fault):
    ledger = with_twilio(home)
    campaign_id = manual(ledger, PHONES, settings=SETTINGS)

    crashed, crash_output = finish(campaign_run(campaign_id, fault))
    code, output = finish(campaign_run(campaign_id))

    assert crashed == FAULT_EXIT_CODE, crash_output
    assert code == 0 and json.loads(output.splitlines()[0])["stopped"] == "completed", output
    assert_each_sent_exactly_once(ledger, simulator, campaign_id)


def test_accepted_message_whose_result_was_never_written_is_recovered_not_resent(home, simulator):
    ledger = with_twilio(home)
    campaign_id = manual(ledger, PHONES, settings=SETTINGS)

    finish(campaign_run(campaign_id, "after_accept:3"))
    _, output = finish(campaign_run(campaign_id))

    assert json.loads(output.splitlines()[0])["recovered"] >= 1
    assert status(ledger, 1, campaign_id).counts["sent"] == len(PHONES)


def test_process_killed_repeatedly_mid_send_loses_and_duplicates_nothing(home, simulator):
    ledger = with_twilio(home)
    campaign_id = manual(ledger, PHONES, settings=SETTINGS)

    for fault in ("after_accept:4", "before_request:6", "after_accept:2"):
        crashed, output = finish(campaign_run(campaign_id, fault))
        assert crashed == FAULT_EXIT_CODE, output
    code, output = finish(campaign_run(campaign_id))

    assert code == 0, output
    assert_each_sent_exactly_once(ledger, simulator, campaign_id)


def test_sigkill_during_a_send_then_restart_sends_each_recipient_once(home, simulator):
    ledger = with_twilio(home)
    campaign_id = manual(ledger, PHONES, settings=CampaignSettings(rate_limit_per_s=15))
    process = campaign_run(campaign_id)
    deadline = time.monotonic() + 30
    while len(simulator.accepted()) < 10 and time.monotonic() < deadline:
        time.sleep(0.01)

    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=10)
    code, output = finish(campaign_run(campaign_id))

    assert process.returncode == -signal.SIGKILL
    assert code == 0, output
    assert_each_sent_exactly_once(ledger, simulator, campaign_id)
