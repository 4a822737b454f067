"""The delivery poll sensor: every tenant with due checks is polled by its sender's list, and one tenant's failure
stops no other."""

from __future__ import annotations

import dagster as dg

from orchestration.defs.delivery.sensors import delivery_poll_sensor
from orchestration.defs.resources import resources_for
from orchestration.sender import run_campaign
from tests.sending import manual, numbers, with_twilio


def test_the_sensor_polls_each_tenant_and_isolates_a_failing_one(home, simulator):
    ledger = with_twilio(home, 1)
    with_twilio(home, 2)
    first = manual(ledger, numbers(2), tenant_id=1)
    second = manual(ledger, numbers(1, start=300), tenant_id=2)
    assert run_campaign(home, 1, first).sent == 2 and run_campaign(home, 2, second).sent == 1
    with ledger.write() as con:
        con.execute("UPDATE recipients SET delivery_next_check_at = 0")  # due now
        con.execute("DELETE FROM senders WHERE tenant_id = 2")
        con.execute("DELETE FROM tenant_credentials WHERE tenant_id = 2")  # tenant 2 cannot be polled

    before = simulator.stats()
    with dg.instance_for_test() as instance:
        context = dg.build_sensor_context(instance=instance, resources=resources_for(home.root))
        result = delivery_poll_sensor(context)
    after = simulator.stats()

    assert "tenant 1: 2 checked, 2 changed" in str(result.skip_message)
    assert "tenant 2: failed" in str(result.skip_message)
    assert after.get("lists", 0) - before.get("lists", 0) == 1  # tenant 1's two messages, in one list request
    assert after.get("fetches", 0) - before.get("fetches", 0) == 0
    with ledger.read() as con:
        states = dict(con.execute(
            "SELECT c.tenant_id || ':' || r.phone_e164, r.delivery_status FROM recipients r "
            "JOIN campaigns c USING (campaign_id)").fetchall())
    assert sorted(states.values()) == ["delivered", "delivered", "queued"]
    assert states[f"2:{numbers(1, start=300)[0]}"] == "queued"
