"""The suppression list: adding and removing numbers, searching, CSV import of real-world files, safe export."""

from __future__ import annotations

import csv
import io

import pandas as pd
import pytest
from click.testing import CliRunner

from orchestration.cli import main
from orchestration.errors import UserError
from orchestration.ledger import Ledger
from orchestration.ledger.suppression import ImportReport, SuppressionList
from orchestration.messages.csv_safe import escape_formula, escape_formulas


@pytest.fixture
def suppressed(home) -> SuppressionList:
    return SuppressionList(Ledger(home.ledger), 0)


# --- single numbers --------------------------------------------------------------------------------------


def test_a_national_number_is_stored_in_e164_with_the_tenant_region(suppressed):
    suppressed.add("(212) 555-0100", reason="asked by phone")
    assert [(e.phone_e164, e.reason, e.source) for e in suppressed.entries()] == [
        ("+12125550100", "asked by phone", "manual")
    ]


def test_adding_an_invalid_number_is_a_user_error_and_writes_nothing(suppressed):
    with pytest.raises(UserError, match="'12' is not a valid phone number"):
        suppressed.add("12")
    assert suppressed.numbers() == []


def test_adding_a_number_twice_keeps_one_row_and_the_first_reason(suppressed):
    assert suppressed.add("+12125550100", reason="first")
    assert not suppressed.add("212-555-0100", reason="second", source="provider_opt_out")
    assert [(e.reason, e.source) for e in suppressed.entries()] == [("first", "manual")]


def test_an_unknown_source_is_refused(suppressed):
    with pytest.raises(UserError, match="Unknown source"):
        suppressed.add("+12125550100", source="rumour")


def test_removing_a_number_lifts_its_suppression(suppressed):
    suppressed.add("+12125550100")
    assert suppressed.remove("(212) 555-0100")
    assert not suppressed.remove("+12125550100")
    assert suppressed.numbers() == []


def test_search_finds_numbers_by_a_substring_written_with_separators(suppressed):
    suppressed.add("+12125550100")
    suppressed.add("+13125550199")
    assert [e.phone_e164 for e in suppressed.entries("555-0199")] == ["+13125550199"]


def test_search_finds_numbers_by_their_reason(suppressed):
    suppressed.add("+12125550100", reason="STOP reply")
    suppressed.add("+13125550199", reason="complaint")
    assert [e.phone_e164 for e in suppressed.entries("stop")] == ["+12125550100"]


def test_search_treats_like_wildcards_as_plain_text(suppressed):
    suppressed.add("+12125550100", reason="100% sure")
    suppressed.add("+13125550199", reason="other")
    assert [e.phone_e164 for e in suppressed.entries("%")] == ["+12125550100"]


def test_contains_many_returns_only_the_suppressed_ones(suppressed):
    suppressed.add("+12125550100")
    many = [f"+1212555{i:04d}" for i in range(1200)]  # more than one IN (...) chunk
    assert suppressed.contains_many(many) == {"+12125550100"}


# --- CSV import --------------------------------------------------------------------------------------------


def test_import_reads_a_utf8_bom_semicolon_file_with_quoted_fields(suppressed):
    data = '\ufeffName;Phone;Reason\n"Lee; Ann";"+1 212 555 0100";"said ""stop"""\n'.encode()
    assert suppressed.import_csv(data) == ImportReport(added=1)
    assert [(e.phone_e164, e.reason) for e in suppressed.entries()] == [("+12125550100", 'said "stop"')]


def test_import_reads_a_comma_file_with_a_phone_number_header(suppressed):
    data = b'first_name,phone_number\n"Lee, Ann",2125550100\nBo,+13125550199\n'
    assert suppressed.import_csv(data) == ImportReport(added=2)


@pytest.mark.parametrize("header", ["phone", "Phone Number", "number", "MOBILE"])
def test_import_recognizes_the_phone_column_names(suppressed, header):
    assert suppressed.import_csv(f"{header}\n+12125550100\n".encode()).added == 1


def test_import_reads_a_file_without_header_one_number_per_line(suppressed):
    assert suppressed.import_csv(b"+12125550100\r\n(312) 555-0199\r\n").added == 2


def test_import_reports_duplicates_invalid_rows_and_numbers_already_present(suppressed):
    suppressed.add("+12125550100")
    data = b"phone\n+12125550100\n3125550199\n+1 312 555 0199\nnot a phone\n\n12\n"
    assert suppressed.import_csv(data) == ImportReport(
        added=1, already_present=1, duplicates_in_file=1, invalid=[(5, "not a phone"), (7, "12")]
    )


