"""Polling by listing the sender's messages reaches the same delivery states as polling by SID, with one list
request for many messages, and still fetches by SID what the list did not show."""

from __future__ import annotations

import time

from orchestration.delivery.listing import poll_tenant_by_list
from orchestration.delivery.poll import client_for, poll_tenant
from orchestration.ledger import Ledger
from orchestration.sender import run_campaign
from orchestration.simulator import DEMO_FROM
from tests.sending import manual, numbers, with_twilio

PHONES = [*numbers(3), "+12025550003", "+12025550034"]  # 3 delivered, 1 undelivered 30003, 1 failed 30034


def states(ledger: Ledger, campaign_id: int) -> dict[str, tuple]:
    with ledger.read() as con:
        rows = con.execute("SELECT phone_e164, delivery_status, delivery_error_code FROM recipients "
                           "WHERE campaign_id = ?", (campaign_id,)).fetchall()
    return {row[0]: (row[1], row[2]) for row in rows}


def sent(home, tenant_id: int = 1) -> tuple[Ledger, int]:
    ledger = with_twilio(home, tenant_id)
    campaign_id = manual(ledger, PHONES, tenant_id=tenant_id)
    run_campaign(home, tenant_id, campaign_id)
    return ledger, campaign_id


def test_listing_reaches_the_states_of_fetching_by_sid_with_one_request(home, simulator):
    ledger, first = sent(home)
    second = manual(ledger, PHONES)
    run_campaign(home, 1, second)
    client = client_for(home, ledger, 1)
    as_of = time.time() + 11

    before = simulator.stats()
    poll_tenant(ledger, 1, client, campaign_id=first, now=lambda: as_of)
    middle = simulator.stats()
    summary = poll_tenant_by_list(ledger, 1, client, DEMO_FROM, campaign_id=second, now=lambda: as_of)
    after = simulator.stats()

    assert list(states(ledger, second).values()) == list(states(ledger, first).values())
    assert states(ledger, second)["+12025550003"] == ("undelivered", 30003)
    assert middle["fetches"] - before.get("fetches", 0) == len(PHONES)
    assert after.get("lists", 0) - middle.get("lists", 0) == 1
    assert after["fetches"] - middle["fetches"] == 0 and summary.checked == len(PHONES)


def test_a_message_the_list_does_not_show_is_fetched_by_sid(home, simulator):
    ledger, campaign_id = sent(home)
    client = client_for(home, ledger, 1)

    before = simulator.stats()
    summary = poll_tenant_by_list(ledger, 1, client, "+15005550099", now=lambda: time.time() + 11)  # wrong sender
    after = simulator.stats()

    assert summary.checked == len(PHONES)
    assert after["fetches"] - before.get("fetches", 0) == len(PHONES)
    assert states(ledger, campaign_id)["+12025550034"] == ("failed", 30034)
