"""`bkntc-sms catalog` (the ids audience filters take, per tenant) and `preview`'s count of members on the
suppression list whether or not the query excludes it."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from orchestration.cli import main
from orchestration.ledger import Ledger
from tests.test_segments import DAY, NOW, appointment, build_warehouse, customer

AS_OF_TEXT = "2025-06-01T12:00:00Z"


@pytest.fixture
def two_tenants(home):
    customers = [customer(1), customer(2), customer(3, phone="+12025550001"), customer(4, tenant=2)]
    appointments = [appointment(1, 1, NOW + DAY, created=NOW - DAY, service=2),
                    appointment(2, 2, NOW + DAY, created=NOW - DAY, status="pending"),
                    appointment(3, 3, NOW + DAY, created=NOW - DAY),
                    appointment(4, 4, NOW + DAY, created=NOW - DAY, tenant=2, status="custom_two")]
    build_warehouse(home.warehouse, customers, appointments, tenants=(1, 2))
    with Ledger(home.ledger).write() as con:
        con.execute("INSERT INTO tenants (tenant_id) VALUES (1)")
        con.execute("INSERT INTO suppression (tenant_id, phone_e164, source) VALUES (1, '+12025550002', 'manual')")
    return home


def run(home, *args: str):
    return CliRunner().invoke(main, ["--home", str(home.root), *args])


def test_catalog_services_json_lists_the_tenants_ids_names_and_appointment_counts(two_tenants):
    result = run(two_tenants, "catalog", "services", "--tenant", "1", "--json")
    rows = json.loads(result.output)
    assert [(r["id"], r["appointments"]) for r in rows] == [(1, 2), (2, 1)]
    assert all(r["name"].startswith("T1 ") for r in rows)


def test_catalog_statuses_are_scoped_to_the_tenant(two_tenants):
    one = json.loads(run(two_tenants, "catalog", "statuses", "--tenant", "1", "--json").output)
    two = json.loads(run(two_tenants, "catalog", "statuses", "--tenant", "2", "--json").output)
    assert one == [{"status": "approved", "appointments": 2}, {"status": "pending", "appointments": 1}]
    assert two == [{"status": "custom_two", "appointments": 1}]


def test_catalog_locations_and_staff_print_a_table_with_the_filter_hint(two_tenants):
    locations = run(two_tenants, "catalog", "locations", "--tenant", "1")
    staff = json.loads(run(two_tenants, "catalog", "staff", "--tenant", "1", "--json").output)
    assert locations.exit_code == 0 and "--location ID" in locations.output
    assert staff and "email" not in staff[0] and "phone_number" not in staff[0]


def test_catalog_without_a_warehouse_is_one_error_line(home):
    result = run(home, "catalog", "services", "--tenant", "1")
    assert result.exit_code == 2 and result.output.count("\n") == 1 and "No warehouse" in result.output


def test_preview_counts_members_on_the_suppression_list_when_it_is_not_excluded(two_tenants):
    kept = json.loads(run(two_tenants, "preview", "--tenant", "1", "--segment", "upcoming", "--as-of",
                          AS_OF_TEXT, "--json").output)
    cut = json.loads(run(two_tenants, "preview", "--tenant", "1", "--segment", "upcoming", "--as-of",
                         AS_OF_TEXT, "--json", "--exclude-suppressed").output)
    assert (kept["count"], kept["excluded"]["suppressed"], kept["on_suppression_list"]) == (2, 0, 1)
    assert (cut["count"], cut["excluded"]["suppressed"], cut["on_suppression_list"]) == (1, 1, 1)


def test_preview_table_says_suppressed_members_are_skipped_at_send_time(two_tenants):
    result = run(two_tenants, "preview", "--tenant", "1", "--segment", "upcoming", "--as-of", AS_OF_TEXT)
    assert "1 of them are on the suppression list" in result.output
