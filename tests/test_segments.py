"""Segment semantics (ARCHITECTURE.md): each segment and filter on small hand-built warehouses."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
import pytest

from orchestration.audiences import SEGMENTS, AudienceQuery, materialize_segments, preview, recipients
from orchestration.audiences.audience import RECIPIENT_COLUMNS
from orchestration.audiences.query import bind, bound_values, segment_sql
from orchestration.audiences.suppression import no_suppressed_numbers
from orchestration.sqlfiles import load_sql
from orchestration.warehouse import Warehouse
from orchestration.warehouse.phones import normalize_phone_with_zones
from orchestration.warehouse.sync import build_facts

AS_OF = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
NOW = int(AS_OF.timestamp())
DAY = 86_400


def customer(cid: int, tenant: int = 1, phone: str | None = None, status: str = "ok", first: str = "") -> dict:
    """A customer row; by default an 'ok' phone unique to the customer, with its zones as the sync finds them."""
    e164 = (phone or f"+1202555{cid:04d}") if status == "ok" else None
    zones = list(normalize_phone_with_zones(e164)[2] or ()) if e164 else None
    return {
        "tenant_id": tenant, "customer_id": cid, "first_name": first or f"First{cid}", "last_name": f"Last{cid}",
        "full_name": f"{first or f'First{cid}'} Last{cid}", "email": f"c{cid}@example.com",
        "phone_raw": e164 or ("" if status == "no_phone" else "12"), "phone_e164": e164, "phone_status": status,
        "phone_zones": zones, "gender": "",
    }  # fmt: skip


def appointment(
    aid: int, cid: int, starts: int, created: int | None = None, status: str = "approved",
    service: int = 1, location: int = 1, staff: int = 1, tenant: int = 1,
) -> dict:  # fmt: skip
    """An appointment row; `created` defaults to a year before as_of (outside every window)."""
    created = NOW - 365 * DAY if created is None else created
    return {
        "tenant_id": tenant, "appointment_id": aid, "customer_id": cid, "service_id": service,
        "location_id": location, "staff_id": staff, "status": status, "starts_at": starts,
        "ends_at": starts + 3600, "created_at": created, "starts_ts": datetime.fromtimestamp(starts, UTC),
        "ends_ts": datetime.fromtimestamp(starts + 3600, UTC), "created_ts": datetime.fromtimestamp(created, UTC),
        "client_timezone": "",
    }  # fmt: skip


def catalog(tenant: int = 1) -> dict[str, list[dict]]:
    """Services 1-2, locations 1-2 and staff 1 of one tenant, named after the tenant."""
    return {
        "services": [
            {"tenant_id": tenant, "service_id": s, "name": f"T{tenant} Service {s}", "price": 10 * s, "duration": 30}
            for s in (1, 2)
        ],
        "locations": [
            {"tenant_id": tenant, "location_id": loc, "name": f"T{tenant} Location {loc}",
             "address": f"{loc} Main St", "phone_number": "", "is_active": True}
            for loc in (1, 2)
        ],
        "staff": [{"tenant_id": tenant, "staff_id": 1, "name": f"T{tenant} Staff", "email": "",
                   "phone_number": "+12025550000", "profession": "", "is_active": True}],
        "tenants": [{"tenant_id": tenant, "name": f"Tenant {tenant}"}],
    }  # fmt: skip


# appointments.recency as sql/warehouse/appointments.sql numbers it (test_sync.py checks the sync's numbering)
RECENCY = ", row_number() OVER (PARTITION BY tenant_id ORDER BY starts_at, appointment_id)::INTEGER AS recency"


def build_warehouse(path, customers: list[dict], appointments: list[dict], tenants=(1,)) -> Warehouse:
    """A warehouse with the contract's schema and exactly the given rows (plus each tenant's catalog)."""
    tables: dict[str, list[dict]] = {"customers": customers, "appointments": appointments}
    for tenant in tenants:
        for name, rows in catalog(tenant).items():
            tables.setdefault(name, []).extend(rows)
    warehouse = Warehouse(path)
    with warehouse.writer() as con:
        con.execute(load_sql("warehouse/schema.sql"))
        for name, rows in tables.items():
            if rows:
                frame = pd.DataFrame(rows)  # noqa: F841 (read by DuckDB's replacement scan)
                derived = RECENCY if name == "appointments" else ""
                con.execute(f"INSERT INTO {name} BY NAME SELECT *{derived} FROM frame")
        build_facts(con, AS_OF)
    return warehouse


def members(warehouse: Warehouse, segment: str, tenant: int = 1, **options) -> list[int]:
    """The customer ids of the query's recipients."""
    query = AudienceQuery(tenant, segment, as_of=AS_OF, **options)
    return [cid for chunk in recipients(warehouse, None, query) for cid in chunk["customer_id"]]


