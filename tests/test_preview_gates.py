"""A preview's quiet hours and frequency cap, computed once per group of recipients that share a zone, agree with
the gates applied recipient by recipient; the freeze takes each number's zone from the sync."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime

import pandas as pd
import pytest

from orchestration.audiences import AudienceQuery, preview, recipients
from orchestration.ledger import Ledger
from orchestration.sender import CampaignSettings, create_campaign, launch
from orchestration.sender.campaigns import _own_zones
from orchestration.sender.gates import Openings, SendRules, recent_messages
from orchestration.sender.quiet_hours import own_zone
from orchestration.source import open_source
from orchestration.tenants import update_settings
from orchestration.warehouse import Warehouse
from orchestration.warehouse.sync import sync
from tests.sync_snapshots import write_snapshot

AS_OF = datetime(2026, 11, 2, 0, 0, tzinfo=UTC)  # just after the US fall-back change
DAY = 86_400
# New York, Chicago, Los Angeles; Idaho, Alaska and South Dakota span two zones; Florida and Oklahoma (state
# rules, single and several zones); toll-free (every US zone).
AREAS = ("212", "312", "213", "208", "907", "605", "305", "850", "918", "405", "800")
FOREIGN = ("+447911{:06d}", "+4930{:08d}")  # a UK mobile (four zones), a Berlin landline
CLIENT_ZONES = ("", "", "", "Europe/Berlin", "America/Chicago", "Asia/Tokyo", "Not/AZone")


def write_audience(folder, rows: list[tuple[str, str, int]], tenants: list[int] | None = None):
    """A Booknetic snapshot: customer i (of tenant tenants[i], default 1) has phone rows[i][0] and one appointment
    starting at rows[i][2] whose client timezone is rows[i][1]. Tenant t has service, location and staff t."""
    of = tenants or [1] * len(rows)
    customers = "".join(f'"{cid}","F{cid}","L{cid}","{phone}","",NULL,"","2024-01-01","{of[cid - 1]}"\n'
                        for cid, (phone, _, _) in enumerate(rows, 1))  # fmt: skip
    appointments = "".join(f'"{cid}","{of[cid - 1]}","{of[cid - 1]}","{of[cid - 1]}","{cid}","approved","{starts}",'
                           f'"{starts + 3600}","{starts - DAY}","{zone}",NULL,NULL,"{of[cid - 1]}"\n'
                           for cid, (_, zone, starts) in enumerate(rows, 1))  # fmt: skip
    kept = sorted(set(of))
    return write_snapshot(folder, {
        "customers": '"id","first_name","last_name","phone_number","email","birthdate","gender","created_at",'
                     '"tenant_id"\n' + customers,
        "appointments": '"id","location_id","service_id","staff_id","customer_id","status","starts_at","ends_at",'
                        '"created_at","client_timezone","paid_amount","payment_status","tenant_id"\n' + appointments,
        "services": '"id","name","price","category_id","duration","is_active","tenant_id"\n'
                    + "".join(f'"{t}","Cut","20",NULL,"30","1","{t}"\n' for t in kept),
        "locations": '"id","name","address","phone_number","is_active","tenant_id"\n'
                     + "".join(f'"{t}","Main","1 Main St",NULL,"1","{t}"\n' for t in kept),
        "staff": '"id","name","email","phone_number","profession","is_active","tenant_id"\n'
                 + "".join(f'"{t}","Sam","","","","1","{t}"\n' for t in kept),
        "service_categories": '"id","name","parent_id","tenant_id"\n',
    })  # fmt: skip


def synced(home, folder) -> Warehouse:
    warehouse = Warehouse(home.warehouse)
    with open_source(str(folder)) as source:
        sync(source, warehouse, AS_OF)
    return warehouse


def generated_rows(customers: int = 400, seed: int = 7) -> list[tuple[str, str, int]]:
    """Numbers across US zones (E.164 and national forms), foreign, shared and broken ones; each with an upcoming
    appointment whose client timezone is often none, sometimes one that does not exist."""
    rng = random.Random(seed)
    rows: list[tuple[str, str, int]] = []
    for _ in range(customers):
        kind = rng.random()
        if kind < 0.75:
            area, line = rng.choice(AREAS), f"{rng.randint(200, 989)}{rng.randint(0, 9999):04d}"
            phone = f"+1{area}{line}" if rng.random() < 0.7 else f"({area}) {line[:3]}-{line[3:]}"
        elif kind < 0.85:
            phone = rng.choice(FOREIGN).format(rng.randint(1000, 99999))
        elif kind < 0.92 and rows:
            phone = rng.choice(rows)[0]
        else:
            phone = rng.choice(["", "12345", "call me"])
        rows.append((phone, rng.choice(CLIENT_ZONES), int(AS_OF.timestamp()) + rng.randint(1, 6) * DAY))
    return rows


@pytest.fixture
def audience(home, tmp_path):
    """The generated audience synced into the warehouse, and a ledger where earlier campaigns sent one, two or
    three messages in the last 24 hours to 40% of its numbers (so each cap finds some at their limit)."""
    warehouse = synced(home, write_audience(tmp_path / "snapshot", generated_rows()))
    ledger = Ledger(home.ledger)
    phones = sorted({phone for frame in recipients(warehouse, None, AudienceQuery(1, "upcoming", as_of=AS_OF))
                     for phone in frame["phone_e164"]})  # fmt: skip
    rng = random.Random(3)
    once = [phone for phone in phones if rng.random() < 0.4]
    twice = [phone for phone in once if rng.random() < 0.6]
    thrice = [phone for phone in twice if rng.random() < 0.6]
    with ledger.write() as con:
        con.execute("INSERT OR IGNORE INTO tenants (tenant_id) VALUES (1)")
        for name, sent, hours_ago in (("first", thrice, 20), ("second", twice, 9), ("third", once, 2)):
            earlier = con.execute(
                "INSERT INTO campaigns (tenant_id, name, kind, template_body, max_attempts, retry_base_seconds,"
                " rate_limit_per_s, failure_streak_pause, state) VALUES (1, ?, 'manual', 'x', 3, 120, 0, 50,"
                " 'sending') RETURNING campaign_id", (name,)).fetchone()[0]  # fmt: skip
            con.executemany("INSERT INTO recipients (campaign_id, phone_e164, body, segments, state, sent_at)"
                            " VALUES (?, ?, 'x', 1, 'sent', ?)",
                            [(earlier, phone, AS_OF.timestamp() - hours_ago * 3600) for phone in sent])  # fmt: skip
    return warehouse, ledger


@dataclass(frozen=True)
class Verdict:
    capped: int
    deferred: int
    earliest_send_at: float | None
    latest_send_at: float | None


def per_recipient(ledger: Ledger, warehouse: Warehouse, query: AudienceQuery) -> Verdict:
    """The gates applied to each recipient of the audience (as the preview did before it grouped them): the cap
    first, then the opening of the recipient's window in its zones."""
    frame = pd.concat(list(recipients(warehouse, ledger, query)))
    phones = frame["phone_e164"].tolist()
    zones = [zone if isinstance(zone, str) else None for zone in frame["client_timezone"]]
    now = query.as_of_utc().timestamp()
    with ledger.read() as con:
        rules = SendRules.of(con, query.tenant_id)
        counted = [phone for phone in phones if rules.caps_of(phone)]
        recent = recent_messages(con, query.tenant_id, counted, now - rules.longest_cap_s) if counted else {}
    capped, openings, opening_of = 0, [], Openings(rules, now)
    for phone, zone in zip(phones, zones, strict=True):
        if phone in recent and rules.capped_until(phone, recent[phone], now) is not None:
            capped += 1
            continue
        opening = opening_of(phone, own_zone(zone, phone))
        if opening > now:
            openings.append(opening)
    return Verdict(capped, len(openings), min(openings, default=None), max(openings, default=None))


