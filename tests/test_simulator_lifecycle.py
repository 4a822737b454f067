"""The simulator's message lifecycle, read through the official `twilio` library over real HTTP, on a hand-moved clock.

Every instant here comes from a `ManualClock`, so nothing depends on how fast the machine runs.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import requests
from openapi_schema_validator import OAS30Validator
from twilio.base.exceptions import TwilioRestException

from orchestration.simulator import (
    DEFAULT_SERVICE_NUMBER,
    DEMO_ACCOUNT_SID,
    DEMO_AUTH_TOKEN,
    DEMO_FROM,
    Faults,
    ManualClock,
    default_throughput,
)
from orchestration.simulator.spec import contract
from orchestration.tenants.credentials import TwilioCredentials
from orchestration.tenants.twilio_client import twilio_client
from tests.fixtures.servers import start_simulator

ALICE = "+14155550100"
BOB = "+14155550200"
OTHER_FROM = "+15005550007"
MG = "MG" + "ab" * 16
T0 = 1_800_000_000.0  # a whole second, far from midnight


def message_validator() -> OAS30Validator:
    return OAS30Validator({"components": {"schemas": contract().schemas},
                           "$ref": "#/components/schemas/api.v2010.account.message"})


@pytest.fixture
def clock():
    return ManualClock(T0)


@pytest.fixture
def realistic(clock):
    """A realistic-mode simulator: 1 segment/s per number, no list lag, delivery 2 s after sent."""
    running = start_simulator(seed=3, clock=clock, faults=Faults.realistic(list_lag_s=0.0, delivery_delay_s=2.0))
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def client(realistic):
    return twilio_client(TwilioCredentials(DEMO_ACCOUNT_SID, DEMO_AUTH_TOKEN, DEMO_FROM, None, realistic.base_url))


def status(client, sid: str) -> str:
    return client.messages(sid).fetch().status


def test_default_throughput_by_sender_type():
    assert default_throughput("+14155550100") == 1  # US long code
    assert default_throughput("+18005550100") == 3  # toll-free
    assert default_throughput("+18885550100") == 3
    assert default_throughput("12345") == 100  # short code
    assert default_throughput("123456") == 100
    assert default_throughput("Booknetic") == 10  # alphanumeric
    assert default_throughput(MG) == 10  # Messaging Service


def test_queued_then_sending_then_sent_then_delivered(client, clock):
    first = client.messages.create(to=ALICE, from_=DEMO_FROM, body="one")
    second = client.messages.create(to=ALICE, from_=DEMO_FROM, body="two")
    validate = message_validator()

    assert (second.status, second.date_sent, second.price) == ("queued", None, None)
    assert second.date_created == datetime.fromtimestamp(T0, UTC)
    queued = client.messages(second.sid).fetch()
    assert (status(client, first.sid), queued.status, queued.date_sent) == ("sending", "queued", None)
    validate.validate(requests.get(f"{client_base(client)}{queued.uri}", auth=AUTH, timeout=10).json())

    clock.advance(1.0)
    sent = client.messages(first.sid).fetch()
    assert (sent.status, sent.date_sent) == ("sent", datetime.fromtimestamp(T0 + 1, UTC))
    assert sent.price is not None
    assert status(client, second.sid) == "sending"

    clock.advance(1.0)
    assert (status(client, first.sid), status(client, second.sid)) == ("sent", "sent")
    clock.advance(1.0)
    assert (status(client, first.sid), status(client, second.sid)) == ("delivered", "sent")
    clock.advance(1.0)
    delivered = requests.get(f"{client_base(client)}{second.uri}", auth=AUTH, timeout=10).json()
    assert delivered["status"] == "delivered" and delivered["error_code"] is None
    validate.validate(delivered)


AUTH = (DEMO_ACCOUNT_SID, DEMO_AUTH_TOKEN)


def client_base(client) -> str:
    return client.http_client.base_url


def test_date_sent_filters_never_match_a_message_still_queued(client, clock):
    first = client.messages.create(to=ALICE, from_=DEMO_FROM, body="one")
    queued = client.messages.create(to=ALICE, from_=DEMO_FROM, body="two")
    today = datetime.fromtimestamp(T0, UTC).strftime("%Y-%m-%d")
    after = datetime.fromtimestamp(T0 - 3600, UTC)

    assert client.messages.list(to=ALICE, date_sent=today) == []
    assert client.messages.list(to=ALICE, date_sent_after=after) == []
    assert client.messages.list(to=ALICE, date_sent_before=datetime.fromtimestamp(T0 + 3600, UTC)) == []
    assert [m.sid for m in client.messages.list(to=ALICE)] == [queued.sid, first.sid]  # unfiltered: both

    clock.advance(1.0)
    assert [m.sid for m in client.messages.list(to=ALICE, date_sent=today)] == [first.sid]
    clock.advance(1.0)
    assert [m.sid for m in client.messages.list(to=ALICE, date_sent_after=after)] == [queued.sid, first.sid]


def test_list_lag_hides_a_new_message_from_the_list_but_not_from_fetch(clock):
    simulator = start_simulator(clock=clock, faults=Faults.realistic(list_lag_s=1.0))
    try:
        client = twilio_client(TwilioCredentials(DEMO_ACCOUNT_SID, DEMO_AUTH_TOKEN, DEMO_FROM, None,
                                                 simulator.base_url))
        created = client.messages.create(to=ALICE, from_=DEMO_FROM, body="lagging")

        before = client.messages.list(to=ALICE)
        fetched = client.messages(created.sid).fetch()
        clock.advance(0.5)
        still = client.messages.list(to=ALICE)
        clock.advance(0.5)
        after = client.messages.list(to=ALICE)
    finally:
        simulator.stop()

    assert (before, still, fetched.sid) == ([], [], created.sid)
    assert [m.sid for m in after] == [created.sid]


def test_fast_mode_has_no_list_lag_and_delivers_at_once(simulator):
    client = twilio_client(TwilioCredentials(DEMO_ACCOUNT_SID, DEMO_AUTH_TOKEN, DEMO_FROM, None, simulator.base_url))
    created = client.messages.create(to=ALICE, from_=DEMO_FROM, body="fast")

    [listed] = client.messages.list(to=ALICE)

    assert created.status == "queued"
    assert (listed.sid, listed.status, listed.date_sent is not None) == (created.sid, "delivered", True)


def test_each_sender_drains_its_own_queue_in_order(client, clock):
    mine = [client.messages.create(to=ALICE, from_=DEMO_FROM, body=f"a{i}").sid for i in range(3)]
    other = client.messages.create(to=BOB, from_=OTHER_FROM, body="b0").sid

    now = [status(client, sid) for sid in mine]
    other_now = status(client, other)
    clock.advance(1.0)
    later = [status(client, sid) for sid in mine]
    clock.advance(2.0)
    sent_at = [client.messages(sid).fetch().date_sent for sid in mine]

    assert now == ["sending", "queued", "queued"]
    assert other_now == "sending"  # not behind the other number's queue
    assert later == ["sent", "sending", "queued"]
    assert status(client, other) == "delivered"
    assert sent_at == [datetime.fromtimestamp(T0 + i, UTC) for i in (1, 2, 3)]


def test_throughput_is_per_sender_and_counts_segments(clock):
    faults = Faults.realistic(sender_throughput={DEMO_FROM: 4.0}, list_lag_s=0.0, delivery_delay_s=0.0)
    simulator = start_simulator(clock=clock, faults=faults)
    try:
        client = twilio_client(TwilioCredentials(DEMO_ACCOUNT_SID, DEMO_AUTH_TOKEN, DEMO_FROM, None,
                                                 simulator.base_url))
        long = client.messages.create(to=ALICE, from_=DEMO_FROM, body="x" * 300)  # 2 segments: 0.5 s at 4/s
        short = client.messages.create(to=ALICE, from_=DEMO_FROM, body="y")  # then 0.25 s
        slow = client.messages.create(to=BOB, from_=OTHER_FROM, body="z")  # the default 1/s
        clock.advance(0.5)
        at_half = (status(client, long.sid), status(client, short.sid), status(client, slow.sid))
        clock.advance(0.25)
        at_three_quarters = status(client, short.sid)
    finally:
        simulator.stop()

    assert long.num_segments == "2"
    assert at_half == ("delivered", "sending", "sending")
    assert at_three_quarters == "delivered"


def test_a_full_sender_queue_answers_21611(clock):
    simulator = start_simulator(clock=clock, faults=Faults.realistic(queue_limit_s=2.0))
    try:
        client = twilio_client(TwilioCredentials(DEMO_ACCOUNT_SID, DEMO_AUTH_TOKEN, DEMO_FROM, None,
                                                 simulator.base_url))
        for i in range(3):  # 3 s of a 1/s number: the last one is booked with 2 s already queued
            client.messages.create(to=ALICE, from_=DEMO_FROM, body=f"n{i}")
        with pytest.raises(TwilioRestException) as full:
            client.messages.create(to=ALICE, from_=DEMO_FROM, body="one too many")
        other = client.messages.create(to=ALICE, from_=OTHER_FROM, body="another number")
        clock.advance(1.0)
        again = client.messages.create(to=ALICE, from_=DEMO_FROM, body="room again")
    finally:
        simulator.stop()

    assert (full.value.status, full.value.code) == (400, 21611)
    assert "exceeded the maximum number of queued messages" in full.value.msg
    assert (other.status, again.status) == ("queued", "queued")
    assert simulator.stats()["error_21611"] == 1


def test_a_full_messaging_service_queue_fails_the_message_later_with_30001(clock):
    faults = Faults.realistic(queue_limit_s=0.05, list_lag_s=0.0)
    simulator = start_simulator(clock=clock, faults=faults)
    try:
        client = twilio_client(TwilioCredentials(DEMO_ACCOUNT_SID, DEMO_AUTH_TOKEN, None, MG, simulator.base_url))
        client.messages.create(to=ALICE, messaging_service_sid=MG, body="first")  # 0.1 s at 10/s
        overflow = client.messages.create(to=BOB, messaging_service_sid=MG, body="second")
        fetched = client.messages(overflow.sid).fetch()
    finally:
        simulator.stop()

    assert overflow.status == "accepted"
    assert (fetched.status, fetched.error_code) == ("failed", 30001)


def test_messaging_service_message_has_no_from_until_its_turn(client, clock):
    first = client.messages.create(to=ALICE, messaging_service_sid=MG, body="one")
    waiting = [client.messages.create(to=ALICE, messaging_service_sid=MG, body=f"w{i}") for i in range(10)]

    last = client.messages(waiting[-1].sid).fetch()
    assert (first.status, first.from_) == ("accepted", None)
    assert (last.status, last.from_) == ("accepted", None)
    assert client.messages(first.sid).fetch().from_ == DEFAULT_SERVICE_NUMBER

    clock.advance(1.1)  # 11 messages at the service's 10/s
    assert client.messages(waiting[-1].sid).fetch().from_ == DEFAULT_SERVICE_NUMBER
    assert client.messages(waiting[-1].sid).fetch().status == "sent"


def test_messaging_service_pool_numbers_take_turns(clock):
    pool = ["+14155550901", "+14155550902"]
    simulator = start_simulator(clock=clock, faults=Faults(service_numbers={MG: pool}))
    try:
        client = twilio_client(TwilioCredentials(DEMO_ACCOUNT_SID, DEMO_AUTH_TOKEN, None, MG, simulator.base_url))
        sids = [client.messages.create(to=ALICE, messaging_service_sid=MG, body=f"n{i}").sid for i in range(3)]
        froms = [client.messages(sid).fetch().from_ for sid in sids]
        listed_from_first = client.messages.list(from_=pool[0])
    finally:
        simulator.stop()

    assert froms == [pool[0], pool[1], pool[0]]
    assert {m.sid for m in listed_from_first} == {sids[0], sids[2]}


@pytest.mark.parametrize(("to", "final", "code"), [
    ("+14155550003", "undelivered", 30003),
    ("+14155550005", "undelivered", 30005),
    ("+14155550006", "undelivered", 30006),
    ("+14155550007", "undelivered", 30007),
    ("+14155550008", "undelivered", 30008),
    ("+14155550034", "failed", 30034),
])
def test_delivery_errors_arrive_later_as_the_final_status(client, clock, to, final, code):
    created = client.messages.create(to=to, from_=DEMO_FROM, body="doomed")
    validate = message_validator()

    clock.advance(1.0)
    middle = client.messages(created.sid).fetch()
    clock.advance(2.0)
    ended = requests.get(f"{client_base(client)}{created.uri}", auth=AUTH, timeout=10).json()

    assert (created.status, created.error_code) == ("queued", None)
    if final == "failed":  # blocked by Twilio at its turn: never sent
        assert (middle.status, middle.error_code, middle.date_sent) == ("failed", code, None)
    else:  # sent to the carrier, which reports the failure later
        assert (middle.status, middle.error_code) == ("sent", None)
    assert (ended["status"], ended["error_code"]) == (final, code)
    assert ended["error_message"]
    validate.validate(ended)


def test_a_30xxx_error_rate_fails_created_messages_later(simulator):
    simulator.configure(error_rates={30006: 1.0})
    client = twilio_client(TwilioCredentials(DEMO_ACCOUNT_SID, DEMO_AUTH_TOKEN, DEMO_FROM, None, simulator.base_url))

    created = client.messages.create(to=ALICE, from_=DEMO_FROM, body="landline")

    assert created.status == "queued"
    assert [(m["status"], m["error_code"]) for m in simulator.accepted()] == [("undelivered", 30006)]


def test_accepted_and_admin_messages_show_the_current_status(realistic, client, clock):
    sid = client.messages.create(to=ALICE, from_=DEMO_FROM, body="watch").sid
    before = [m["status"] for m in realistic.accepted()]
    clock.advance(5.0)
    admin = requests.get(f"{realistic.base_url}/_sim/messages", timeout=10).json()["messages"]
    one = requests.get(f"{realistic.base_url}/_sim/messages/{sid}", timeout=10).json()

    assert before == ["sending"]
    assert [m["status"] for m in admin] == ["delivered"] == [realistic.message(sid)["status"]]
    assert one["sid"] == sid


def test_record_file_keeps_each_message_schedule_across_a_restart(tmp_path, clock):
    record = tmp_path / "record.jsonl"
    faults = Faults.realistic(list_lag_s=0.0, delivery_delay_s=2.0)
    first = start_simulator(clock=clock, faults=faults, record=record)
    try:
        client = twilio_client(TwilioCredentials(DEMO_ACCOUNT_SID, DEMO_AUTH_TOKEN, DEMO_FROM, None, first.base_url))
        sids = [client.messages.create(to=ALICE, from_=DEMO_FROM, body=f"n{i}").sid for i in range(2)]
    finally:
        first.stop()
    second = start_simulator(clock=clock, faults=faults, record=record)
    try:
        client = twilio_client(TwilioCredentials(DEMO_ACCOUNT_SID, DEMO_AUTH_TOKEN, DEMO_FROM, None, second.base_url))
        statuses = [status(client, sid) for sid in sids]
        third = client.messages.create(to=ALICE, from_=DEMO_FROM, body="after restart")
        clock.advance(2.0)
        queued_behind = status(client, third.sid)  # the reloaded queue still holds 2 s
    finally:
        second.stop()

    assert statuses == ["sending", "queued"]
    assert queued_behind == "sending"
