"""End to end in a real browser: the console served by `streamlit run`, driven through Debian's Chromium."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import dagster as dg
import pandas as pd
import pytest
from click.testing import CliRunner

from orchestration.audiences import AudienceQuery, preview
from orchestration.cli import main
from orchestration.defs.launch import home_instance
from orchestration.defs.sending.instance import REASON_TAG, STOPPED_TAG
from orchestration.ledger import Ledger
from orchestration.sender import campaigns
from orchestration.sender.pacing import set_sender_throughput
from orchestration.sender.reports import delivery_log, status
from orchestration.warehouse import Warehouse
from tests.fixtures.servers import free_port
from tests.sending import stop_send_runs, wait_for
from tests.signed_in import ensure_user, sign_in_in_browser
from tests.test_console import APP, build_demo_home, point_tenants_at
from tests.test_send_runs import finished_runs

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
PORTS = range(34400, 34500)
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
TEST_NUMBER = "+14155552671"
SENDER = "+15550100001"  # tenant 1's From number (point_tenants_at)
SLOW_RATE = 3.0  # messages per second: slow enough to pause a campaign mid-way




def wait_until_up(url: str, server: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"streamlit exited with {server.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"{url} did not answer within {timeout} s")


@pytest.fixture
def console_url(tmp_path, simulator, monkeypatch):
    """`streamlit run console/app.py` on a demo home whose tenants send to the in-process simulator."""
    home = build_demo_home(tmp_path / "home")
    point_tenants_at(home, simulator.base_url)
    monkeypatch.setenv("BKNTC_SMS_HOME", str(home.root))
    port = free_port(PORTS)
    env = {**os.environ, "BKNTC_SMS_HOME": str(home.root)}
    log = open(tmp_path / "streamlit.log", "wb")
    server = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(APP), "--server.port", str(port),
         "--server.headless", "true", "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"],
        env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    try:
        wait_until_up(f"http://127.0.0.1:{port}/_stcore/health", server)
        yield f"http://127.0.0.1:{port}", home
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
        log.close()


def metric_value(page, label: str) -> str:
    metric = page.locator('[data-testid="stMetric"]').filter(has_text=label).first
    return metric.locator('[data-testid="stMetricValue"]').inner_text()


def test_an_analyst_previews_a_segment_and_sends_a_test_in_a_real_browser(console_url, simulator, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    url, home = console_url
    expected = preview(Warehouse(home.warehouse), Ledger(home.ledger),
                       AudienceQuery(1, "upcoming", days=30, exclude_suppressed=True))
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1440, "height": 1000})
            page.goto(url)
            sign_in_in_browser(page, ensure_user(home, "analyst@example.com", "analyst", 1))
            expect(page.get_by_role("heading", name="Audience")).to_be_visible(timeout=30_000)

            page.locator('[data-testid="stSelectbox"]').filter(has_text="Segment").click()
            page.get_by_role("option", name="Upcoming appointments").click()
            expect(page.get_by_text("starting in the next N days")).to_be_visible(timeout=20_000)
            expect(page.get_by_role("radio", name="30 days")).to_have_count(1, timeout=20_000)
            page.get_by_role("radio", name="30 days").click()
            expect(page.locator('[data-testid="stMetric"]').filter(has_text="Recipients").first
                   .locator('[data-testid="stMetricValue"]')).to_have_text(f"{expected.count:,}", timeout=20_000)
            page.wait_for_timeout(1500)  # let the chart draw
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "console-audience.png"), full_page=True)

            page.get_by_role("link", name="Compose").click()
            expect(page.get_by_text("SMS per message", exact=True)).to_be_visible(timeout=20_000)
            page.get_by_role("link", name="Send", exact=True).click()
            page.get_by_label("Your phone number").fill(TEST_NUMBER)
            page.get_by_role("button", name="Send test").click()
            expect(page.get_by_text(f"Test message sent to {TEST_NUMBER}")).to_be_visible(timeout=30_000)
            page.screenshot(path=str(ARTIFACTS / "console.png"), full_page=True)
            shutil.copy(ARTIFACTS / "console.png", "/tmp/console.png")

            [message] = simulator.accepted(TEST_NUMBER)
            assert message["body"].startswith("Hi ") and "{" not in message["body"]

            page.get_by_role("link", name="Delivery log").click()
            with page.expect_download(timeout=30_000) as download:
                page.get_by_role("button", name="Download the whole log (CSV)").click()
            downloaded = tmp_path / "download.csv"
            download.value.save_as(downloaded)
        finally:
            browser.close()

    [campaign] = campaigns.list_campaigns(Ledger(home.ledger), 1)
    with home_instance(home) as instance:  # the test send is on its campaign's partition in Dagster
        [recorded] = instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=dg.AssetKey("campaign"), asset_partitions=[f"t1-c{campaign.campaign_id}"]),
            limit=5).records  # fmt: skip
    assert recorded.asset_materialization.metadata["reason"].value == "test"
    exported = tmp_path / "cli.csv"
    result = CliRunner().invoke(main, ["logs", "export", str(campaign.campaign_id), "--tenant", "1",
                                       "--out", str(exported)])
    assert result.exit_code == 0, result.output
    assert downloaded.read_bytes() == exported.read_bytes()


def shown_count(page, label: str) -> int:
    try:
        return int(metric_value(page, label).replace(",", ""))
    except Exception:  # noqa: BLE001 - the fragment is redrawing: not shown at this instant
        return -1


def test_launch_pause_resume_and_the_delivery_log_each_send_a_dagster_run_in_a_real_browser(console_url, tmp_path):
    """Launch from the Send page (the Campaigns and Delivery log pages then open it), watch it send, pause it
    mid-way, resume it: one Dagster run per send path, tagged with why it stopped; the log lists every recipient."""
    from playwright.sync_api import expect, sync_playwright

    from tests.test_console import make_campaign

    url, home = console_url
    ledger = Ledger(home.ledger)
    older = make_campaign(home, 1, "Older campaign")
    campaigns.cancel(ledger, 1, older.campaign_id)  # only the launched campaign uses the sender
    with ledger.write() as con:  # slow enough to pause mid-way: a few messages per second
        set_sender_throughput(con, 1, SENDER, SLOW_RATE)
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                page = browser.new_page(viewport={"width": 1440, "height": 1000})
                page.goto(url)
                sign_in_in_browser(page, ensure_user(home, "admin@example.com", "admin", 1))
                expect(page.get_by_role("heading", name="Audience")).to_be_visible(timeout=30_000)
                picker = page.locator('[data-testid="stSelectbox"]').filter(has_text="Campaign").first
                page.get_by_role("link", name="Campaigns").click()
                expect(page.get_by_role("heading", name="Older campaign")).to_be_visible(timeout=20_000)

                page.get_by_role("link", name="Compose").click()
                expect(page.get_by_text("SMS per message", exact=True)).to_be_visible(timeout=20_000)
                page.get_by_role("link", name="Send", exact=True).click()
                page.get_by_role("tab", name="Campaign").click()
                page.get_by_role("button", name="Review campaign").click()
                expect(page.get_by_text("Estimated cost")).to_be_visible(timeout=30_000)
                page.get_by_role("button", name="Confirm and send").click()
                expect(page.get_by_text("has started")).to_be_visible(timeout=30_000)
                page.get_by_role("link", name="Follow it on the Campaigns page").click()
                newest = campaigns.list_campaigns(ledger, 1)[0]
                assert newest.campaign_id != older.campaign_id
                total = newest.recipient_count
                assert total >= 4 * SLOW_RATE  # at the slow rate it takes seconds: time to pause it mid-way
                expect(page.get_by_role("heading", name=newest.name)).to_be_visible(timeout=20_000)

                wait_for(lambda: shown_count(page, "Sent") >= 2, "the page shows messages sent")
                page.get_by_role("button", name="Pause").click()
                [paused_run] = finished_runs(home, newest.campaign_id, 1)
                counts = status(ledger, 1, newest.campaign_id).counts
                done_at_pause = counts["sent"] + counts["failed"] + counts["skipped"]
                assert counts["sent"] >= 2 and done_at_pause < total
                expect(page.get_by_role("button", name="Resume")).to_be_enabled(timeout=20_000)  # shown paused

                with ledger.write() as con:  # the rest goes out at once
                    set_sender_throughput(con, 1, SENDER, 0)
                page.get_by_role("button", name="Resume").click()
                runs = finished_runs(home, newest.campaign_id, 2)
                expect(page.get_by_text(f"{total:,} of {total:,} done")).to_be_visible(timeout=30_000)
                expect(page.get_by_role("button", name="Pause")).to_be_disabled(timeout=20_000)  # redrawn: completed

                page.get_by_role("link", name="Delivery log").click()
                expect(page.get_by_role("heading", name="Delivery log")).to_be_visible(timeout=20_000)
                chosen = picker.get_by_text(f"#{newest.campaign_id} · {newest.name}").or_(
                    picker.locator(f'input[value^="#{newest.campaign_id} ·"]'))
                expect(chosen).to_have_count(1, timeout=20_000)
                expect(page.get_by_text(f"{total:,} recipients shown")).to_be_visible(timeout=20_000)
                with page.expect_download(timeout=30_000) as download:
                    page.get_by_role("button", name="Download the whole log (CSV)").click()
                downloaded = tmp_path / "journey.csv"
                download.value.save_as(downloaded)
            finally:
                browser.close()
    finally:
        stop_send_runs(home)

    assert runs[1].run_id == paused_run.run_id  # newest first: the paused run is the older one
    assert [(run.tags[REASON_TAG], run.tags[STOPPED_TAG]) for run in reversed(runs)] == [
        ("launch", "paused"), ("resume", "completed")]
    log = pd.read_csv(downloaded, dtype=str)
    recipients = delivery_log(ledger, 1, newest.campaign_id)
    assert len(log) == total and sorted(log["phone_e164"]) == sorted(recipients["phone_e164"])
    assert dict(zip(log["phone_e164"], log["state"], strict=True)) == dict(
        zip(recipients["phone_e164"], recipients["state"], strict=True))
    assert (log["state"] == "sent").sum() > done_at_pause and not log["state"].isin(["pending", "sending"]).any()