def grouped(ledger: Ledger, warehouse: Warehouse, query: AudienceQuery) -> Verdict:
    result = preview(warehouse, ledger, query)
    quiet = result.deferred["quiet_hours"]
    return Verdict(result.excluded["frequency_cap"], quiet["count"], quiet["earliest_send_at"],
                   quiet["latest_send_at"])  # fmt: skip


TENANT_RULES = [  # without a tenant zone, a number in several zones waits until its window is open in all
    {"quiet_hours": "08:00-21:00", "state_rules": "on", "frequency_cap": "off"},
    {"quiet_hours": "08:00-21:00", "state_rules": "on", "frequency_cap": "2/7d", "timezone": "America/New_York"},
    {"quiet_hours": "off", "state_rules": "on", "frequency_cap": "off", "timezone": "America/Denver"},
    {"quiet_hours": "09:30-17:00", "state_rules": "off", "frequency_cap": "1/1d"},
]


@pytest.mark.parametrize("rules", TENANT_RULES, ids=lambda r: f"{r['quiet_hours']}-cap-{r['frequency_cap']}")
def test_the_grouped_preview_agrees_with_the_gates_applied_recipient_by_recipient(audience, rules):
    warehouse, ledger = audience
    update_settings(ledger, 1, **rules)
    queries = [AudienceQuery(1, "upcoming", as_of=datetime.fromtimestamp(AS_OF.timestamp() + h * 3600 + 1800, UTC))
               for h in range(24)]  # fmt: skip
    verdicts = [(grouped(ledger, warehouse, q), per_recipient(ledger, warehouse, q)) for q in queries]

    assert [new for new, _ in verdicts] == [old for _, old in verdicts]
    assert any(new.deferred for new, _ in verdicts)  # the instants cover open and closed windows
    counts = [preview(warehouse, ledger, query).count for query in queries]
    assert any(new.deferred < count for (new, _), count in zip(verdicts, counts, strict=True))
    if rules["frequency_cap"] != "off":
        assert any(new.capped for new, _ in verdicts)


