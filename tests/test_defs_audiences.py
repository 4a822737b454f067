"""The segment assets: one copy-on-write materialization of every segment table, with per-tenant sizes."""

from __future__ import annotations

import dagster as dg
import pytest

from orchestration.audiences import SEGMENTS, table_name
from orchestration.defs.audiences.assets import segments
from orchestration.defs.resources import resources_for
from orchestration.warehouse import Warehouse
from tests.test_segments import DAY, NOW, appointment, build_warehouse, customer

AS_OF_TEXT = "2025-06-01T12:00:00Z"


@pytest.fixture
def materialized(home):
    customers = [customer(1), customer(2), customer(3, status="no_phone"), customer(1, tenant=2)]
    appointments = [
        appointment(1, 1, NOW + DAY, created=NOW - DAY),
        appointment(2, 3, NOW + DAY, created=NOW - DAY),
        appointment(3, 1, NOW - 200 * DAY, tenant=2),
    ]
    build_warehouse(home.warehouse, customers, appointments, tenants=(1, 2))
    result = dg.materialize(
        [segments],
        resources=resources_for(home.root),
        run_config={"ops": {"segments": {"config": {"as_of": AS_OF_TEXT}}}},
    )
    return home, result


def test_one_run_materializes_every_segment_table(materialized):
    home, result = materialized
    assert {m.asset_key.to_user_string() for m in result.get_asset_materialization_events()} == {
        table_name(name) for name in SEGMENTS
    }


def test_segment_metadata_reports_members_and_recipients_per_tenant(materialized):
    _, result = materialized
    metadata = result.asset_materializations_for_node("segments")
    by_key = {m.asset_key.to_user_string(): m.metadata for m in metadata}
    upcoming = by_key["segment_upcoming"]
    assert (upcoming["recipients"].value, upcoming["per_tenant"].data) == (
        1, {"1": {"members": 2, "recipients": 1}},
    )  # fmt: skip


def test_segment_table_rows_carry_tenant_exclusion_and_as_of(materialized):
    home, _ = materialized
    with Warehouse(home.warehouse).reader() as con:
        rows = con.execute(
            "SELECT tenant_id, customer_id, exclusion, strftime(as_of, '%Y-%m-%dT%H:%M:%SZ') "
            "FROM segment_all_customers ORDER BY ALL"
        ).fetchall()
    assert rows == [
        (1, 1, None, AS_OF_TEXT), (1, 2, None, AS_OF_TEXT), (1, 3, "no_phone", AS_OF_TEXT), (2, 1, None, AS_OF_TEXT),
    ]  # fmt: skip


def test_segment_assets_depend_on_the_synced_tables():
    deps = {dep.asset_key.to_user_string() for spec in segments.specs for dep in spec.deps}
    assert {"customers", "appointments", "services", "locations", "staff"} <= deps


def test_segment_assets_are_in_the_audiences_group():
    assert {spec.group_name for spec in segments.specs} == {"audiences"}
