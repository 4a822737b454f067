"""End to end with the real Dagster daemon and webserver: the queue sensor sends a queued campaign on its own."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from orchestration.defs.sending.instance import CAMPAIGN_TAG, write_instance_config
from orchestration.sender import status
from tests.fixtures.servers import free_port
from tests.sending import manual, numbers, with_twilio

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
PORTS = range(34250, 34300)
RUNS_QUERY = """
query ($tags: [ExecutionTag!]) {
  runsOrError(filter: {tags: $tags}) { ... on Runs { results { runId status tags { key value } } } }
}
"""


def _start(command: list[str], env: dict, log: Path) -> subprocess.Popen:
    handle = log.open("w")
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=handle, stderr=subprocess.STDOUT,
                            start_new_session=True)  # fmt: skip


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _runs(port: int, campaign_id: int) -> list[dict]:
    payload = json.dumps({"query": RUNS_QUERY, "variables": {"tags": [{"key": CAMPAIGN_TAG,
                                                                        "value": str(campaign_id)}]}})  # fmt: skip
    request = urllib.request.Request(f"http://127.0.0.1:{port}/graphql", data=payload.encode(),
                                     headers={"Content-Type": "application/json"})  # fmt: skip
    with urllib.request.urlopen(request, timeout=10) as answer:
        return json.loads(answer.read())["data"]["runsOrError"]["results"]


@pytest.mark.slow
def test_daemon_sensor_sends_a_queued_campaign(home, simulator, tmp_path):
    ledger = with_twilio(home)
    campaign_id = manual(ledger, numbers(5))
    write_instance_config(home)
    port = free_port(PORTS)
    env = {**os.environ, "DAGSTER_HOME": str(home.dagster_home)}
    daemon = _start([str(BIN / "dagster-daemon"), "run", "-w", "workspace.yaml"], env, tmp_path / "daemon.log")
    webserver = _start([str(BIN / "dagster-webserver"), "-w", "workspace.yaml", "-h", "127.0.0.1", "-p", str(port)],
                       env, tmp_path / "webserver.log")  # fmt: skip
    try:
        deadline = time.monotonic() + 240
        runs: list[dict] = []
        while time.monotonic() < deadline:
            done = status(ledger, 1, campaign_id).campaign.state == "completed"
            try:
                runs = _runs(port, campaign_id)
            except OSError:
                runs = []
            if done and runs and runs[0]["status"] == "SUCCESS":
                break
            time.sleep(1)
    finally:
        _stop(daemon)
        _stop(webserver)

    logs = (tmp_path / "daemon.log").read_text(errors="replace")[-3000:]
    assert status(ledger, 1, campaign_id).counts["sent"] == 5, logs
    assert [r["status"] for r in runs] == ["SUCCESS"], logs
    assert sorted(m["to"] for m in simulator.accepted()) == numbers(5)
