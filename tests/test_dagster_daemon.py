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

from orchestration.defs.launch import DAGSTER_URL_ENV, home_instance, launch_send_run
from orchestration.defs.sending.instance import CAMPAIGN_TAG, TENANT_TAG, write_instance_config
from orchestration.sender import CampaignSettings, status
from tests.fixtures.servers import free_port
from tests.sending import manual, numbers, with_twilio

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
PORTS = range(34250, 34300)
RUNS_QUERY = """
query ($tags: [ExecutionTag!]) {
  runsOrError(filter: {tags: $tags}) {
    ... on Runs { results { runId status startTime endTime tags { key value } } }
  }
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


def _runs(port: int, campaign_id: int | None = None, tenant_id: int | None = None) -> list[dict]:
    tags = [{"key": CAMPAIGN_TAG, "value": str(campaign_id)}] if campaign_id is not None else []
    tags += [{"key": TENANT_TAG, "value": str(tenant_id)}] if tenant_id is not None else []
    payload = json.dumps({"query": RUNS_QUERY, "variables": {"tags": tags}})
    request = urllib.request.Request(f"http://127.0.0.1:{port}/graphql", data=payload.encode(),
                                     headers={"Content-Type": "application/json"})  # fmt: skip
    with urllib.request.urlopen(request, timeout=10) as answer:
        return json.loads(answer.read())["data"]["runsOrError"]["results"]


def _most_at_once(runs: list[dict]) -> int:
    """The most runs that were in progress at the same moment (from Dagster's own start and end times)."""
    edges = sorted([(r["startTime"], 1) for r in runs] + [(r["endTime"], -1) for r in runs],
                   key=lambda edge: (edge[0], edge[1]))  # an end at the same instant as a start comes first
    most = current = 0
    for _, step in edges:
        current += step
        most = max(most, current)
    return most


@pytest.mark.slow
def test_daemon_sensor_sends_a_queued_campaign_and_webserver_launches_keep_to_the_tenant_limit(
    home, simulator, tmp_path, monkeypatch
):
    ledger = with_twilio(home)
    campaign_id = manual(ledger, numbers(5))
    write_instance_config(home)
    with home_instance(home):  # the instance's storage exists before two processes would race to create it
        pass
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
        # Past one machine: launches go to the webserver's run queue. Three campaigns of one tenant, each slowed to
        # ~12 s of sending (longer than a run process takes to start), are submitted at once; the tenant may have
        # only two runs in progress at a time.
        monkeypatch.setenv(DAGSTER_URL_ENV, f"http://127.0.0.1:{port}")
        slow = CampaignSettings(rate_limit_per_s=0.5, retry_base_seconds=0.05)
        launched = [manual(ledger, numbers(6, start=200 + 10 * i), settings=slow) for i in range(3)]
        run_ids = [launch_send_run(home, 1, campaign, actor="limit-test") for campaign in launched]
        deadline = time.monotonic() + 300
        tenant_runs: list[dict] = []
        while time.monotonic() < deadline:
            tenant_runs = [r for r in _runs(port, tenant_id=1) if r["runId"] in run_ids]
            if len(tenant_runs) == 3 and all(r["status"] in ("SUCCESS", "FAILURE") for r in tenant_runs):
                break
            time.sleep(1)
    finally:
        _stop(daemon)
        _stop(webserver)

    logs = (tmp_path / "daemon.log").read_text(errors="replace")[-3000:]
    assert status(ledger, 1, campaign_id).counts["sent"] == 5, logs
    assert [r["status"] for r in runs] == ["SUCCESS"], logs
    assert sorted(m["to"] for m in simulator.accepted()) == sorted(
        numbers(5) + [n for i in range(3) for n in numbers(6, start=200 + 10 * i)])
    assert sorted(r["status"] for r in tenant_runs) == ["SUCCESS"] * 3, logs
    # The sensor may have picked up a campaign before its launch did (the launch then returns the sensor's run).
    assert "limit-test" in {dict((t["key"], t["value"]) for t in r["tags"])["bkntc/launched_by"] for r in tenant_runs}
    # Two at once proves the runs really overlapped (the premise); never three proves the tenant limit held.
    spans = sorted((r["startTime"], r["endTime"], dict((t["key"], t["value"]) for t in r["tags"])["bkntc/launched_by"])
                   for r in tenant_runs)
    assert _most_at_once(tenant_runs) == 2, spans