def anchors(warehouse: Warehouse, segment: str, **options) -> dict[int, int]:
    query = AudienceQuery(1, segment, as_of=AS_OF, **options)
    frame = pd.concat(list(recipients(warehouse, None, query)))
    return dict(zip(frame["customer_id"], frame["anchor_appointment_id"], strict=True))


# recent_bookers ---------------------------------------------------------------------------------------------


@pytest.fixture
def bookings(home) -> Warehouse:
    customers = [customer(c) for c in range(1, 7)]
    appointments = [
        appointment(1, 1, NOW + DAY, created=NOW),  # created exactly at as_of: in
        appointment(2, 2, NOW + DAY, created=NOW - 30 * DAY),  # exactly 30 days before: out
        appointment(3, 3, NOW + DAY, created=NOW - 30 * DAY + 1),  # just inside: in
        appointment(4, 4, NOW + DAY, created=NOW + 1),  # created after as_of: out
        appointment(5, 5, NOW - 3 * DAY, created=NOW - 6 * DAY),  # within 7 days: in for 7 and 30
    ]  # customer 6 has no appointment
    return build_warehouse(home.warehouse, customers, appointments)


def test_recent_bookers_window_is_open_at_start_and_closed_at_as_of(bookings):
    assert members(bookings, "recent_bookers") == [1, 3, 5]


def test_recent_bookers_takes_the_days_parameter(bookings):
    assert members(bookings, "recent_bookers", days=7) == [1, 5]


def test_recent_bookers_anchor_is_latest_matching_by_starts_at_then_id(home):
    appointments = [
        appointment(10, 1, NOW - 5 * DAY, created=NOW - 10 * DAY),
        appointment(11, 1, NOW + 5 * DAY, created=NOW - 2 * DAY),  # latest start among matching: the anchor
        appointment(12, 1, NOW + 9 * DAY, created=NOW - 60 * DAY),  # later, but created outside the window
        appointment(20, 2, NOW + DAY, created=NOW - DAY),
        appointment(21, 2, NOW + DAY, created=NOW - DAY),  # same start: the larger id wins
    ]
    warehouse = build_warehouse(home.warehouse, [customer(1), customer(2)], appointments)
    assert anchors(warehouse, "recent_bookers") == {1: 11, 2: 21}



@pytest.mark.parametrize(("segment", "options"), [
    ("recent_bookers", {}), ("cancelled_or_rejected", {}), ("all_appointments", {"service_ids": [1]}),
    ("upcoming", {}),
])  # fmt: skip
def test_anchors_order_by_start_then_id_across_the_whole_integer_range_of_ids(home, segment, options):
    """Anchors compare (starts_at, appointment_id) through appointments.recency (sql/segments/narrowed_filtered.sql):
    neither the largest nor the smallest INTEGER id may outweigh a second of starts_at, on either side, and a tie on
    starts_at still goes by id."""
    top, bottom = 2**31 - 1, -(2**31)
    # the anchor's start (the latest; for upcoming the next one) and one second on the other side of it
    won = NOW + DAY if segment == "upcoming" else NOW - DAY
    lost = won + 1 if segment == "upcoming" else won - 1
    status = "canceled" if segment == "cancelled_or_rejected" else "approved"
    first, second = (bottom + 1, top - 1) if segment == "upcoming" else (top - 1, bottom + 1)  # a tie: the id decides
    # per customer: (the anchor's id and start), (the other appointment's)
    pairs = {1: ((5, won), (top, lost)), 2: ((bottom, won), (5, lost)), 3: ((top, won), (bottom, lost)),
             4: ((first, won), (second, won))}  # fmt: skip
    appointments = [appointment(aid, cid, starts, created=NOW - DAY, status=status)
                    for cid, pair in pairs.items() for aid, starts in pair]  # fmt: skip
    warehouse = build_warehouse(home.warehouse, [customer(c) for c in pairs], appointments)
    assert anchors(warehouse, segment, **options) == {cid: pair[0][0] for cid, pair in pairs.items()}


