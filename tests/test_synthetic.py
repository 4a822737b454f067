"""The synthetic generator reproduces Booknetic's shape and mess, deterministically, for every tenant."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import duckdb
import phonenumbers
import pyarrow as pa
import pytest
from click.testing import CliRunner

from orchestration.cli import main
from orchestration.errors import UserError
from orchestration.source.synthetic import generate

AS_OF = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
NOW = int(AS_OF.timestamp())
DAY = 86_400
INT, TEXT, MONEY = pa.int64(), pa.string(), pa.decimal128(18, 4)

# Column by column, as booknetic-schema.md describes each table.
BOOKNETIC_COLUMNS = {
    "appointments": [("id", INT), ("location_id", INT), ("service_id", INT), ("staff_id", INT),
                     ("customer_id", INT), ("status", TEXT), ("starts_at", INT), ("ends_at", INT),
                     ("busy_from", INT), ("busy_to", INT), ("weight", INT), ("payment_method", TEXT),
                     ("payment_status", TEXT), ("paid_amount", MONEY), ("note", TEXT), ("locale", TEXT),
                     ("client_timezone", TEXT), ("created_at", INT), ("tenant_id", INT)],
    "customers": [("id", INT), ("user_id", INT), ("first_name", TEXT), ("last_name", TEXT),
                  ("phone_number", TEXT), ("email", TEXT), ("birthdate", pa.date32()), ("gender", TEXT),
                  ("notes", TEXT), ("profile_image", TEXT), ("created_by", INT), ("created_at", TEXT),
                  ("tenant_id", INT)],
    "services": [("id", INT), ("name", TEXT), ("price", MONEY), ("category_id", INT), ("duration", INT),
                 ("is_active", INT), ("is_visible", INT), ("color", TEXT), ("tenant_id", INT)],
    "locations": [("id", INT), ("name", TEXT), ("address", TEXT), ("phone_number", TEXT), ("is_active", INT),
                  ("tenant_id", INT)],
    "staff": [("id", INT), ("name", TEXT), ("email", TEXT), ("phone_number", TEXT), ("profession", TEXT),
              ("is_active", INT), ("tenant_id", INT)],
    "service_categories": [("id", INT), ("name", TEXT), ("parent_id", INT), ("tenant_id", INT)],
    "tenants": [("id", INT), ("user_id", INT), ("email", TEXT), ("full_name", TEXT), ("domain", TEXT),
                ("plan_id", INT), ("expires_in", TEXT), ("inserted_at", TEXT), ("verified_at", TEXT),
                ("active_subscription", TEXT), ("money_balance", MONEY)],
    "options": [("option_name", TEXT), ("option_value", TEXT)],
}


@pytest.fixture(scope="module")
def saas() -> dict[str, pa.Table]:
    return generate(400, 3, seed=11, as_of=AS_OF)


@pytest.fixture(scope="module")
def single_site() -> dict[str, pa.Table]:
    return generate(200, 0, seed=11, as_of=AS_OF)


@pytest.mark.parametrize("table", sorted(BOOKNETIC_COLUMNS))
def test_each_table_has_booknetic_columns_and_canonical_types(saas, table):
    assert [(f.name, f.type) for f in saas[table].schema] == BOOKNETIC_COLUMNS[table]


def test_same_seed_gives_identical_tables():
    first, second = generate(120, 2, seed=5, as_of=AS_OF), generate(120, 2, seed=5, as_of=AS_OF)
    assert all(first[name].equals(second[name]) for name in first)


def test_different_seed_gives_different_tables():
    first, second = generate(120, 2, seed=5, as_of=AS_OF), generate(120, 2, seed=6, as_of=AS_OF)
    assert not first["appointments"].equals(second["appointments"])
    assert not first["customers"].equals(second["customers"])


def test_single_site_has_null_tenant_ids_and_no_tenants_table(single_site):
    assert "tenants" not in single_site
    for name in ("customers", "appointments", "services", "locations", "staff", "service_categories"):
        assert single_site[name].column("tenant_id").null_count == single_site[name].num_rows, name


def test_saas_has_tenants_1_to_k_and_every_row_belongs_to_one(saas):
    assert saas["tenants"].column("id").to_pylist() == [1, 2, 3]
    for name in ("customers", "appointments", "services", "locations", "staff", "service_categories"):
        assert set(saas[name].column("tenant_id").to_pylist()) == {1, 2, 3}, name


def test_appointments_point_at_catalog_rows_of_their_own_tenant(saas):
    con = duckdb.connect()
    for name in ("appointments", "customers", "services", "locations", "staff"):
        con.register(name, saas[name])
    mismatched = con.execute("""
        SELECT count(*) FROM appointments a
        JOIN customers c ON c.id = a.customer_id JOIN services s ON s.id = a.service_id
        JOIN locations l ON l.id = a.location_id JOIN staff st ON st.id = a.staff_id
        WHERE NOT (a.tenant_id = c.tenant_id AND a.tenant_id = s.tenant_id AND a.tenant_id = l.tenant_id
                   AND a.tenant_id = st.tenant_id)""").fetchone()[0]
    joined = con.execute("SELECT count(*) FROM appointments a JOIN services s ON s.id = a.service_id").fetchone()[0]
    assert (mismatched, joined) == (0, saas["appointments"].num_rows)


def _phone_kind(phone: str | None) -> str:
    if phone is None:
        return "null"
    if phone == "":
        return "empty"
    if re.fullmatch(r"\+1\d{10}", phone):
        return "e164_us"
    if re.fullmatch(r"\+(44|49)\d+", phone):
        return "foreign"
    if re.fullmatch(r"\(\d{3}\) \d{3}-\d{4}", phone):
        return "national"
    if re.fullmatch(r"\d{3}-\d{3}-\d{4}", phone):
        return "dashed"
    if re.fullmatch(r"\+1 \d{3} \d{3} \d{4}", phone):
        return "spaced"
    if re.fullmatch(r"1\d{10}", phone):
        return "no_plus"
    return "garbage"


def test_phone_numbers_hold_every_kind_of_mess(saas):
    phones = saas["customers"].column("phone_number").to_pylist()
    kinds = {kind: 0 for kind in ("e164_us", "foreign", "national", "dashed", "spaced", "no_plus", "empty", "null",
                                  "garbage")}
    for phone in phones:
        kinds[_phone_kind(phone)] += 1
    shared = saas["customers"].group_by(["tenant_id", "phone_number"]).aggregate([("id", "count")])
    assert all(count > 0 for count in kinds.values()), kinds
    assert kinds["e164_us"] > len(phones) / 2
    assert max(shared.column("id_count").to_pylist()) > 1  # one number on several customers of a tenant


def test_us_e164_phones_are_valid_for_phonenumbers(saas):
    us = [p for p in saas["customers"].column("phone_number").to_pylist() if _phone_kind(p) == "e164_us"]
    assert all(phonenumbers.is_valid_number(phonenumbers.parse(p)) for p in us)


def test_garbage_phones_are_invalid_for_phonenumbers(saas):
    garbage = [p for p in saas["customers"].column("phone_number").to_pylist() if _phone_kind(p) == "garbage"]

    def valid(phone: str) -> bool:
        try:
            return phonenumbers.is_valid_number(phonenumbers.parse(phone, "US"))
        except phonenumbers.NumberParseException:
            return False

    assert garbage and not any(valid(p) for p in garbage)


def test_statuses_include_booknetic_ones_and_a_custom_slug(saas):
    statuses = set(saas["appointments"].column("status").to_pylist())
    assert {"pending", "approved", "canceled", "rejected"} <= statuses
    assert statuses & {"no-show", "completed"}


def test_names_come_in_several_scripts_and_some_are_empty(saas):
    names = saas["customers"].column("first_name").to_pylist() + saas["customers"].column("last_name").to_pylist()
    scripts = {
        "accented": r"[À-ɏ]", "cyrillic": r"[Ѐ-ӿ]", "cjk": r"[一-鿿぀-ヿ가-힯]", "arabic": r"[؀-ۿ]",
        "emoji": r"[\U0001F300-\U0001FAFF✨⚽⭐]",
    }
    found = {script for script, pattern in scripts.items() if any(re.search(pattern, n) for n in names)}
    assert found == set(scripts)
    assert "" in names


def test_appointment_times_are_unix_seconds_and_customer_created_at_is_a_date_or_datetime_string(saas):
    starts = saas["appointments"].column("starts_at").to_pylist()
    created = saas["customers"].column("created_at").to_pylist()
    assert all(NOW - 1000 * DAY < s < NOW + 100 * DAY for s in starts)
    assert any(re.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}", c) for c in created)
    assert any(re.fullmatch(r"\d{4}-\d{2}-\d{2}", c) for c in created)


def test_appointments_are_never_booked_after_as_of(saas):
    assert max(saas["appointments"].column("created_at").to_pylist()) <= NOW


def test_customers_average_about_five_appointments_with_none_one_and_many(saas):
    con = duckdb.connect()
    con.register("customers", saas["customers"])
    con.register("appointments", saas["appointments"])
    counts = [row[0] for row in con.execute(
        "SELECT count(a.id) FROM customers c LEFT JOIN appointments a ON a.customer_id = c.id GROUP BY c.id"
    ).fetchall()]
    assert 4 <= sum(counts) / len(counts) <= 6
    assert 0 in counts and 1 in counts
    assert sum(c >= 3 for c in counts) > len(counts) / 2


SEGMENT_CONDITIONS = {
    "recent_bookers_7": "bool_or(a.created_at > {now} - 7 * {day} AND a.created_at <= {now})",
    "recent_bookers_30": "bool_or(a.created_at > {now} - 30 * {day} AND a.created_at <= {now})",
    "upcoming_7": "bool_or(a.starts_at >= {now} AND a.starts_at < {now} + 7 * {day} "
                  "AND a.status NOT IN ('canceled', 'rejected'))",
    "first_time": "count(a.id) = 1",
    "repeat_3": "count(a.id) >= 3",
    "lapsed_90_only": "count(a.id) >= 1 AND max(a.starts_at) < {now} - 90 * {day} "
                      "AND max(a.starts_at) >= {now} - 180 * {day}",
    "lapsed_180": "count(a.id) >= 1 AND max(a.starts_at) < {now} - 180 * {day}",
    "canceled_30": "bool_or(a.status = 'canceled' AND (a.starts_at > {now} - 30 * {day} AND a.starts_at <= {now} "
                   "OR a.created_at > {now} - 30 * {day} AND a.created_at <= {now}))",
    "rejected_30": "bool_or(a.status = 'rejected' AND (a.starts_at > {now} - 30 * {day} AND a.starts_at <= {now} "
                   "OR a.created_at > {now} - 30 * {day} AND a.created_at <= {now}))",
    "no_appointments": "count(a.id) = 0",
}


@pytest.mark.parametrize("tables_fixture", ["saas", "single_site"])
def test_every_segment_has_members_in_every_tenant(tables_fixture, request):
    tables = request.getfixturevalue(tables_fixture)
    con = duckdb.connect()
    con.register("customers", tables["customers"])
    con.register("appointments", tables["appointments"])
    checks = ", ".join(f"coalesce({cond}, false) AS {name}" for name, cond in SEGMENT_CONDITIONS.items())
    query = f"""
        WITH per_customer AS (
            SELECT coalesce(c.tenant_id, 0) AS tenant, {checks}
            FROM customers c LEFT JOIN appointments a ON a.customer_id = c.id GROUP BY c.id, c.tenant_id)
        SELECT tenant, {", ".join(f"count(*) FILTER (WHERE {name})" for name in SEGMENT_CONDITIONS)}
        FROM per_customer GROUP BY tenant ORDER BY tenant""".format(now=NOW, day=DAY)
    rows = con.execute(query).fetchall()
    empty = [(row[0], name) for row in rows for name, n in zip(SEGMENT_CONDITIONS, row[1:], strict=True) if n == 0]
    assert len(rows) == max(len(tables.get("tenants", [])), 1)
    assert empty == []


def test_company_options_exist_per_tenant_on_saas_and_once_on_a_single_site(saas, single_site):
    saas_names = set(saas["options"].column("option_name").to_pylist())
    site_names = set(single_site["options"].column("option_name").to_pylist())
    for field in ("name", "phone", "address", "website"):
        assert {f"bkntc_t{t}_company_{field}" for t in (1, 2, 3)} <= saas_names
        assert f"bkntc_company_{field}" in site_names


def test_too_few_customers_for_the_tenants_is_a_user_error():
    with pytest.raises(UserError, match="at least 24 customers for 3 tenant"):
        generate(10, 3, seed=1, as_of=AS_OF)


def test_demo_data_command_writes_a_snapshot_and_prints_rows_per_table(tmp_path):
    result = CliRunner().invoke(main, ["demo-data", "--out", str(tmp_path / "snap"), "--customers", "50",
                                       "--tenants", "1", "--as-of", "2025-06-01T12:00:00Z", "--format", "parquet"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "snap" / "wp_bkntc_appointments.parquet").exists()
    assert re.search(r"customers\s+50 rows", result.output)


def test_demo_data_command_with_a_bad_as_of_fails_in_one_line(tmp_path):
    result = CliRunner().invoke(main, ["demo-data", "--out", str(tmp_path), "--as-of", "yesterday"])
    assert result.exit_code != 0
    assert result.output.strip().splitlines() == ["Error: --as-of 'yesterday' is not an ISO-8601 date/time "
                                                  "(e.g. 2025-06-01T12:00:00Z)"]


def test_demo_data_command_without_a_destination_fails_in_one_line():
    result = CliRunner().invoke(main, ["demo-data"])
    assert result.exit_code != 0
    assert result.output.strip().splitlines() == ["Error: say where the data goes: --out DIR and/or --mysql URL"]
