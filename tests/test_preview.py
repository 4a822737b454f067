"""Previews and recipient lists: exclusion rules, sample order, streaming, validation, filter options."""

from __future__ import annotations

import pandas as pd
import pytest

from orchestration.audiences import (
    RECIPIENT_COLUMNS,
    SEGMENTS,
    AudienceQuery,
    filter_options,
    materialize_segments,
    preview,
    recipients,
    segment_sizes,
)
from orchestration.audiences.audience import use_suppressed
from orchestration.audiences.suppression import suppressed_numbers
from orchestration.errors import UserError
from orchestration.ledger import Ledger
from orchestration.sqlfiles import load_sql
from tests.test_segments import AS_OF, DAY, NOW, appointment, build_warehouse, customer


def suppress(ledger: Ledger, tenant: int, *phones: str) -> None:
    with ledger.write() as con:
        con.execute("INSERT OR IGNORE INTO tenants (tenant_id) VALUES (?)", (tenant,))
        con.executemany(
            "INSERT INTO suppression (tenant_id, phone_e164, source) VALUES (?, ?, 'manual')",
            [(tenant, p) for p in phones],
        )


@pytest.fixture
def phones(home):
    """Customers 1-8 of tenant 1, each with one recent appointment:
    1 ok; 2 no phone; 3 invalid phone; 4, 5 and 6 share one number (4, the lowest id, stays);
    7 ok but suppressed; 8 ok. Tenant 2 suppresses customer 1's number (it must not matter for tenant 1)."""
    customers = [
        customer(1),
        customer(2, status="no_phone"),
        customer(3, status="invalid_phone"),
        customer(4, phone="+12025550005"),
        customer(5, phone="+12025550005"),
        customer(6, phone="+12025550005"),
        customer(7),
        customer(8),
    ]
    appointments = [appointment(c, c, NOW - DAY, created=NOW - DAY) for c in range(1, 9)]
    warehouse = build_warehouse(home.warehouse, customers, appointments)
    ledger = Ledger(home.ledger)
    suppress(ledger, 1, "+12025550007")
    suppress(ledger, 2, "+12025550001")
    return warehouse, ledger


def test_preview_counts_recipients_and_each_exclusion(phones):
    warehouse, ledger = phones
    result = preview(warehouse, ledger, AudienceQuery(1, "recent_bookers", exclude_suppressed=True, as_of=AS_OF))
    assert (result.count, result.excluded) == (
        3,
        {"no_phone": 1, "invalid_phone": 1, "duplicate_phone": 2, "suppressed": 1, "undeliverable": 0,
         "frequency_cap": 0},
    )


def test_shared_number_goes_to_the_lowest_customer_id(phones):
    warehouse, ledger = phones
    result = preview(warehouse, ledger, AudienceQuery(1, "recent_bookers", as_of=AS_OF))
    assert list(result.sample["customer_id"]) == [1, 4, 7, 8]


def test_suppressed_numbers_stay_unless_excluded(phones):
    warehouse, ledger = phones
    result = preview(warehouse, ledger, AudienceQuery(1, "recent_bookers", as_of=AS_OF))
    assert (result.count, result.excluded["suppressed"]) == (4, 0)


def test_sample_is_ordered_by_customer_id_and_limited(phones):
    warehouse, ledger = phones
    result = preview(warehouse, ledger, AudienceQuery(1, "all_customers", as_of=AS_OF), sample=2)
    assert list(result.sample["customer_id"]) == [1, 4]


def test_sample_has_the_recipient_columns(phones):
    warehouse, ledger = phones
    result = preview(warehouse, ledger, AudienceQuery(1, "all_customers", as_of=AS_OF))
    assert tuple(result.sample.columns) == RECIPIENT_COLUMNS


def test_preview_reports_resolved_parameters_and_as_of(phones):
    warehouse, ledger = phones
    result = preview(warehouse, ledger, AudienceQuery(1, "upcoming", as_of=AS_OF))
    assert (result.params["days"], result.as_of) == (7, AS_OF)


def test_recipients_stream_in_chunks_in_customer_id_order(home):
    warehouse = build_warehouse(home.warehouse, [customer(c) for c in range(1, 26)], [])
    chunks = list(recipients(warehouse, None, AudienceQuery(1, "all_customers", as_of=AS_OF), chunk_size=10))
    assert [list(c["customer_id"]) for c in chunks] == [list(range(1, 11)), list(range(11, 21)), list(range(21, 26))]


