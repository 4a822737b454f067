"""The Booknetic readers: a CSV folder, a parquet folder and MariaDB give the same canonical Arrow, or a clear error."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pytest
from click.testing import CliRunner

from orchestration.cli import main
from orchestration.errors import UserError
from orchestration.source import open_source
from orchestration.source.schema import TABLES
from orchestration.source.synthetic import bkntc_options, generate, load_mysql, write_snapshot

AS_OF = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def tables() -> dict[str, pa.Table]:
    return generate(200, 2, seed=3, as_of=AS_OF)


@pytest.fixture(scope="module")
def csv_folder(tables, tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("csv")
    write_snapshot(tables, folder, fmt="csv")
    return folder


@pytest.fixture(scope="module")
def parquet_folder(tables, tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("parquet")
    write_snapshot(tables, folder, fmt="parquet", prefix="wpx9_")
    return folder


@pytest.fixture(scope="module")
def loaded_url(tables, mariadb_url) -> str:
    url = mariadb_url.replace("prefix=wp_", "prefix=rdr_")
    load_mysql(tables, url)
    return url


def _expected(tables: dict[str, pa.Table], name: str) -> pa.Table:
    return bkntc_options(tables[name]) if name == "options" else tables[name]


def _read_all(spec: str) -> dict[str, pa.Table]:
    with open_source(spec) as source:
        return {name: source.read_table(name) for name in source.tables()}


def _one_line_cli_error(*args: str) -> str:
    result = CliRunner().invoke(main, list(args))
    lines = result.output.strip().splitlines()
    assert result.exit_code != 0 and len(lines) == 1 and "Traceback" not in result.output, result.output
    return lines[0]


def test_csv_folder_reads_back_the_generated_tables(tables, csv_folder):
    read = _read_all(str(csv_folder))
    assert sorted(read) == sorted(tables)
    assert all(read[name].equals(_expected(tables, name)) for name in read)


def test_parquet_folder_reads_back_the_generated_tables(tables, parquet_folder):
    read = _read_all(str(parquet_folder))
    assert sorted(read) == sorted(tables)
    assert all(read[name].equals(_expected(tables, name)) for name in read)


@pytest.mark.mariadb
def test_mariadb_reads_back_the_generated_tables(tables, loaded_url):
    read = _read_all(loaded_url)
    assert sorted(read) == sorted(tables)
    assert all(read[name].equals(_expected(tables, name)) for name in read)


@pytest.mark.mariadb
def test_csv_parquet_and_mariadb_give_identical_arrow(csv_folder, parquet_folder, loaded_url):
    from_csv, from_parquet, from_db = (_read_all(spec) for spec in (str(csv_folder), str(parquet_folder), loaded_url))
    for name in TABLES:
        assert from_csv[name].equals(from_parquet[name]) and from_csv[name].equals(from_db[name]), name


def test_csv_values_spanning_lines_are_read_across_many_blocks(tables, csv_folder, monkeypatch):
    from orchestration.source import folder

    monkeypatch.setattr(folder, "CSV_BLOCK_BYTES", 4096)
    with open_source(str(csv_folder)) as source:
        batches = list(source.read("appointments"))
    assert len(batches) > 10
    assert pa.Table.from_batches(batches).equals(tables["appointments"])


def test_every_batch_has_the_canonical_schema(csv_folder):
    with open_source(str(csv_folder)) as source:
        assert all(batch.schema.equals(TABLES["appointments"].schema) for batch in source.read("appointments"))


def test_prefix_is_detected_from_the_file_names(csv_folder, parquet_folder):
    assert open_source(str(csv_folder)).prefix == "wp_"
    assert open_source(str(parquet_folder)).prefix == "wpx9_"


def test_options_keep_only_booknetic_rows(csv_folder, tables):
    names = open_source(str(csv_folder)).read_table("options").column("option_name").to_pylist()
    assert "siteurl" in tables["options"].column("option_name").to_pylist()
    assert names and all(name.startswith("bkntc_") for name in names)


def test_rewriting_a_snapshot_in_another_format_replaces_the_old_one(tmp_path):
    write_snapshot(generate(40, 2, seed=1, as_of=AS_OF), tmp_path, fmt="csv")
    write_snapshot(generate(40, 0, seed=2, as_of=AS_OF), tmp_path, fmt="parquet")
    assert sorted(p.suffix for p in tmp_path.iterdir()) == [".parquet"] * 7
    assert "tenants" not in open_source(str(tmp_path)).tables()


def test_a_single_site_folder_has_no_tenants_table(tmp_path):
    write_snapshot(generate(40, 0, seed=1, as_of=AS_OF), tmp_path)
    assert "tenants" not in open_source(str(tmp_path)).tables()


def test_csv_with_a_byte_order_mark_reads_the_same(csv_folder, tmp_path):
    folder = tmp_path / "bom"
    shutil.copytree(csv_folder, folder)
    path = folder / "wp_bkntc_customers.csv"
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    assert open_source(str(folder)).read_table("customers").equals(open_source(str(csv_folder)).read_table("customers"))


def test_unquoted_null_is_null_and_quoted_null_is_text(tmp_path):
    write_snapshot(generate(16, 1, seed=1, as_of=AS_OF), tmp_path)
    path = tmp_path / "wp_bkntc_service_categories.csv"
    header, *rows = path.read_text().splitlines()
    names = header.replace('"', "").split(",")
    rows[0] = ",".join({"name": '"NULL"', "parent_id": "NULL"}.get(n, v) for n, v in zip(names, rows[0].split(","),
                                                                                          strict=True))
    path.write_text("\n".join([header, *rows]) + "\n")
    first = open_source(str(tmp_path)).read_table("service_categories").slice(0, 1).to_pylist()[0]
    assert (first["name"], first["parent_id"]) == ("NULL", None)


def test_a_csv_export_with_extra_columns_and_without_optional_ones_is_read(tmp_path):
    write_snapshot(generate(16, 1, seed=1, as_of=AS_OF), tmp_path)
    path = tmp_path / "wp_bkntc_locations.csv"
    path.write_text('"id","name","address","image","tenant_id"\n"1","Main","1 Main St","x.png","1"\n')
    location = open_source(str(tmp_path)).read_table("locations").to_pylist()
    assert location == [{"id": 1, "name": "Main", "address": "1 Main St", "phone_number": None, "is_active": None,
                         "tenant_id": 1}]


def test_a_missing_folder_is_a_user_error(tmp_path):
    with pytest.raises(UserError, match=r"^snapshot folder .*nowhere does not exist$"):
        open_source(str(tmp_path / "nowhere"))


def test_a_missing_required_table_is_named(csv_folder, tmp_path):
    folder = tmp_path / "partial"
    shutil.copytree(csv_folder, folder)
    (folder / "wp_bkntc_staff.csv").unlink()
    with pytest.raises(UserError, match=r"required Booknetic table missing in .*: wp_bkntc_staff\.csv"):
        open_source(str(folder))


def test_a_csv_with_a_wrong_header_names_the_file_and_the_missing_columns(csv_folder, tmp_path):
    folder = tmp_path / "bad-header"
    shutil.copytree(csv_folder, folder)
    path = folder / "wp_bkntc_appointments.csv"
    header, rest = path.read_text().split("\n", 1)
    path.write_text(header.replace('"starts_at"', '"start"').replace('"status"', '"state"') + "\n" + rest)
    with pytest.raises(UserError, match=r"^wp_bkntc_appointments\.csv lacks the column\(s\) status, starts_at$"):
        open_source(str(folder))


def test_a_value_that_is_not_a_number_is_read_as_null_and_counted_with_its_file_column_and_row(tmp_path):
    write_snapshot(generate(16, 1, seed=1, as_of=AS_OF), tmp_path)
    path = tmp_path / "wp_bkntc_services.csv"
    path.write_text('"id","name","price","duration"\n"1","Cut","ten","30"\n"2","Dye","12.5","x"\n"3","Wash","7","15"\n')
    source = open_source(str(tmp_path))
    services = source.read_table("services")
    assert services.column("price").to_pylist() == [None, Decimal("12.5"), Decimal("7")]
    assert services.column("duration").to_pylist() == [30, None, 15]
    assert source.rejects.counts == {("wp_bkntc_services.csv", "price"): 1, ("wp_bkntc_services.csv", "duration"): 1}
    assert source.rejects.samples[("wp_bkntc_services.csv", "price")] == ["id=1"]


@pytest.mark.parametrize("scheme", ["mysql", "mariadb"])
def test_an_unreachable_mysql_host_is_a_user_error(scheme, refused_port):
    with pytest.raises(UserError, match=rf"^cannot reach MySQL/MariaDB at 127\.0\.0\.1:{refused_port}"):
        open_source(f"{scheme}://bkntc:secret@127.0.0.1:{refused_port}/booknetic")


@pytest.mark.mariadb
def test_a_wrong_password_says_access_denied_without_the_password(mariadb_url):
    wrong = mariadb_url.replace(":secret@", ":hunter2@")
    with pytest.raises(UserError, match=r"^access denied for user 'bkntc'") as raised:
        open_source(wrong)
    assert "hunter2" not in str(raised.value)


@pytest.mark.mariadb
def test_an_unknown_database_is_named(mariadb_url):
    with pytest.raises(UserError, match=r"^unknown database 'no_such_db'"):
        open_source(mariadb_url.replace("/booknetic?", "/no_such_db?"))


@pytest.mark.mariadb
def test_a_database_without_booknetic_tables_names_the_missing_ones(mariadb_url):
    with pytest.raises(UserError, match=r"required Booknetic table missing in database 'booknetic': "
                                        r"nobk_bkntc_customers, nobk_bkntc_appointments"):
        open_source(mariadb_url.replace("prefix=wp_", "prefix=nobk_"))


@pytest.mark.mariadb
def test_the_description_of_a_database_masks_the_password(loaded_url):
    description = open_source(loaded_url).description
    assert "secret" not in description and "bkntc:***@127.0.0.1" in description


@pytest.mark.mariadb
def test_the_reading_session_is_read_only(loaded_url):
    from orchestration.source.mysql import MySQLURL, _read_only, connect

    connection = connect(MySQLURL.parse(loaded_url))
    _read_only(connection)
    with connection.cursor() as cursor, pytest.raises(Exception, match="READ ONLY"):
        cursor.execute("START TRANSACTION")
        cursor.execute("DELETE FROM rdr_bkntc_customers")
    connection.close()


def test_cli_check_source_counts_rows_per_table(csv_folder, tables):
    result = CliRunner().invoke(main, ["check-source", str(csv_folder)])
    assert result.exit_code == 0, result.output
    assert f"appointments {tables['appointments'].num_rows:>10,} rows".split() == \
        next(line for line in result.output.splitlines() if "appointments" in line).split()


def test_cli_missing_folder_fails_in_one_line(tmp_path):
    assert _one_line_cli_error("check-source", str(tmp_path / "nowhere")).startswith("Error: snapshot folder")


def test_cli_missing_table_fails_in_one_line(csv_folder, tmp_path):
    folder = tmp_path / "partial"
    shutil.copytree(csv_folder, folder)
    (folder / "wp_bkntc_services.csv").unlink()
    assert "wp_bkntc_services.csv" in _one_line_cli_error("check-source", str(folder))


def test_cli_unreachable_host_fails_in_one_line(refused_port):
    line = _one_line_cli_error("check-source", f"mysql://bkntc:secret@127.0.0.1:{refused_port}/booknetic")
    assert line.startswith("Error: cannot reach MySQL/MariaDB")


@pytest.mark.mariadb
def test_cli_wrong_password_fails_in_one_line_without_the_password(mariadb_url):
    line = _one_line_cli_error("check-source", mariadb_url.replace(":secret@", ":hunter2@"))
    assert line.startswith("Error: access denied for user 'bkntc'") and "hunter2" not in line


@pytest.mark.mariadb
def test_cli_unknown_database_fails_in_one_line(mariadb_url):
    line = _one_line_cli_error("check-source", mariadb_url.replace("/booknetic?", "/no_such_db?"))
    assert line.startswith("Error: unknown database 'no_such_db'")


@pytest.mark.mariadb
def test_cli_demo_data_loads_into_mariadb(mariadb_url):
    url = mariadb_url.replace("prefix=wp_", "prefix=cli_")
    result = CliRunner().invoke(main, ["demo-data", "--mysql", url, "--customers", "30", "--tenants", "0"])
    assert result.exit_code == 0, result.output
    assert open_source(url).read_table("customers").num_rows == 30
