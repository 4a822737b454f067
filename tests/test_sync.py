"""The sync: a Booknetic snapshot becomes raw tables, the cleaned layer of schema.sql and customer facts."""

from __future__ import annotations

import hashlib
from datetime import date, datetime
from decimal import Decimal

import pytest

from orchestration.errors import UserError
from orchestration.ledger import Ledger
from orchestration.source import open_source
from orchestration.warehouse import Warehouse
from orchestration.warehouse.quality import appointment_times, source_rejects
from orchestration.warehouse.sync import parse_as_of, sync, tenant_regions
from tests.sync_snapshots import AS_OF, TINY, write_snapshot


@pytest.fixture
def warehouse(home) -> Warehouse:
    return Warehouse(home.warehouse)


@pytest.fixture
def synced(tmp_path, warehouse) -> Warehouse:
    with open_source(str(write_snapshot(tmp_path / "snapshot"))) as source:
        sync(source, warehouse, AS_OF, regions={7: "DE"})
    return warehouse


def rows(warehouse: Warehouse, query: str) -> list[tuple]:
    with warehouse.reader() as con:
        return con.execute(query).fetchall()


def test_sync_copies_every_source_table_into_a_raw_table(synced):
    assert rows(synced, "SELECT count(*) FROM raw_customers") == [(5,)]
    assert rows(synced, "SELECT count(*) FROM raw_appointments") == [(4,)]
    assert rows(synced, "SELECT count(*) FROM raw_service_categories") == [(1,)]


def test_customers_get_tenant_zero_full_names_e164_phones_with_their_zones_and_created_timestamps(synced):
    new_york, berlin = ["America/New_York"], ["Europe/Berlin"]
    assert rows(synced, "SELECT * FROM customers ORDER BY customer_id") == [
        (0, 1, "Ada", "Lovelace", "Ada Lovelace", "ada@example.com", "+12125550123", "+12125550123", "ok",
         new_york, date(1990, 12, 10), "female", datetime(2024, 1, 2, 3, 4, 5)),
        (0, 2, "Bob", "", "Bob", "bob@example.com", "(212) 555-0124", "+12125550124", "ok",
         new_york, None, "male", datetime(2024, 2, 3)),
        (0, 3, "", "", "", "", None, None, "no_phone", None, None, "", None),
        (7, 4, "Jörg", "Müller", "Jörg Müller", "joerg@example.de", "030 12345678", "+493012345678", "ok",
         berlin, None, "male", datetime(2024, 3, 4, 5, 6, 7)),
        (7, 5, "Eve", "", "Eve", "eve@example.de", "not a phone", None, "invalid_phone",
         None, None, "female", datetime(2024, 3, 5)),
    ]


def test_customer_facts_carry_each_numbers_zones(synced):
    assert rows(synced, "SELECT customer_id, phone_zones FROM customer_facts ORDER BY customer_id") == [
        (1, ["America/New_York"]), (2, ["America/New_York"]), (3, None), (4, ["Europe/Berlin"]), (5, None),
    ]


def test_facts_name_each_ok_numbers_zone_set_with_its_zones_and_whether_florida_or_oklahoma_law_applies(
        tmp_path, warehouse):  # fmt: skip
    florida = '"6","Fay","","+13055550100","fay@example.com",NULL,"","2024-03-06",NULL\n'
    snapshot = write_snapshot(tmp_path / "csv", dict(TINY, customers=TINY["customers"] + florida))
    with open_source(str(snapshot)) as source:
        sync(source, warehouse, AS_OF, regions={7: "DE"})
    new_york, berlin = ["America/New_York"], ["Europe/Berlin"]
    assert rows(warehouse, "SELECT f.customer_id, f.phone_strict_state, z.phone_zones, z.strict_state "
                           "FROM customer_facts AS f LEFT JOIN zone_sets AS z USING (zone_set) ORDER BY 1") == [
        (1, False, new_york, False), (2, False, new_york, False), (3, False, None, None),
        (4, False, berlin, False), (5, False, None, None), (6, True, new_york, True),
    ]
    sets = dict(rows(warehouse, "SELECT customer_id, zone_set FROM customer_facts"))
    assert sets[1] == sets[2] != sets[6] and sets[3] is None and sets[5] is None
    assert rows(warehouse, "SELECT count(*), count(DISTINCT zone_set) FROM zone_sets") == [(3, 3)]