# upcoming ---------------------------------------------------------------------------------------------------


@pytest.fixture
def upcoming_data(home) -> Warehouse:
    customers = [customer(c) for c in range(1, 10)]
    appointments = [
        appointment(1, 1, NOW),  # starts exactly at as_of: in
        appointment(2, 2, NOW + 7 * DAY),  # exactly 7 days ahead: out
        appointment(3, 3, NOW + 7 * DAY - 1),  # just inside: in
        appointment(4, 4, NOW - 1),  # already started: out
        appointment(5, 5, NOW + DAY, status="canceled"),
        appointment(6, 6, NOW + DAY, status="rejected"),
        appointment(7, 7, NOW + DAY, status="no-show"),  # custom status: not excluded
        appointment(8, 8, NOW + 2 * DAY, status="pending"),
        appointment(9, 9, NOW + 20 * DAY),  # in for 30 days only
    ]
    return build_warehouse(home.warehouse, customers, appointments)


def test_upcoming_window_is_closed_at_as_of_and_open_at_end(upcoming_data):
    assert members(upcoming_data, "upcoming") == [1, 3, 7, 8]


def test_upcoming_takes_the_days_parameter(upcoming_data):
    assert members(upcoming_data, "upcoming", days=30) == [1, 2, 3, 7, 8, 9]


def test_upcoming_anchor_is_the_next_matching_appointment(home):
    appointments = [
        appointment(1, 1, NOW + DAY, status="canceled"),  # sooner but canceled: not the anchor
        appointment(2, 1, NOW + 3 * DAY),
        appointment(3, 1, NOW + 2 * DAY),  # the next one
        appointment(4, 1, NOW - DAY),
    ]
    warehouse = build_warehouse(home.warehouse, [customer(1)], appointments)
    assert anchors(warehouse, "upcoming") == {1: 3}


# first_time, repeat -----------------------------------------------------------------------------------------


@pytest.fixture
def counts(home) -> Warehouse:
    """Customer n has n appointments (n = 0..4); customer 5 has one future appointment."""
    customers = [customer(c) for c in range(0, 6)]
    appointments = [appointment(c * 10 + i, c, NOW - (i + 1) * DAY) for c in range(1, 5) for i in range(c)]
    appointments.append(appointment(50, 5, NOW + 40 * DAY))
    return build_warehouse(home.warehouse, customers, appointments)


def test_first_time_means_exactly_one_appointment_past_or_future(counts):
    assert members(counts, "first_time") == [1, 5]


def test_repeat_defaults_to_at_least_three_appointments(counts):
    assert members(counts, "repeat") == [3, 4]


def test_repeat_takes_the_min_parameter(counts):
    assert members(counts, "repeat", min=2) == [2, 3, 4]


# lapsed -----------------------------------------------------------------------------------------------------


def test_lapsed_means_latest_start_strictly_before_the_window(home):
    customers = [customer(c) for c in range(1, 6)]
    appointments = [
        appointment(1, 1, NOW - 90 * DAY),  # exactly 90 days ago: not lapsed
        appointment(2, 2, NOW - 90 * DAY - 1),  # lapsed
        appointment(3, 3, NOW - 400 * DAY),
        appointment(4, 3, NOW + 10 * DAY),  # a future booking: not lapsed
        appointment(5, 4, NOW - 200 * DAY, status="canceled"),  # status does not matter without a filter
    ]  # customer 5: no appointment, not lapsed
    warehouse = build_warehouse(home.warehouse, customers, appointments)
    assert members(warehouse, "lapsed") == [2, 4]