def test_recipients_exclude_suppressed_numbers_when_asked(phones):
    warehouse, ledger = phones
    query = AudienceQuery(1, "recent_bookers", exclude_suppressed=True, as_of=AS_OF)
    assert list(pd.concat(recipients(warehouse, ledger, query))["customer_id"]) == [1, 4, 8]


def test_recipient_count_matches_preview_count(phones):
    warehouse, ledger = phones
    query = AudienceQuery(1, "all_customers", exclude_suppressed=True, as_of=AS_OF)
    assert sum(len(c) for c in recipients(warehouse, ledger, query)) == preview(warehouse, ledger, query).count


@pytest.mark.parametrize("segment", list(SEGMENTS))
def test_preview_and_materialized_table_agree_on_default_parameters(home, segment):
    customers = [customer(c, tenant=t) for t in (1, 2) for c in range(1, 8)] + [customer(9, phone="+12025550001")]
    appointments = [
        appointment(1, 1, NOW + DAY, created=NOW - DAY),
        appointment(2, 2, NOW - 200 * DAY),
        appointment(3, 3, NOW - DAY, status="canceled"),
        *[appointment(10 + i, 4, NOW - (i + 1) * DAY) for i in range(3)],
        appointment(20, 9, NOW - 2 * DAY, created=NOW - 2 * DAY),
        appointment(1, 5, NOW + 2 * DAY, created=NOW - 3 * DAY, tenant=2),
        appointment(2, 6, NOW - 100 * DAY, status="rejected", created=NOW - 10 * DAY, tenant=2),
    ]
    warehouse = build_warehouse(home.warehouse, customers, appointments, tenants=(1, 2))
    with warehouse.writer() as con:
        materialize_segments(con, AS_OF)
    with warehouse.reader() as con:
        table = con.execute(
            f"SELECT tenant_id, customer_id FROM segment_{segment} WHERE exclusion IS NULL ORDER BY ALL"
        ).fetchall()
    previewed = [
        (t, c) for t in (1, 2) for chunk in recipients(warehouse, None, AudienceQuery(t, segment, as_of=AS_OF))
        for c in chunk["customer_id"]
    ]  # fmt: skip
    assert table == previewed