def test_facts_keep_the_latest_appointments_own_client_timezone_even_when_it_has_none(synced):
    # customer 1's latest appointment (11) has no client timezone (the cleaned layer keeps it as '', without a
    # timezone_id); an earlier one (10) says Europe/Berlin
    assert rows(synced, "SELECT customer_id, latest_appointment_id, latest_timezone_id FROM customer_facts "
                        "WHERE latest_appointment_id IS NOT NULL ORDER BY 1") == [(1, 11, None), (4, 12, None)]
    assert rows(synced, "SELECT a.appointment_id, a.client_timezone, z.client_timezone FROM appointments AS a "
                        "JOIN client_timezones AS z ON z.tenant_id = a.tenant_id AND z.timezone_id = a.timezone_id "
                        "WHERE a.appointment_id = 10") == [(10, "Europe/Berlin", "Europe/Berlin")]


def test_a_national_number_is_read_in_the_tenants_region(tmp_path, warehouse):
    with open_source(str(write_snapshot(tmp_path / "snapshot"))) as source:
        sync(source, warehouse, AS_OF, regions=None)
    assert rows(warehouse, "SELECT phone_e164, phone_status FROM customers WHERE customer_id = 4") == [
        (None, "invalid_phone")
    ]


def test_appointments_keep_unix_seconds_and_gain_utc_timestamps_and_their_place_in_the_tenants_order(synced):
    """recency numbers each tenant's appointments by (starts_at, appointment_id): 10 and 13 start together, so the
    id decides; tenant 7 counts from 1 again. timezone_id numbers the tenant's client timezones (none for '')."""
    assert rows(synced, "SELECT * FROM appointments ORDER BY appointment_id") == [
        (0, 10, 1, 1, 1, 1, "approved", 1717243200, 1717246800, 1717000000, datetime(2024, 6, 1, 12),
         datetime(2024, 6, 1, 13), datetime(2024, 5, 29, 16, 26, 40), "Europe/Berlin", Decimal("25.50"), "paid", 1, 1),
        (0, 11, 1, 1, 1, 1, "canceled", 1720000000, 1720003600, 1719000000, datetime(2024, 7, 3, 9, 46, 40),
         datetime(2024, 7, 3, 10, 46, 40), datetime(2024, 6, 21, 20), "", None, "not_paid", 3, None),
        (7, 12, 4, 2, 2, 2, "pending", 1719800000, 1719803600, 1719700000, datetime(2024, 7, 1, 2, 13, 20),
         datetime(2024, 7, 1, 3, 13, 20), datetime(2024, 6, 29, 22, 26, 40), "", None, None, 1, None),
        (0, 13, 99, 1, 1, 1, "approved", 1717243200, 1717246800, 1717000000, datetime(2024, 6, 1, 12),
         datetime(2024, 6, 1, 13), datetime(2024, 5, 29, 16, 26, 40), "", None, None, 2, None),
    ]


def test_services_locations_and_staff_are_cleaned_per_tenant(synced):
    assert rows(synced, "SELECT * FROM services ORDER BY service_id") == [
        (0, 1, "Haircut", Decimal("25.50"), 30, 1, True),
        (7, 2, "Massage", Decimal("60.00"), 60, None, False),
    ]
    assert rows(synced, "SELECT * FROM locations ORDER BY location_id") == [
        (0, 1, "Main Street", "1 Main St", "", True),
        (7, 2, "Berlin", "Unter den Linden 1", "+49301234567", True),
    ]
    assert rows(synced, "SELECT * FROM staff ORDER BY staff_id") == [
        (0, 1, "Sam", "sam@example.com", "", "Stylist", True),
        (7, 2, "Ute", "", "", "", True),
    ]


def test_company_options_become_one_row_per_tenant(synced):
    assert rows(synced, "SELECT * FROM company ORDER BY tenant_id") == [
        (0, "Acme Salon", "+12125550100", "1 Main St", "https://acme.example"),
        (7, "Berlin Studio", "+49301234500", "", ""),
    ]


def test_tenants_lists_every_tenant_seen_with_its_company_name(synced):
    assert rows(synced, "SELECT * FROM tenants ORDER BY tenant_id") == [(0, "Acme Salon"), (7, "Berlin Studio")]