def test_lapsed_takes_the_days_parameter(home):
    appointments = [appointment(1, 1, NOW - 100 * DAY), appointment(2, 2, NOW - 200 * DAY)]
    warehouse = build_warehouse(home.warehouse, [customer(1), customer(2)], appointments)
    assert members(warehouse, "lapsed", days=180) == [2]


# cancelled_or_rejected --------------------------------------------------------------------------------------


def test_cancelled_or_rejected_by_start_or_booking_time_in_window(home):
    customers = [customer(c) for c in range(1, 9)]
    appointments = [
        appointment(1, 1, NOW - 5 * DAY, status="canceled"),  # started in window
        appointment(2, 2, NOW - 300 * DAY, created=NOW - DAY, status="rejected"),  # booked in window
        appointment(3, 3, NOW - 30 * DAY, status="canceled"),  # starts exactly 30 days ago: out
        appointment(4, 4, NOW, status="canceled"),  # starts exactly at as_of: in
        appointment(5, 5, NOW + DAY, status="canceled"),  # future start, old booking: out
        appointment(6, 6, NOW - 5 * DAY, status="no-show"),  # a custom status is not canceled
        appointment(7, 7, NOW - 5 * DAY, status="approved"),
        appointment(8, 8, NOW - 60 * DAY, created=NOW - 30 * DAY, status="rejected"),  # booked exactly 30 ago
    ]
    warehouse = build_warehouse(home.warehouse, customers, appointments)
    assert members(warehouse, "cancelled_or_rejected") == [1, 2, 4]


def test_cancelled_or_rejected_anchor_is_the_latest_matching(home):
    appointments = [
        appointment(1, 1, NOW - 5 * DAY, status="canceled"),
        appointment(2, 1, NOW - 2 * DAY, status="rejected"),  # the latest matching
        appointment(3, 1, NOW - DAY, status="approved"),  # later but not canceled
    ]
    warehouse = build_warehouse(home.warehouse, [customer(1)], appointments)
    assert anchors(warehouse, "cancelled_or_rejected") == {1: 2}


# all_customers, all_appointments ----------------------------------------------------------------------------


@pytest.fixture
def mixed(home) -> Warehouse:
    customers = [customer(c) for c in range(1, 4)]
    appointments = [
        appointment(1, 1, NOW - DAY, service=1),
        appointment(2, 1, NOW + DAY, service=2),
        appointment(3, 2, NOW - 10 * DAY, service=2, location=2, status="canceled"),
    ]  # customer 3 has no appointment
    return build_warehouse(home.warehouse, customers, appointments)


def test_all_customers_includes_customers_without_appointments(mixed):
    assert members(mixed, "all_customers") == [1, 2, 3]


def test_all_customers_with_a_filter_keeps_only_matching_customers(mixed):
    assert members(mixed, "all_customers", service_ids=[2]) == [1, 2]


def test_all_appointments_means_at_least_one_appointment(mixed):
    assert members(mixed, "all_appointments") == [1, 2]


def test_all_appointments_anchor_is_the_latest_including_future(mixed):
    assert anchors(mixed, "all_appointments") == {1: 2, 2: 3}


def test_segments_without_an_anchor_have_null_appointment_columns(mixed):
    frame = next(recipients(mixed, None, AudienceQuery(1, "all_customers", as_of=AS_OF)))
    assert frame[["anchor_appointment_id", "service_name", "location_name"]].isna().all().all()


def test_anchor_columns_carry_service_staff_and_location(mixed):
    frame = next(recipients(mixed, None, AudienceQuery(1, "all_appointments", as_of=AS_OF)))
    row = frame.set_index("customer_id").loc[2]
    assert (row["anchor_status"], row["service_name"], row["staff_name"], row["location_name"]) == (
        "canceled", "T1 Service 2", "T1 Staff", "T1 Location 2",
    )  # fmt: skip