def test_imported_rows_are_marked_as_imported_with_the_given_reason(suppressed):
    suppressed.import_csv(b"+12125550100\n", reason="old opt-outs")
    assert [(e.source, e.reason) for e in suppressed.entries()] == [("import", "old opt-outs")]


@pytest.mark.parametrize("data", [b"", b"\xef\xbb\xbf", b"\n \n"])
def test_importing_an_empty_file_is_a_clear_error(suppressed, data):
    with pytest.raises(UserError, match="The file is empty"):
        suppressed.import_csv(data)


def test_importing_a_file_without_a_phone_column_names_the_columns_found(suppressed):
    with pytest.raises(UserError, match="No phone column in the file: the first row has 'name', 'email'"):
        suppressed.import_csv(b"name,email\nAnn,ann@example.com\n")


def test_importing_a_header_without_rows_is_a_clear_error(suppressed):
    with pytest.raises(UserError, match="header row but no phone numbers"):
        suppressed.import_csv(b"phone\n")


def test_importing_a_missing_file_is_a_clear_error(suppressed, tmp_path):
    with pytest.raises(UserError, match="Cannot read"):
        suppressed.import_csv(tmp_path / "missing.csv")


def test_import_reads_a_file_path(suppressed, tmp_path):
    path = tmp_path / "list.csv"
    path.write_bytes(b"mobile\n+12125550100\n")
    assert suppressed.import_csv(path).added == 1


# --- export ----------------------------------------------------------------------------------------------


def test_export_escapes_cells_a_spreadsheet_would_run_as_formulas(suppressed):
    suppressed.add("+12125550100", reason="=HYPERLINK(\"http://evil\")")
    rows = list(csv.reader(io.StringIO(suppressed.export_csv())))
    assert rows[0] == ["phone_e164", "reason", "source", "added_at"]
    assert rows[1][:3] == ["+12125550100", "'=HYPERLINK(\"http://evil\")", "manual"]


def test_an_exported_list_imports_back_into_the_same_numbers(home, suppressed):
    suppressed.add("+12125550100")
    suppressed.add("+442079460018")
    other = SuppressionList(Ledger(home.ledger), 9)
    assert other.import_csv(suppressed.export_csv().encode()).added == 2
    assert other.numbers() == suppressed.numbers()


@pytest.mark.parametrize(
    ("value", "escaped"),
    [("=1+1", "'=1+1"), ("+1555", "+1555"), ("-2", "-2"), ("-2.5e3", "-2.5e3"), ("+1-1", "'+1-1"),
     ("-A1", "'-A1"), ("+", "'+"), ("@SUM(A1)", "'@SUM(A1)"), ("\tx", "'\tx"), ("plain", "plain"), ("", "")],
)  # fmt: skip
def test_escape_formula_prefixes_only_cells_a_spreadsheet_would_run_and_leaves_plain_numbers(value, escaped):
    assert escape_formula(value) == escaped


def test_escape_formulas_agrees_with_escape_formula_for_a_column():
    values = ["=1+1", "+1555", "+18186617065", "-3", "-x", "plain", "", "@x"]
    assert escape_formulas(pd.Series(values)).tolist() == [escape_formula(v) for v in values]


# --- the CLI ---------------------------------------------------------------------------------------------


def _cli(home, *args: str):
    return CliRunner().invoke(main, ["--home", str(home.root), *args], catch_exceptions=False)


def test_cli_import_reports_added_and_invalid_rows(home, tmp_path):
    path = tmp_path / "list.csv"
    path.write_bytes(b"phone\n+12125550100\nnope\n")
    result = _cli(home, "suppression", "import", str(path), "--tenant", "5")
    assert result.output == (
        "Added 1, already suppressed 0, repeated in the file 0, invalid 1.\n"
        "  line 3: 'nope' is not a valid phone number\n"
    )


def test_cli_export_writes_formula_escaped_csv(home):
    _cli(home, "suppression", "add", "+12125550100", "--reason", "@risky")
    lines = _cli(home, "suppression", "export").output.splitlines()
    assert lines[0] == "phone_e164,reason,source,added_at" and lines[1].startswith("+12125550100,'@risky,manual,")


def test_cli_add_of_an_invalid_number_prints_one_error_line(home):
    result = _cli(home, "suppression", "add", "12")
    assert (result.exit_code, result.output) == (
        2,
        "Error: '12' is not a valid phone number (numbers without + are read as US)\n",
    )