def test_a_preview_applies_the_tenants_rules_as_they_are_after_a_change(audience):
    """The send rules are remembered per ledger change (audiences.watched): a change by another connection must
    reach the next preview of the same process."""
    warehouse, ledger = audience
    query = AudienceQuery(1, "upcoming", as_of=AS_OF)
    update_settings(ledger, 1, quiet_hours="off", state_rules="off", frequency_cap="off")
    before = grouped(ledger, warehouse, query)
    update_settings(ledger, 1, quiet_hours="off", state_rules="off", frequency_cap="1/1d")
    after = grouped(ledger, warehouse, query)
    assert before.capped == 0 and after.capped > 0  # the premise: the change caps someone
    assert after == per_recipient(ledger, warehouse, query)


def one_customer_per_row(home, tmp_path, rows: list[tuple[str, str]]) -> Warehouse:
    """Customers 1.. with these (phone, anchor client timezone), synced; each has one upcoming appointment."""
    starts = int(AS_OF.timestamp()) + 3 * DAY
    return synced(home, write_audience(tmp_path / "snapshot", [(phone, zone, starts) for phone, zone in rows]))


def test_a_recipients_client_timezone_sets_its_window_apart_from_others_with_the_same_number_zone(home, tmp_path):
    warehouse = one_customer_per_row(home, tmp_path, [("+12125550100", ""), ("+12125550101", "Asia/Tokyo"),
                                                      ("+12125550102", "")])  # fmt: skip
    ledger = Ledger(home.ledger)
    update_settings(ledger, 1, quiet_hours="08:00-21:00", state_rules="on", frequency_cap="off")
    noon_new_york = datetime(2026, 11, 2, 17, 0, tzinfo=UTC)  # 02:00 on the next day in Tokyo

    result = preview(warehouse, ledger, AudienceQuery(1, "upcoming", as_of=noon_new_york))

    tokyo_eight = datetime(2026, 11, 2, 23, 0, tzinfo=UTC).timestamp()
    assert result.deferred["quiet_hours"] == {"count": 1, "earliest_send_at": tokyo_eight,
                                              "latest_send_at": tokyo_eight}  # fmt: skip