# filters narrow the appointment set first -------------------------------------------------------------------


@pytest.fixture
def filtered(home) -> Warehouse:
    customers = [customer(c) for c in range(1, 5)]
    appointments = [
        # customer 1: three appointments, two of service 1
        appointment(1, 1, NOW - 5 * DAY, service=1),
        appointment(2, 1, NOW - 6 * DAY, service=1),
        appointment(3, 1, NOW - 7 * DAY, service=2),
        # customer 2: one of service 1 at location 2, one of service 2
        appointment(4, 2, NOW - 5 * DAY, service=1, location=2),
        appointment(5, 2, NOW - 200 * DAY, service=2),
        # customer 3: service 2, a no-show at location 1 long ago, an approved one recently at location 2
        appointment(6, 3, NOW - 200 * DAY, status="no-show", service=2),
        appointment(7, 3, NOW - DAY, location=2, service=2),
        # customer 4: a recent booking of service 2
        appointment(8, 4, NOW + DAY, created=NOW - DAY, service=2),
    ]
    return build_warehouse(home.warehouse, customers, appointments)


def test_service_filter_narrows_counts_before_first_time(filtered):
    assert members(filtered, "first_time", service_ids=[2]) == [1, 2, 4]


def test_service_filter_narrows_counts_before_repeat(filtered):
    assert members(filtered, "repeat", service_ids=[1]) == []


def test_location_filter_narrows_the_latest_start_before_lapsed(filtered):
    assert members(filtered, "lapsed", location_ids=[1]) == [2, 3]


def test_status_filter_narrows_the_set(filtered):
    assert members(filtered, "all_appointments", statuses=["no-show"]) == [3]


def test_status_filter_anchor_comes_from_the_narrowed_set(filtered):
    assert anchors(filtered, "all_appointments", statuses=["no-show"]) == {3: 6}


def test_min_appointments_counts_in_the_narrowed_set(filtered):
    assert members(filtered, "all_appointments", service_ids=[1], min_appointments=2) == [1]


def test_min_appointments_applies_to_window_segments(filtered):
    assert members(filtered, "recent_bookers", days=3650, min_appointments=2) == [1, 2, 3]


def test_min_appointments_on_all_customers_drops_customers_without_appointments(filtered, home):
    assert members(filtered, "all_customers", min_appointments=3) == [1]


def test_filters_combine(filtered):
    assert members(filtered, "all_appointments", service_ids=[1], location_ids=[2], statuses=["approved"]) == [2]


# tenant isolation -------------------------------------------------------------------------------------------


@pytest.fixture
def two_tenants(home) -> Warehouse:
    """Tenant 2 has customers 1-6 qualifying for every segment; tenant 1 has customers 1-6 and 9, no appointment."""
    tenant2 = [customer(c, tenant=2, first="Other") for c in range(1, 7)]
    tenant1 = [customer(c, tenant=1, phone=f"+1303555{c:04d}") for c in (1, 2, 3, 4, 5, 6, 9)]
    appointments = [
        appointment(1, 1, NOW + DAY, created=NOW - DAY, tenant=2),  # recent, upcoming, first_time
        appointment(2, 2, NOW - 200 * DAY, tenant=2),  # lapsed
        appointment(3, 3, NOW - DAY, status="canceled", tenant=2),  # cancelled_or_rejected
        *[appointment(10 + i, 4, NOW - (i + 1) * DAY, tenant=2) for i in range(3)],  # repeat
    ]
    return build_warehouse(home.warehouse, tenant1 + tenant2, appointments, tenants=(1, 2))


@pytest.mark.parametrize("segment", list(SEGMENTS.values()), ids=list(SEGMENTS))
def test_each_definition_reads_the_set_its_segment_says(segment):
    """`groups_appointments` decides whether the composition joins the members' phones (phoned_members.sql): a
    definition grouping the appointments needs the join, one reading narrowed_customers hands the phones on."""
    code = "\n".join(line.split("--", 1)[0] for line in load_sql(segment.sql_file).splitlines())
    reads = {name for name in ("filtered_appointments", "narrowed_customers") if f"FROM {name}" in code}
    assert reads == ({"filtered_appointments"} if segment.groups_appointments else {"narrowed_customers"})


