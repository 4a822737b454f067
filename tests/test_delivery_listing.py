"""Polling by listing the sender's messages reaches the same delivery states as polling by SID, with one list
request for many messages; what the list does not show (a message that never left, another sender) is fetched by
SID. `delivery sync` and the sensor poll this way, bounded and batch by batch."""

from __future__ import annotations

import json
import time

from click.testing import CliRunner

from orchestration.cli import main
from orchestration.delivery.listing import poll_tenant_by_list, sent_since
from orchestration.delivery.poll import client_for, poll_tenant
from orchestration.ledger import Ledger
from orchestration.sender import run_campaign
from orchestration.simulator import DEMO_FROM
from tests.sending import manual, numbers, with_twilio

NEVER_SENT = "+12025550034"  # fails with 30034 at its turn, before it leaves: no date_sent
PHONES = [*numbers(3), "+12025550003", NEVER_SENT]  # 3 delivered, 1 undelivered 30003, 1 failed 30034


def states(ledger: Ledger, campaign_id: int) -> dict[str, tuple]:
    with ledger.read() as con:
        rows = con.execute("SELECT phone_e164, delivery_status, delivery_error_code FROM recipients "
                           "WHERE campaign_id = ?", (campaign_id,)).fetchall()
    return {row[0]: (row[1], row[2]) for row in rows}


def sent(home, tenant_id: int = 1, phones: list[str] = PHONES) -> tuple[Ledger, int]:
    ledger = with_twilio(home, tenant_id)
    campaign_id = manual(ledger, phones, tenant_id=tenant_id)
    run_campaign(home, tenant_id, campaign_id)
    return ledger, campaign_id


def requests_since(simulator, before: dict) -> dict[str, int]:
    after = simulator.stats()
    return {name: after.get(name, 0) - before.get(name, 0) for name in ("lists", "fetches")}


def test_listing_reaches_the_states_of_fetching_by_sid_with_one_list_request(home, simulator):
    ledger, first = sent(home)
    second = manual(ledger, PHONES)
    run_campaign(home, 1, second)
    client = client_for(home, ledger, 1)
    as_of = time.time() + 11

    before = simulator.stats()
    poll_tenant(ledger, 1, client, campaign_id=first, now=lambda: as_of)
    by_sid = requests_since(simulator, before)
    middle = simulator.stats()
    summary = poll_tenant_by_list(ledger, 1, client, DEMO_FROM, campaign_id=second, now=lambda: as_of)
    by_list = requests_since(simulator, middle)

    assert list(states(ledger, second).values()) == list(states(ledger, first).values())
    assert states(ledger, second)["+12025550003"] == ("undelivered", 30003)
    assert states(ledger, second)[NEVER_SENT] == ("failed", 30034)
    assert by_sid == {"lists": 0, "fetches": len(PHONES)}
    assert by_list == {"lists": 1, "fetches": 1}  # the one that never left is not in a DateSent list
    assert summary.checked == len(PHONES) and summary.requests == 2


def test_a_message_the_list_does_not_show_is_fetched_by_sid(home, simulator):
    ledger, campaign_id = sent(home)
    client = client_for(home, ledger, 1)

    before = simulator.stats()
    summary = poll_tenant_by_list(ledger, 1, client, "+15005550099", now=lambda: time.time() + 11)  # wrong sender
    used = requests_since(simulator, before)

    assert summary.checked == len(PHONES)
    assert used == {"lists": 1, "fetches": len(PHONES)}
    assert states(ledger, campaign_id)["+12025550034"] == ("failed", 30034)


def test_the_list_is_read_from_the_day_of_the_oldest_due_send():
    assert sent_since(86_400 * 3 + 60) == "1970-01-04"  # DateSent>=YYYY-MM-DD, in GMT, as Twilio's docs give it


def test_delivery_sync_polls_by_the_senders_list(home, simulator):
    ledger, campaign_id = sent(home)
    with ledger.write() as con:
        con.execute("UPDATE recipients SET delivery_next_check_at = 0")  # due now

    before = simulator.stats()
    result = CliRunner().invoke(main, ["delivery", "sync", "--tenant", "1", "--json"])

    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["checked"] == len(PHONES) and summary["requests"] == 2
    assert requests_since(simulator, before) == {"lists": 1, "fetches": 1}
    assert states(ledger, campaign_id)[numbers(3)[0]] == ("delivered", None)


def test_a_bounded_list_poll_records_batch_by_batch_and_leaves_the_rest_due(home, simulator):
    ledger, campaign_id = sent(home, phones=numbers(5))
    client = client_for(home, ledger, 1)
    seen = []

    summary = poll_tenant_by_list(ledger, 1, client, DEMO_FROM, now=lambda: time.time() + 11, max_checks=3, batch=2,
                                  on_batch=lambda s: seen.append(s.checked))
    rest = poll_tenant_by_list(ledger, 1, client, DEMO_FROM, now=lambda: time.time() + 11)

    assert summary.checked == 3 and summary.batches == 2 and seen == [2, 3]
    assert rest.checked == 2
    assert set(states(ledger, campaign_id).values()) == {("delivered", None)}
