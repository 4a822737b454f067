"""Helpers for the sending tests: a tenant with Twilio credentials on the simulator, a small warehouse."""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING

from orchestration.config import Home
from orchestration.ledger import Ledger
from orchestration.sender import CampaignSettings, get_campaign, send_manual
from orchestration.sender.pacing import set_sender_throughput
from orchestration.simulator import DEMO_ACCOUNT_SID, DEMO_AUTH_TOKEN, DEMO_FROM
from orchestration.tenants import TokenCipher, TwilioCredentials, save_twilio
from orchestration.warehouse import Warehouse
from tests.test_segments import appointment, build_warehouse, customer

if TYPE_CHECKING:
    from dagster import DagsterRun

FAST = CampaignSettings(rate_limit_per_s=0, retry_base_seconds=0.05)
TEMPLATE = "Hi {customer_first_name}, see you soon!"


def with_twilio(home: Home, tenant_id: int = 1, sender_rate: float | None = 0) -> Ledger:
    """The home's ledger, with the tenant sending from the demo account (base URL: the simulator fixture's env);
    `sender_rate`: the sender's throughput (0: no limit; None: its type's default)."""
    ledger = Ledger(home.ledger)
    credentials = TwilioCredentials(DEMO_ACCOUNT_SID, DEMO_AUTH_TOKEN, from_number=DEMO_FROM)
    save_twilio(ledger, tenant_id, credentials, TokenCipher.for_home(home))
    with ledger.write() as con:  # the fast simulator drains at once: no sender limit unless a test sets one
        set_sender_throughput(con, tenant_id, DEMO_FROM, sender_rate)
    return ledger


def numbers(count: int, start: int = 100) -> list[str]:
    """Deliverable US numbers (no suffix the simulator turns into an error)."""
    return [f"+1202555{n:04d}" for n in range(start, start + count)]


def manual(ledger: Ledger, phones: list[str], tenant_id: int = 1, settings: CampaignSettings = FAST) -> int:
    """A queued manual campaign to these numbers; returns its id."""
    people = [(phone, f"Pat {i}") for i, phone in enumerate(phones)]
    return send_manual(ledger, tenant_id, people, TEMPLATE, settings=settings).campaign_id


def wait_for(condition, what: str, timeout: float = 90, every: float = 0.2) -> None:
    """Polls `condition` every `every` seconds until it holds; fails naming `what` when the deadline passes first."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout:.0f} s")
        time.sleep(every)


def finished_run(home: Home, campaign_id: int, timeout: float = 180) -> DagsterRun:
    """The campaign's latest Dagster run, read through the home's instance, once it has finished; fails with the
    runs found if none has within `timeout` seconds."""
    import dagster as dg

    from orchestration.defs.launch import home_instance
    from orchestration.defs.sending.instance import CAMPAIGN_TAG

    deadline = time.monotonic() + timeout
    with home_instance(home) as instance:
        while True:
            runs = instance.get_runs(dg.RunsFilter(tags={CAMPAIGN_TAG: str(campaign_id)}))
            if runs and runs[0].is_finished or time.monotonic() > deadline:
                assert runs and runs[0].is_finished, runs
                return runs[0]
            time.sleep(0.2)


def stop_send_runs(home: Home, timeout: float = 60) -> None:
    """Cancels the home's unfinished campaigns and waits for their Dagster runs to end, so that no run process a
    test started outlives it."""
    import dagster as dg

    from orchestration.sender import cancel, list_campaigns

    ledger = Ledger(home.ledger)
    with ledger.read() as con:
        tenants = [row[0] for row in con.execute("SELECT DISTINCT tenant_id FROM campaigns")]
    for tenant_id in tenants:
        for campaign in list_campaigns(ledger, tenant_id):
            if campaign.state in ("queued", "sending", "paused"):
                cancel(ledger, tenant_id, campaign.campaign_id)
    if not (home.dagster_home / "dagster.yaml").is_file():
        return
    deadline = time.monotonic() + timeout
    with dg.DagsterInstance.from_config(str(home.dagster_home)) as instance:
        while any(not run.is_finished for run in instance.get_runs()) and time.monotonic() < deadline:
            time.sleep(0.2)


def small_warehouse(home: Home, count: int = 12, tenants: tuple[int, ...] = (1,)) -> Warehouse:
    """`count` customers per tenant (ids from 100, deliverable phones), each with one appointment."""
    customers, appointments = [], []
    for tenant in tenants:
        for cid in range(100, 100 + count):
            phone = f"+1{200 + tenant}555{cid:04d}"
            customers.append(customer(cid, tenant=tenant, phone=phone))
            appointments.append(appointment(tenant * 10_000 + cid, cid, 1_700_000_000, tenant=tenant))
    return build_warehouse(home.warehouse, customers, appointments, tenants=tenants)


def state_of(ledger: Ledger, tenant_id: int, campaign_id: int) -> str:
    return get_campaign(ledger, tenant_id, campaign_id).state


def once_counted(simulator, counter: str, count: int, **changes) -> threading.Thread:
    """Changes the simulator's settings as soon as its `counter` reaches `count` (an event, not a moment)."""

    def watch() -> None:
        deadline = time.monotonic() + 120
        while simulator.stats().get(counter, 0) < count and time.monotonic() < deadline:
            time.sleep(0.005)
        simulator.configure(**changes)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    return watcher