def test_customer_facts_summarize_all_appointments_as_of_the_sync(synced):
    as_of = datetime(2024, 7, 1)
    assert rows(synced, "SELECT tenant_id, customer_id, appointment_count, first_starts_at, last_starts_at, "
                        "next_starts_at, statuses, as_of FROM customer_facts ORDER BY customer_id") == [
        (0, 1, 2, 1717243200, 1720000000, 1720000000, ["approved", "canceled"], as_of),
        (0, 2, 0, None, None, None, [], as_of),
        (0, 3, 0, None, None, None, [], as_of),
        (7, 4, 1, 1719800000, 1719800000, 1719800000, ["pending"], as_of),
        (7, 5, 0, None, None, None, [], as_of),
    ]


def test_a_source_without_options_gives_an_empty_company_table(tmp_path, warehouse):
    tables = {name: text for name, text in TINY.items() if name != "options"}
    with open_source(str(write_snapshot(tmp_path / "snapshot", tables))) as source:
        sync(source, warehouse, AS_OF)
    assert rows(warehouse, "SELECT count(*) FROM company") == [(0,)]


def test_a_second_sync_replaces_the_tables_instead_of_appending(tmp_path, synced):
    with open_source(str(tmp_path / "snapshot")) as source:
        sync(source, synced, AS_OF, regions={7: "DE"})
    assert rows(synced, "SELECT count(*) FROM customers") == [(5,)]
    assert rows(synced, "SELECT count(*) FROM customer_facts") == [(5,)]


def test_a_failed_sync_leaves_the_previous_warehouse_intact(tmp_path, synced):
    before = hashlib.sha256(synced.path.read_bytes()).hexdigest()
    folder = write_snapshot(tmp_path / "broken")
    path = folder / "wp_bkntc_appointments.csv"
    path.write_bytes(path.read_bytes() + b'"14","1","1","1","1","appr\xff\xfeoved","1","1","1","",NULL,NULL,NULL\n')
    with open_source(str(folder)) as source:
        with pytest.raises(UserError, match="not a valid CSV export"):
            sync(source, synced, AS_OF)
    assert hashlib.sha256(synced.path.read_bytes()).hexdigest() == before


def test_a_bad_value_is_counted_and_the_rest_of_the_source_is_synced(tmp_path, warehouse):
    bad_rows = ('"14","1","1","1","1","approved","soon","1717246800","1717000000","",NULL,NULL,NULL\n'
                '"15","1","1","1","2","approved","1717243200","1717246800","1717000000","","lots",NULL,NULL\n')
    broken = dict(TINY, appointments=TINY["appointments"] + bad_rows)
    with open_source(str(write_snapshot(tmp_path / "broken", broken))) as source:
        sync(source, warehouse, AS_OF)
    with warehouse.reader() as con:
        rejects = source_rejects(con)
        times = appointment_times(con)
    assert rejects.by_column == {"wp_bkntc_appointments.csv.paid_amount": 1,
                                 "wp_bkntc_appointments.csv.starts_at": 1}
    assert rejects.samples["wp_bkntc_appointments.csv.starts_at"] == ["id=14"]
    assert (times.left_out.affected, times.left_out.sample) == (1, ["0:14"])
    assert rows(warehouse, "SELECT appointment_id, paid_amount FROM appointments WHERE appointment_id >= 14") == [
        (15, None)
    ]


def test_an_appointment_without_created_at_is_kept_and_counted(tmp_path, warehouse):
    extra = '"16","1","1","1","2","approved","1719900000","1719903600",NULL,"",NULL,NULL,NULL\n'
    with open_source(str(write_snapshot(tmp_path / "nulls", dict(TINY, appointments=TINY["appointments"] + extra)))
                     ) as source:
        sync(source, warehouse, AS_OF)
    assert rows(warehouse, "SELECT created_at, created_ts FROM appointments WHERE appointment_id = 16") == [
        (None, None)
    ]
    with warehouse.reader() as con:
        assert appointment_times(con).without_created_at == 1


def test_as_of_reads_iso_8601_with_an_offset_as_utc():
    assert parse_as_of("2024-07-01T02:00:00+02:00") == datetime(2024, 7, 1)


def test_as_of_that_is_not_iso_8601_is_a_user_error():
    with pytest.raises(UserError, match="ISO-8601"):
        parse_as_of("yesterday")


def test_tenant_regions_come_from_the_ledgers_tenant_settings(home):
    ledger = Ledger(home.ledger)
    with ledger.write() as con:
        con.execute("INSERT INTO tenants (tenant_id, default_region) VALUES (7, 'DE')")
    assert tenant_regions(ledger) == {7: "DE"}