def test_a_client_timezone_is_named_by_its_own_tenant(home, tmp_path):
    """Each tenant numbers its client timezones from 1 (client_timezones): Tokyo is tenant 1's first, Chicago tenant
    2's. A preview names its groups' timezones from its own tenant's list only; with the tenant left out of the
    lookup, number 1 would name the same timezone for both, and one of them would wait (or send) wrongly."""
    starts = int(AS_OF.timestamp()) + 3 * DAY
    rows = [("+12125550100", "Asia/Tokyo", starts), ("+12125550101", "America/Chicago", starts)]
    warehouse = synced(home, write_audience(tmp_path / "snapshot", rows, tenants=[1, 2]))
    ledger = Ledger(home.ledger)
    for tenant in (1, 2):
        update_settings(ledger, tenant, quiet_hours="08:00-21:00", state_rules="on", frequency_cap="off")
    noon_new_york = datetime(2026, 11, 2, 17, 0, tzinfo=UTC)  # 11:00 in Chicago, 02:00 on the next day in Tokyo
    with warehouse.reader() as con:  # the premise: both tenants' timezones have the same number
        numbered = con.execute("SELECT tenant_id, timezone_id, client_timezone FROM client_timezones ORDER BY 1"
                               ).fetchall()  # fmt: skip
    assert numbered == [(1, 1, "Asia/Tokyo"), (2, 1, "America/Chicago")]

    first, second = (preview(warehouse, ledger, AudienceQuery(t, "upcoming", as_of=noon_new_york)) for t in (1, 2))

    assert (first.count, first.deferred["quiet_hours"]["count"]) == (1, 1)
    assert (second.count, second.deferred["quiet_hours"]["count"]) == (1, 0)


def test_under_state_rules_a_florida_number_stops_at_8_pm_while_its_neighbours_in_the_zone_go_on(home, tmp_path):
    warehouse = one_customer_per_row(home, tmp_path, [("+12125550100", ""), ("+13055550100", ""),
                                                      ("+13055550101", ""), ("+12125550103", "")])  # fmt: skip
    ledger = Ledger(home.ledger)
    update_settings(ledger, 1, quiet_hours="08:00-21:00", state_rules="on", frequency_cap="off")
    half_past_eight_miami = datetime(2026, 11, 3, 1, 30, tzinfo=UTC)

    result = preview(warehouse, ledger, AudienceQuery(1, "upcoming", as_of=half_past_eight_miami))

    next_morning = datetime(2026, 11, 3, 13, 0, tzinfo=UTC).timestamp()  # 08:00 in Miami
    assert result.deferred["quiet_hours"] == {"count": 2, "earliest_send_at": next_morning,
                                              "latest_send_at": next_morning}  # fmt: skip


def test_the_freeze_takes_the_numbers_zone_from_the_sync(audience):
    warehouse, ledger = audience
    query = AudienceQuery(1, "upcoming", as_of=AS_OF)
    frame = pd.concat(list(recipients(warehouse, None, query)))
    campaign = create_campaign(ledger, 1, "Zones", "Hi {customer_first_name}", query, CampaignSettings())

    launch(ledger, warehouse, 1, campaign.campaign_id)

    with ledger.read() as con:
        stored = dict(con.execute("SELECT phone_e164, timezone FROM recipients WHERE campaign_id = ?",
                                  (campaign.campaign_id,)).fetchall())  # fmt: skip
    expected = {phone: own_zone(zone if isinstance(zone, str) else None, phone)
                for phone, zone in zip(frame["phone_e164"], frame["client_timezone"], strict=True)}  # fmt: skip
    assert stored == expected
    assert {None, "America/New_York", "Europe/Berlin", "Asia/Tokyo"} <= set(stored.values())


def test_the_freeze_reads_the_number_zone_column_and_looks_numbers_up_only_without_it():
    frame = pd.DataFrame({"phone_e164": ["+12125550100", "+12125550100", "+12085550100"],
                          "client_timezone": [None, "Asia/Tokyo", "Not/AZone"],
                          "phone_zone": ["America/Chicago", "America/Chicago", None]})  # fmt: skip

    assert _own_zones(frame) == ["America/Chicago", "Asia/Tokyo", None]
    assert _own_zones(frame.drop(columns="phone_zone")) == ["America/New_York", "Asia/Tokyo", None]
