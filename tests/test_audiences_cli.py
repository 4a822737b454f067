"""`bkntc-sms preview`: the JSON document, the readable table, and one-line errors."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from orchestration.cli import main
from orchestration.ledger import Ledger
from tests.test_segments import DAY, NOW, appointment, build_warehouse, customer

AS_OF_TEXT = "2025-06-01T12:00:00Z"


@pytest.fixture
def cli_home(home):
    customers = [customer(1), customer(2, status="no_phone"), customer(3), customer(4, phone="+12025550003")]
    appointments = [appointment(c, c, NOW + DAY, created=NOW - DAY) for c in range(1, 5)]
    build_warehouse(home.warehouse, customers, appointments)
    with Ledger(home.ledger).write() as con:
        con.execute("INSERT INTO tenants (tenant_id) VALUES (1)")
        con.execute("INSERT INTO suppression (tenant_id, phone_e164, source) VALUES (1, '+12025550001', 'manual')")
    return home


def run(home, *args: str):
    return CliRunner().invoke(main, ["--home", str(home.root), "preview", *args])


def test_preview_json_is_one_object_with_counts_exclusions_and_sample(cli_home):
    result = run(cli_home, "--tenant", "1", "--segment", "upcoming", "--as-of", AS_OF_TEXT, "--json",
                 "--exclude-suppressed")  # fmt: skip
    document = json.loads(result.output)
    assert {k: document[k] for k in ("tenant", "segment", "params", "as_of", "count", "excluded")} == {
        "tenant": 1,
        "segment": "upcoming",
        "params": {"days": 7, "service_ids": [], "location_ids": [], "statuses": [], "min_appointments": None,
                   "exclude_suppressed": True},
        "as_of": AS_OF_TEXT,
        "count": 1,
        "excluded": {"no_phone": 1, "invalid_phone": 0, "duplicate_phone": 1, "suppressed": 1, "undeliverable": 0,
                     "frequency_cap": 0},
    }  # fmt: skip


def test_preview_json_sample_rows_lead_with_id_phone_and_names(cli_home):
    result = run(cli_home, "--tenant", "1", "--segment", "all_appointments", "--as-of", AS_OF_TEXT, "--json")
    first = json.loads(result.output)["sample"][0]
    assert (list(first)[:4], first["phone"], first["anchor_appointment_id"], first["service_name"]) == (
        ["customer_id", "phone", "first_name", "last_name"], "+12025550001", 1, "T1 Service 1",
    )  # fmt: skip


def test_preview_takes_filters_and_parameters(cli_home):
    result = run(cli_home, "--tenant", "1", "--segment", "recent_bookers", "--days", "7", "--service", "1",
                 "--location", "1", "--status", "approved", "--min-appointments", "1", "--as-of", AS_OF_TEXT,
                 "--json")  # fmt: skip
    assert json.loads(result.output)["params"]["days"] == 7


def test_preview_prints_a_readable_table(cli_home):
    result = run(cli_home, "--tenant", "1", "--segment", "all_customers", "--as-of", AS_OF_TEXT)
    assert "2 recipients" in result.output and "+12025550003" in result.output


def test_preview_error_is_one_line_and_exit_code_2(cli_home):
    result = run(cli_home, "--tenant", "1", "--segment", "vip")
    assert (result.exit_code, result.output.strip().splitlines()) == (
        2, ["Error: Unknown segment 'vip': known segments are " + ", ".join(
            ["recent_bookers", "upcoming", "first_time", "repeat", "lapsed", "cancelled_or_rejected",
             "all_customers", "all_appointments"]) + "."],
    )  # fmt: skip


def test_preview_rejects_a_malformed_as_of(cli_home):
    result = run(cli_home, "--tenant", "1", "--segment", "upcoming", "--as-of", "yesterday")
    assert result.exit_code == 2 and "is not an ISO-8601" in result.output


def test_preview_of_a_status_no_appointment_uses_yet_warns_in_json_and_in_the_table(cli_home):
    as_json = run(cli_home, "--tenant", "1", "--segment", "all_customers", "--status", "no-show", "--json")
    as_table = run(cli_home, "--tenant", "1", "--segment", "all_customers", "--status", "no-show")
    [warning] = json.loads(as_json.output)["warnings"]
    assert "'no-show' matches no appointment of tenant 1 yet" in warning
    assert as_table.exit_code == 0 and "Warning:" in as_table.output and "no-show" in as_table.output