@pytest.mark.parametrize("segment", list(SEGMENTS))
def test_no_segment_reads_another_tenants_appointments(two_tenants, segment):
    expected = [1, 2, 3, 4, 5, 6, 9] if segment == "all_customers" else []
    assert (members(two_tenants, segment, tenant=1), bool(members(two_tenants, segment, tenant=2))) == (
        expected,
        True,
    )


def test_all_customers_of_one_tenant_carry_that_tenants_names_and_phones(two_tenants):
    frame = next(recipients(two_tenants, None, AudienceQuery(1, "all_customers", as_of=AS_OF)))
    assert frame["phone_e164"].str.startswith("+1303").all() and not (frame["first_name"] == "Other").any()


def test_anchor_details_come_from_the_tenants_own_catalog(two_tenants):
    frame = next(recipients(two_tenants, None, AudienceQuery(2, "all_appointments", as_of=AS_OF)))
    assert set(frame["service_name"]) == {"T2 Service 1"}


# integration: generated Booknetic data through the real sync -------------------------------------------------


def oracle(warehouse: Warehouse, tenant: int, segment: str) -> list[int]:
    """The contract's members with default parameters, computed independently with pandas."""
    with warehouse.reader() as con:
        cust = con.execute("SELECT customer_id FROM customers WHERE tenant_id = $t", {"t": tenant}).fetch_df()
        apps = con.execute("SELECT * FROM appointments WHERE tenant_id = $t", {"t": tenant}).fetch_df()
    apps = apps[apps["customer_id"].isin(cust["customer_id"])]
    count = apps.groupby("customer_id").size()
    live = ~apps["status"].isin(["canceled", "rejected"])

    def within(column: str, days: int):
        return (apps[column] > NOW - days * DAY) & (apps[column] <= NOW)

    chosen = {
        "recent_bookers": set(apps.loc[within("created_at", 30), "customer_id"]),
        "upcoming": set(apps.loc[(apps["starts_at"] >= NOW) & (apps["starts_at"] < NOW + 7 * DAY) & live,
                                 "customer_id"]),
        "first_time": set(count[count == 1].index),
        "repeat": set(count[count >= 3].index),
        "lapsed": set(apps.groupby("customer_id")["starts_at"].max().loc[lambda s: s < NOW - 90 * DAY].index),
        "cancelled_or_rejected": set(apps.loc[~live & (within("starts_at", 30) | within("created_at", 30)),
                                              "customer_id"]),
        "all_customers": set(cust["customer_id"]),
        "all_appointments": set(count.index),
    }[segment]  # fmt: skip
    return sorted(int(c) for c in chosen)


@pytest.fixture(scope="module")
def synced(tmp_path_factory) -> Warehouse:
    from orchestration.source import open_source
    from orchestration.source.synthetic import generate, write_snapshot
    from orchestration.warehouse.sync import sync

    folder = tmp_path_factory.mktemp("synced")
    write_snapshot(generate(400, 3, seed=11, as_of=AS_OF), folder / "snapshot")
    warehouse = Warehouse(folder / "warehouse.duckdb")
    sync(open_source(str(folder / "snapshot")), warehouse, AS_OF)
    with warehouse.writer() as con:
        materialize_segments(con, AS_OF)
    return warehouse


@pytest.mark.parametrize("segment", list(SEGMENTS))
def test_members_of_synced_data_match_an_independent_reading_of_the_contract(synced, segment):
    with synced.reader() as con:
        found = [r[0] for r in con.execute(
            f"SELECT customer_id FROM segment_{segment} WHERE tenant_id = 2 ORDER BY 1").fetchall()]  # fmt: skip
    assert found == oracle(synced, 2, segment) and found