# validation ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "message"),
    [
        (AudienceQuery(1, "vips"), "Unknown segment 'vips': known segments are recent_bookers, upcoming"),
        (AudienceQuery(1, "recent_bookers", days=0), "--days must be between 1 and 3650, got 0"),
        (AudienceQuery(1, "lapsed", days=-5), "--days must be between 1 and 3650, got -5"),
        (AudienceQuery(1, "upcoming", days=3651), "--days must be between 1 and 3650, got 3651"),
        (AudienceQuery(1, "repeat", min=0), "--min must be at least 1, got 0"),
        (AudienceQuery(1, "first_time", days=30), "Segment 'first_time' does not take --days"),
        (AudienceQuery(1, "recent_bookers", min=3), "Segment 'recent_bookers' does not take --min (it takes --days)"),
        (AudienceQuery(1, "all_customers", min_appointments=0), "--min-appointments must be at least 1, got 0"),
        (AudienceQuery(1, "all_customers", service_ids=[1, 77, 78]), "Unknown service id(s) for tenant 1: 77, 78"),
        (AudienceQuery(1, "all_customers", location_ids=[9]), "Unknown location id(s) for tenant 1: 9"),
        (AudienceQuery(1, "all_customers", statuses=["approved", " "]), "Status ' ' is not a status slug"),
        (AudienceQuery(3, "all_customers"), "No data for tenant 3 in the warehouse (tenants: 1, 2)"),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_invalid_query_is_one_clear_user_error(home, query, message):
    customers = [customer(1), customer(1, tenant=2)]
    appointments = [appointment(1, 1, NOW), appointment(2, 1, NOW, status="canceled"),
                    appointment(3, 1, NOW, status="no-show", service=2, tenant=2)]  # fmt: skip
    warehouse = build_warehouse(home.warehouse, customers, appointments, tenants=(1, 2))
    with pytest.raises(UserError) as raised:
        preview(warehouse, None, query)
    assert message in str(raised.value)


def test_a_status_no_appointment_uses_yet_is_accepted_with_a_warning(home):
    customers = [customer(1), customer(2)]
    appointments = [appointment(1, 1, NOW), appointment(2, 2, NOW, status="canceled")]
    warehouse = build_warehouse(home.warehouse, customers, appointments, tenants=(1,))
    result = preview(warehouse, None, AudienceQuery(1, "all_customers", statuses=["canceled", "no-show"], as_of=AS_OF))
    assert result.count == 1
    assert result.warnings == (
        "Status 'no-show' matches no appointment of tenant 1 yet; known statuses: approved, canceled.",
    )


def test_service_of_another_tenant_is_unknown(home):
    warehouse = build_warehouse(home.warehouse, [customer(1)], [], tenants=(1,))
    with warehouse.writer() as con:
        con.execute("INSERT INTO services VALUES (2, 50, 'Theirs', 1, 1, 1, true)")
    with pytest.raises(UserError, match="Unknown service id"):
        preview(warehouse, None, AudienceQuery(1, "all_customers", service_ids=[50]))


# console helpers ----------------------------------------------------------------------------------------


def test_filter_options_list_the_tenants_services_locations_and_statuses(home):
    appointments = [appointment(1, 1, NOW, status="no-show"), appointment(2, 1, NOW),
                    appointment(3, 1, NOW, status="completed", tenant=2)]  # fmt: skip
    warehouse = build_warehouse(home.warehouse, [customer(1)], appointments, tenants=(1, 2))
    options = filter_options(warehouse, 1)
    assert (list(options.services["name"]), list(options.locations["location_id"]), options.statuses) == (
        ["T1 Service 1", "T1 Service 2"], [1, 2], ["approved", "no-show"],
    )  # fmt: skip


def test_segment_sizes_give_every_segment_its_recipient_count(phones):
    warehouse, ledger = phones
    sizes = segment_sizes(warehouse, ledger, 1, AS_OF).set_index("segment")
    assert (list(sizes.index), sizes.loc["all_customers", "recipients"], sizes.loc["first_time", "suppressed"]) == (
        list(SEGMENTS), 3, 1,
    )  # fmt: skip


def test_a_number_suppressed_after_a_preview_is_left_out_of_the_next_one(phones):
    warehouse, ledger = phones
    query = AudienceQuery(1, "recent_bookers", exclude_suppressed=True, as_of=AS_OF)
    before = preview(warehouse, ledger, query)
    suppress(ledger, 1, "+12025550008")
    after = preview(warehouse, ledger, query)
    assert (before.count, after.count, after.excluded["suppressed"]) == (3, 2, 2)


def test_another_tenants_suppressed_numbers_on_a_kept_cursor_never_leave_anyone_out(phones):
    warehouse, ledger = phones
    with warehouse.shared_session() as session:  # the cursor the next preview is handed holds tenant 2's list
        use_suppressed(session, 2, suppressed_numbers(ledger, 2))
    result = preview(warehouse, ledger, AudienceQuery(1, "recent_bookers", exclude_suppressed=True, as_of=AS_OF))
    with warehouse.shared_session() as session:
        held = session.con.execute("SELECT tenant_id, phone_e164 FROM suppressed_numbers ORDER BY 1").fetchall()
    assert held == [(1, "+12025550007"), (2, "+12025550001")]  # the premise: both tenants' rows on one cursor
    assert (result.count, result.excluded["suppressed"], 1 in set(result.sample["customer_id"])) == (3, 1, True)


def test_a_warehouse_without_a_table_this_version_reads_names_it_until_the_next_build(phones):
    warehouse, ledger = phones
    query = AudienceQuery(1, "recent_bookers", as_of=AS_OF)
    with warehouse.writer() as con:  # a file written before appointments' timezones were numbered per tenant
        con.execute("DROP TABLE client_timezones")
    with pytest.raises(UserError, match=r"older version .*no table client_timezones.*bkntc-sms sync"):
        preview(warehouse, ledger, query)
    with warehouse.writer() as con:  # what a sync does: the tables rebuilt with this version's schema
        con.execute(load_sql("warehouse/schema.sql"))
    assert preview(warehouse, ledger, query).count == 4


def test_a_warehouse_built_by_an_older_version_gets_one_clear_error_until_the_next_build(phones):
    warehouse, ledger = phones
    query = AudienceQuery(1, "recent_bookers", as_of=AS_OF)
    assert preview(warehouse, ledger, query).count == 4
    with warehouse.writer() as con:  # a file written before customer_facts had the numbers' zones
        con.execute("ALTER TABLE customer_facts DROP COLUMN phone_zones")
    with pytest.raises(UserError, match=r"older version .*customer_facts lacks phone_zones.*bkntc-sms sync"):
        preview(warehouse, ledger, query)
    with warehouse.writer() as con:  # what a sync does: the cleaned tables rebuilt with this version's schema
        con.execute("ALTER TABLE customer_facts ADD COLUMN phone_zones VARCHAR[]")
    assert preview(warehouse, ledger, query).count == 4
