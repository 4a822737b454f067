"""The same Booknetic data synced from a snapshot folder and from a real MariaDB gives identical warehouse tables."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from orchestration.source import open_source
from orchestration.source.synthetic import generate, load_mysql, write_snapshot
from orchestration.warehouse import Warehouse
from orchestration.warehouse.sync import sync

pytestmark = pytest.mark.mariadb

AS_OF = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
CLEANED = ("customers", "appointments", "services", "locations", "staff", "company", "tenants", "customer_facts")
ORDER = {
    "customers": "tenant_id, customer_id",
    "appointments": "tenant_id, appointment_id",
    "services": "tenant_id, service_id",
    "locations": "tenant_id, location_id",
    "staff": "tenant_id, staff_id",
    "company": "tenant_id",
    "tenants": "tenant_id",
    "customer_facts": "tenant_id, customer_id",
}


def _synced(spec: str, path) -> Warehouse:
    warehouse = Warehouse(path)
    with open_source(spec) as source:
        sync(source, warehouse, AS_OF)
    return warehouse


def _rows(warehouse: Warehouse, table: str) -> list[tuple]:
    with warehouse.reader() as con:
        return con.execute(f"SELECT * FROM {table} ORDER BY {ORDER[table]}").fetchall()


@pytest.mark.parametrize("tenants", [0, 2], ids=["single-site", "saas"])
def test_folder_and_mariadb_sources_sync_to_identical_cleaned_tables(tmp_path, mariadb_url, tenants):
    tables = generate(customers=300, tenants=tenants, seed=11, as_of=AS_OF)
    write_snapshot(tables, tmp_path / "snapshot", fmt="csv", prefix="wp_")
    url = mariadb_url.replace("prefix=wp_", f"prefix=eq{tenants}_")
    load_mysql(tables, url)

    from_folder = _synced(str(tmp_path / "snapshot"), tmp_path / "folder.duckdb")
    from_mariadb = _synced(url, tmp_path / "mariadb.duckdb")

    for table in CLEANED:
        folder_rows = _rows(from_folder, table)
        assert folder_rows, f"{table} is empty: the comparison would prove nothing"
        assert _rows(from_mariadb, table) == folder_rows, table


# A Booknetic install as it really is: its own prefix, DECIMAL(10,4) and FLOAT/DOUBLE money, DATETIME
# customers.created_at with zero dates, NULL appointment created_at, custom status slugs, utf8mb3 tables, and
# columns Booknetic added over the years, in another order than ours.
T = int(AS_OF.timestamp())
DAY = 86_400
REAL_PREFIX = "bk7q_"
REAL_INSTALL: dict[str, tuple[str, list[tuple[str, str]], list[tuple]]] = {
    "customers": ("utf8mb4", [
        ("id", "INT NOT NULL AUTO_INCREMENT PRIMARY KEY"), ("tenant_id", "INT NULL"), ("email", "VARCHAR(255)"),
        ("first_name", "VARCHAR(255)"), ("last_name", "VARCHAR(255)"), ("phone_number", "VARCHAR(255)"),
        ("birthdate", "DATE NULL"), ("gender", "VARCHAR(20)"), ("created_at", "DATETIME NULL"),
        ("locale", "VARCHAR(20)"), ("user_id", "INT NULL"), ("created_by", "INT NULL"),
    ], [
        (1, 1, "ada@example.com", "Ada", "Lovelace 🌸", "+12125550123", "1990-12-10", "female",
         "2025-01-01 00:00:00", "en_US", 0, 1),
        (2, 1, "bo@example.com", "Bø", "", "(212) 555-0124", "0000-00-00", "", "0000-00-00 00:00:00", "", None, 0),
        (3, 1, "", "秀英", "王", "+12125550125", None, "female", None, "zh_CN", None, 0),
        (4, 2, "joe@example.com", "Joe", "Núñez", "+12125550126", None, "male", "2024-03-04 05:06:07", "", 7, 1),
    ]),
    "appointments": ("utf8mb4", [
        ("id", "INT NOT NULL AUTO_INCREMENT PRIMARY KEY"), ("recurring_id", "INT NULL"),
        ("tenant_id", "INT NULL"), ("customer_id", "INT"), ("status", "VARCHAR(50)"),
        ("paid_amount", "DECIMAL(10,4)"), ("starts_at", "INT"), ("ends_at", "INT"), ("busy_from", "INT"),
        ("busy_to", "INT"), ("service_id", "INT"), ("location_id", "INT"), ("staff_id", "INT"),
        ("created_at", "INT NULL"), ("weight", "INT"), ("payment_method", "VARCHAR(50)"),
        ("payment_status", "VARCHAR(20)"), ("client_timezone", "VARCHAR(100)"), ("note", "TEXT"),
        ("locale", "VARCHAR(20)"), ("total_price", "FLOAT"),
    ], [
        (10, None, 1, 1, "approved", "12.3456", T + 2 * DAY, T + 2 * DAY + 3600, T, T, 1, 1, 1, None, 1, "local",
         "paid", "Europe/Berlin", "", "en_US", "19.99"),
        (11, 3, 1, 1, "no-show", "0.0000", T - 100 * DAY, T - 100 * DAY + 3600, T, T, 1, 1, 1, T - 101 * DAY, 1,
         "local", "not_paid", "", "", "", "0"),
        (12, None, 1, 2, "completed", "1.5", T - 10 * DAY, T - 10 * DAY + 3600, T, T, 2, 1, 1, T - 12 * DAY, 2,
         "stripe", "paid", "", "Line one\nline two", "", "7.5"),
        (13, None, 1, 3, "canceled", "0.125", T - 5 * DAY, T - 5 * DAY + 3600, T, T, 2, 1, 1, None, 1, "local",
         "canceled", "", "", "", "0"),
        (14, None, 2, 4, "rescheduled", "250.0001", T + 1 * DAY, T + 1 * DAY + 3600, T, T, 3, 2, 2, T - DAY, 1,
         "paypal", "paid", "", "", "", "250"),
    ]),
    "services": ("utf8mb3", [
        ("id", "INT NOT NULL AUTO_INCREMENT PRIMARY KEY"), ("tenant_id", "INT NULL"), ("is_active", "TINYINT"),
        ("name", "VARCHAR(255)"), ("price", "DOUBLE"), ("duration", "INT"), ("category_id", "INT"),
        ("is_visible", "TINYINT"), ("color", "VARCHAR(20)"), ("deposit", "FLOAT"),
    ], [
        (1, 1, 1, "Coupe & brushing", "25.125", 30, 1, 1, "#53d56c", "0"),
        (2, 1, 1, "按摩 60 min", "12.345678", 60, 1, 1, "", "2.5"),
        (3, 2, 0, "Haircut", "3.5", 45, 2, 1, "", "0"),
    ]),
    "locations": ("utf8mb3", [
        ("id", "INT NOT NULL AUTO_INCREMENT PRIMARY KEY"), ("name", "VARCHAR(255)"), ("tenant_id", "INT NULL"),
        ("address", "TEXT"), ("phone_number", "VARCHAR(255)"), ("is_active", "TINYINT"), ("image", "VARCHAR(255)"),
    ], [(1, "Rue de Rivoli", 1, "1 Rue de Rivoli, Paris", "", 1, ""), (2, "Main", 2, "1 Main St", None, 1, "")]),
    "staff": ("utf8mb3", [
        ("id", "INT NOT NULL AUTO_INCREMENT PRIMARY KEY"), ("tenant_id", "INT NULL"), ("name", "VARCHAR(255)"),
        ("email", "VARCHAR(255)"), ("phone_number", "VARCHAR(255)"), ("profession", "VARCHAR(255)"),
        ("is_active", "TINYINT"), ("about", "TEXT"),
    ], [(1, 1, "Zoë", "zoe@example.com", "", "Stylist", 1, ""), (2, 2, "Sam", None, None, None, 1, None)]),
    "service_categories": ("utf8mb3", [
        ("id", "INT NOT NULL AUTO_INCREMENT PRIMARY KEY"), ("name", "VARCHAR(255)"), ("parent_id", "INT"),
        ("tenant_id", "INT NULL"),
    ], [(1, "Cheveux", 0, 1), (2, "Hair", 0, 2)]),
    "options": ("utf8mb4", [
        ("option_id", "BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY"), ("option_name", "VARCHAR(191)"),
        ("option_value", "LONGTEXT"), ("autoload", "VARCHAR(20)"),
    ], [(1, "blogname", "Salon", "yes"), (2, "bkntc_t1_company_name", "Salon Zoë", "yes"),
        (3, "bkntc_t2_company_phone", "+12125550100", "no")]),
}


def _phpmyadmin_csv(columns: list[tuple[str, str]], rows: list[tuple]) -> str:
    def cell(value: object) -> str:
        return "NULL" if value is None else '"' + str(value).replace('"', '""') + '"'

    lines = [",".join(cell(name) for name, _ in columns)] + [",".join(cell(v) for v in row) for row in rows]
    return "\n".join(lines) + "\n"


def _load_real_install(url: str, folder) -> None:
    import pymysql

    from orchestration.source.mysql import MySQLURL

    target = MySQLURL.parse(url)
    folder.mkdir()
    con = pymysql.connect(host=target.host, port=target.port, user=target.user, password=target.password,
                          database=target.database, charset="utf8mb4", autocommit=True)
    try:
        with con.cursor() as cursor:
            cursor.execute("SET SESSION sql_mode = ''")  # an old install's zero dates
            for name, (charset, columns, rows) in REAL_INSTALL.items():
                physical = f"{REAL_PREFIX}{'' if name == 'options' else 'bkntc_'}{name}"
                cursor.execute(f"DROP TABLE IF EXISTS `{physical}`")
                cursor.execute(f"CREATE TABLE `{physical}` ({', '.join(f'`{n}` {t}' for n, t in columns)})"
                               f" DEFAULT CHARSET={charset}")
                cursor.executemany(f"INSERT INTO `{physical}` VALUES ({', '.join(['%s'] * len(columns))})", rows)
                (folder / f"{physical}.csv").write_text(_phpmyadmin_csv(columns, rows), encoding="utf-8")
    finally:
        con.close()


@pytest.fixture(scope="module")
def real_install(tmp_path_factory, mariadb_url) -> tuple[Warehouse, Warehouse]:
    """The real-install fixture synced from MariaDB (URL without ?prefix=: found) and from its CSV export."""
    root = tmp_path_factory.mktemp("real-install")
    database_url = mariadb_url.split("?", 1)[0].rsplit("/", 1)[0] + "/realinstall"
    import pymysql

    from orchestration.source.mysql import MySQLURL

    admin = MySQLURL.parse(mariadb_url)
    con = pymysql.connect(host=admin.host, port=admin.port, user=admin.user, password=admin.password, autocommit=True)
    with con.cursor() as cursor:
        cursor.execute("CREATE DATABASE IF NOT EXISTS realinstall CHARACTER SET utf8mb4")
    con.close()
    _load_real_install(database_url, root / "export")
    return _synced(str(root / "export"), root / "folder.duckdb"), _synced(database_url, root / "mariadb.duckdb")


def test_a_real_install_syncs_from_mariadb_and_its_export_to_identical_tables(real_install):
    from_folder, from_mariadb = real_install
    for table in CLEANED:
        folder_rows = _rows(from_folder, table)
        assert folder_rows, f"{table} is empty: the comparison would prove nothing"
        assert _rows(from_mariadb, table) == folder_rows, table


def test_a_real_install_keeps_money_at_four_decimals_and_rounds_floats_to_them(real_install):
    from decimal import Decimal

    from_folder, _ = real_install
    paid = dict(_query(from_folder, "SELECT appointment_id, paid_amount FROM appointments"))
    assert paid == {10: Decimal("12.3456"), 11: Decimal("0"), 12: Decimal("1.5"), 13: Decimal("0.125"),
                    14: Decimal("250.0001")}
    prices = dict(_query(from_folder, "SELECT service_id, price FROM services"))
    assert prices == {1: Decimal("25.125"), 2: Decimal("12.3457"), 3: Decimal("3.5")}


def test_a_real_install_reads_datetime_created_at_and_zero_dates_as_null(real_install):
    from_folder, _ = real_install
    assert _query(from_folder, "SELECT customer_id, created_ts, birthdate FROM customers") == [
        (1, datetime(2025, 1, 1), date(1990, 12, 10)), (2, None, None), (3, None, None),
        (4, datetime(2024, 3, 4, 5, 6, 7), None)]


def test_a_real_install_keeps_appointments_without_created_at_for_segments_that_do_not_read_it(real_install):
    from orchestration.audiences import AudienceQuery, preview

    from_folder, _ = real_install
    members = {name: preview(from_folder, None, AudienceQuery(1, name, as_of=AS_OF)).sample["customer_id"].tolist()
               for name in ("upcoming", "recent_bookers", "all_appointments", "cancelled_or_rejected")}
    # 1's next appointment has no created_at (still upcoming); 3's canceled one started 5 days ago.
    assert members == {"upcoming": [1], "recent_bookers": [2], "all_appointments": [1, 2, 3],
                       "cancelled_or_rejected": [3]}


def test_a_real_install_filters_by_a_custom_status_slug(real_install):
    from orchestration.audiences import AudienceQuery, preview

    from_folder, _ = real_install
    found = preview(from_folder, None, AudienceQuery(2, "all_customers", statuses=["rescheduled"], as_of=AS_OF))
    assert (found.count, found.warnings) == (1, ())


def _query(warehouse: Warehouse, sql: str) -> list[tuple]:
    with warehouse.reader() as con:
        return con.execute(sql + " ORDER BY 1").fetchall()