@pytest.mark.parametrize("filtered", [False, True], ids=["all", "three_services"])
@pytest.mark.parametrize("segment", list(SEGMENTS))
def test_a_previews_sample_is_its_first_recipients_with_the_same_details(synced, segment, filtered):
    """The sample (picked by preview.sql, detailed by sample_customers.sql, sample_anchors.sql and sample_directory.sql)
    and the recipient list (anchored.sql) are separate statements: a person must see exactly the first recipients a
    launch would freeze, with their anchors' details."""
    query = AudienceQuery(2, segment, service_ids=(9, 10, 13) if filtered else (), as_of=AS_OF)
    shown = preview(synced, None, query, sample=25)
    first = pd.concat(list(recipients(synced, None, query)))[list(RECIPIENT_COLUMNS)].head(25).reset_index(drop=True)
    assert len(first) > 0 and shown.count >= len(first)
    pd.testing.assert_frame_equal(_missing_as_none(shown.sample), _missing_as_none(first))


def _missing_as_none(frame: pd.DataFrame) -> pd.DataFrame:
    """The values, whatever dtype holds them: DuckDB gives a column without any value as objects (None), the sample
    as its own dtype (NaN or NA)."""
    frame = frame.reset_index(drop=True).astype(object)
    return frame.where(frame.notna(), None)


@pytest.mark.parametrize("segment", list(SEGMENTS))
def test_the_one_pass_materialization_gives_each_definitions_members_anchors_and_exclusions(synced, segment):
    query = AudienceQuery(0, segment, as_of=AS_OF)
    with synced.reader() as con:
        tenants = [r[0] for r in con.execute("SELECT tenant_id FROM tenants").fetchall()]
        con.register("suppressed_numbers", no_suppressed_numbers())
        sql = segment_sql(query, "members")
        values = bind(sql, bound_values(query, tenant_ids=tenants))
        defined = con.execute(f"SELECT tenant_id, customer_id, anchor_appointment_id, exclusion FROM ({sql}) "
                              "ORDER BY ALL", values).fetchall()  # fmt: skip
        materialized = con.execute(f"SELECT tenant_id, customer_id, anchor_appointment_id, exclusion "
                                   f"FROM segment_{segment} ORDER BY ALL").fetchall()  # fmt: skip
    assert materialized == defined and len({row[0] for row in defined}) == 3


@pytest.mark.parametrize("segment", list(SEGMENTS))
def test_a_materialized_segment_shows_each_member_with_the_details_of_its_definition(synced, segment):
    query = AudienceQuery(0, segment, as_of=AS_OF)
    with synced.reader() as con:
        tenants = [r[0] for r in con.execute("SELECT tenant_id FROM tenants").fetchall()]
        con.register("suppressed_numbers", no_suppressed_numbers())
        sql = f"WITH selected_members AS ({segment_sql(query, 'members')})\n{load_sql('segments/anchored.sql')}"
        defined = con.execute(sql, bind(sql, bound_values(query, tenant_ids=tenants))).fetchall()
        materialized = con.execute(f"SELECT * FROM segment_{segment}").fetchall()
    assert materialized == defined and defined


def test_materializing_replaces_segment_tables_written_before_the_views(tmp_path):
    customers = [customer(1), customer(2, status="no_phone")]
    warehouse = build_warehouse(tmp_path / "warehouse.duckdb", customers, [appointment(1, 1, NOW + DAY)])
    with warehouse.writer() as con:
        con.execute("CREATE TABLE segment_all_customers AS SELECT 1 AS tenant_id, 99 AS customer_id")
        materialize_segments(con, AS_OF)
    with warehouse.reader() as con:
        kinds = dict(con.execute("SELECT table_name, table_type FROM information_schema.tables "
                                 "WHERE table_name LIKE 'segment_all_customers%'").fetchall())  # fmt: skip
        rows = con.execute("SELECT customer_id, exclusion FROM segment_all_customers").fetchall()
    assert kinds == {"segment_all_customers": "VIEW", "segment_all_customers_members": "BASE TABLE"}
    assert rows == [(1, None), (2, "no_phone")]
