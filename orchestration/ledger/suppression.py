"""A tenant's suppression list: numbers (E.164) that never get a message, with CSV import and export, and the
append-only log of every change (who added or removed a number, why, and the inbound message that did it)."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass, field

import phonenumbers

from orchestration.auth import audit
from orchestration.errors import UserError
from orchestration.ledger.store import Ledger
from orchestration.messages.csv_safe import escape_formula, unescape_formula
from orchestration.sqlfiles import load_sql
from orchestration.tenants.settings import check_tenant_id, ensure_tenant_row, get_settings

SOURCES = ("manual", "import", "provider_opt_out", "inbound")
PHONE_HEADERS = ("phone", "phone_number", "number", "mobile", "mobile_number", "phone_e164")
EXPORT_COLUMNS = ("phone_e164", "reason", "source", "added_at")


@dataclass(frozen=True)
class SuppressionEntry:
    """One suppressed number of a tenant."""

    phone_e164: str
    reason: str
    source: str
    added_at: str
    source_sid: str | None = None  # the inbound message (STOP) that added it


@dataclass(frozen=True)
class SuppressionChange:
    """One change of a tenant's suppression list: `added` or `removed`, by whom (`source`) and why."""

    phone_e164: str
    change: str
    source: str
    reason: str
    source_sid: str | None
    changed_at: str


@dataclass
class ImportReport:
    """What a CSV import did: numbers added, already suppressed, repeated in the file, and rejected rows."""

    added: int = 0
    already_present: int = 0
    duplicates_in_file: int = 0
    invalid: list[tuple[int, str]] = field(default_factory=list)  # (line number, cell as written)


def to_e164(raw: str, region: str) -> str | None:
    """The number in E.164 (national numbers read with `region`), or None when it is not a valid number."""
    text = unescape_formula(str(raw).strip())
    if not text:
        return None
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def add_in(
    con: sqlite3.Connection, tenant_id: int, e164: str, reason: str, source: str, source_sid: str | None = None
) -> bool:
    """Inside a write transaction (tenant row ensured): suppress an E.164 number; False when it already was. The
    addition is logged in `suppression_changes` by the ledger itself (a trigger)."""
    return con.execute(
        load_sql("ledger/queries/suppression_add.sql"),
        {"tenant_id": tenant_id, "phone_e164": e164, "reason": reason, "source": source, "source_sid": source_sid},
    ).rowcount > 0


def source_of(con: sqlite3.Connection, tenant_id: int, e164: str) -> str | None:
    """Who suppressed this number (manual, import, provider_opt_out, inbound), or None when it is not suppressed."""
    row = con.execute(load_sql("ledger/queries/suppression_source.sql"),
                      {"tenant_id": tenant_id, "phone_e164": e164}).fetchone()
    return row["source"] if row else None


def remove_in(
    con: sqlite3.Connection, tenant_id: int, e164: str, source: str, reason: str, source_sid: str | None = None
) -> bool:
    """Inside a write transaction: lift one number's suppression and log who did it; False when it was not
    suppressed."""
    removed = con.execute(
        load_sql("ledger/queries/suppression_remove.sql"), {"tenant_id": tenant_id, "phone_e164": e164}
    ).rowcount > 0
    if removed:
        con.execute(
            load_sql("ledger/queries/suppression_change_removed.sql"),
            {"tenant_id": tenant_id, "phone_e164": e164, "source": source, "reason": reason,
             "source_sid": source_sid},
        )
    return removed


def _present(con: sqlite3.Connection, tenant_id: int, numbers: list[str]) -> set[str]:
    rows = con.execute(
        load_sql("ledger/queries/suppression_present.sql"), {"tenant_id": tenant_id, "numbers": json.dumps(numbers)}
    )
    return {row[0] for row in rows}


class SuppressionList:
    """The suppression list of one tenant; phones are normalized with the tenant's default region."""

    def __init__(self, ledger: Ledger, tenant_id: int):
        self.ledger = ledger
        self.tenant_id = check_tenant_id(tenant_id)

    def region(self) -> str:
        return get_settings(self.ledger, self.tenant_id).default_region

    def normalize(self, raw: str) -> str:
        """One number in E.164, or a UserError saying why it is not a phone number."""
        region = self.region()
        e164 = to_e164(raw, region)
        if e164 is None:
            raise UserError(f"{raw!r} is not a valid phone number (numbers without + are read as {region})")
        return e164

    def add(self, raw: str, reason: str = "", source: str = "manual", source_sid: str | None = None) -> bool:
        """Suppress one number; False when it was already suppressed (its first reason and source are kept)."""
        if source not in SOURCES:
            raise UserError(f"Unknown source {source!r}; use one of {', '.join(SOURCES)}")
        e164 = self.normalize(raw)
        with self.ledger.write() as con:
            ensure_tenant_row(con, self.tenant_id)
            added = add_in(con, self.tenant_id, e164, reason.strip(), source, source_sid)
            audit.record(con, self.tenant_id, "suppression.add", e164, f"{source}: {reason.strip()}")
        return added

    def remove(self, raw: str) -> bool:
        """Lift the suppression of one number (a person's decision, logged as `manual`); False when it was not
        suppressed."""
        e164 = self.normalize(raw)
        with self.ledger.write() as con:
            removed = remove_in(con, self.tenant_id, e164, "manual", "removed by a person")
            audit.record(con, self.tenant_id, "suppression.remove", e164)
        return removed

    def changes(self, phone: str | None = None, limit: int | None = None) -> list[SuppressionChange]:
        """The list's changes, newest first (of one number when `phone` is given)."""
        e164 = self.normalize(phone) if phone else None
        with self.ledger.read() as con:
            rows = con.execute(
                load_sql("ledger/queries/suppression_changes.sql"),
                {"tenant_id": self.tenant_id, "phone_e164": e164, "limit": -1 if limit is None else limit},
            ).fetchall()
        return [SuppressionChange(**dict(row)) for row in rows]

    def entries(self, search: str = "", limit: int | None = None) -> list[SuppressionEntry]:
        """Suppressed numbers, by number; `search` keeps those whose number or reason contains it."""
        term = search.strip()
        digits = re.sub(r"[\s\-().]", "", term)
        pattern = "%" + re.sub(r"([\\%_])", r"\\\1", term) + "%"
        digit_pattern = "%" + re.sub(r"([\\%_])", r"\\\1", digits) + "%"
        with self.ledger.read() as con:
            rows = con.execute(
                load_sql("ledger/queries/suppression_search.sql"),
                {
                    "tenant_id": self.tenant_id,
                    "pattern": pattern,
                    "digit_pattern": digit_pattern,
                    "limit": -1 if limit is None else limit,
                },
            ).fetchall()
        return [SuppressionEntry(**dict(row)) for row in rows]

    def count(self) -> int:
        with self.ledger.read() as con:
            return con.execute(
                load_sql("ledger/queries/suppression_count.sql"), {"tenant_id": self.tenant_id}
            ).fetchone()[0]

    def numbers(self) -> list[str]:
        """Every suppressed number (E.164), sorted: for the audiences' anti-join and the sender."""
        with self.ledger.read() as con:
            rows = con.execute(load_sql("ledger/queries/suppression_numbers.sql"), {"tenant_id": self.tenant_id})
            return [row[0] for row in rows]

    def contains_many(self, numbers: Iterable[str]) -> set[str]:
        """Which of these E.164 numbers are suppressed (numbers are compared as given, not re-parsed)."""
        wanted = sorted(set(numbers))
        with self.ledger.read() as con:
            return _present(con, self.tenant_id, wanted)

    def import_csv(self, data: bytes | str | os.PathLike[str], reason: str = "") -> ImportReport:
        """Suppress every valid number of a CSV file (or its bytes), in one transaction.

        The file may start with a BOM, use commas, semicolons or tabs, quote its fields, and either have a
        header row naming the phone column (phone, phone_number, number, mobile) or no header at all.
        A `reason` column, when present, gives each row's reason; otherwise `reason` is used.
        """
        raw = data if isinstance(data, bytes) else _read_file(data)
        rows = _parse_csv(raw)
        region = self.region()
        report = ImportReport()
        found: dict[str, str] = {}
        for line, phone, row_reason in rows:
            e164 = to_e164(phone, region)
            if e164 is None:
                report.invalid.append((line, phone))
            elif e164 in found:
                report.duplicates_in_file += 1
            else:
                found[e164] = (row_reason or reason).strip()
        with self.ledger.write() as con:
            ensure_tenant_row(con, self.tenant_id)
            present = _present(con, self.tenant_id, list(found))
            new = [
                {"tenant_id": self.tenant_id, "phone_e164": e164, "reason": why}
                for e164, why in found.items()
                if e164 not in present
            ]
            con.executemany(load_sql("ledger/queries/suppression_import.sql"), new)
            audit.record(con, self.tenant_id, "suppression.import", f"{len(new)} numbers added", reason.strip())
        report.added, report.already_present = len(new), len(present)
        return report

    def export_csv(self) -> str:
        """The whole list as CSV text (header phone_e164,reason,source,added_at), every cell formula-escaped."""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(EXPORT_COLUMNS)
        for entry in self.entries():
            writer.writerow(escape_formula(str(getattr(entry, column))) for column in EXPORT_COLUMNS)
        return out.getvalue()


def _read_file(path: str | os.PathLike[str]) -> bytes:
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except OSError as exc:
        raise UserError(f"Cannot read {os.fspath(path)}: {exc.strerror}") from None


def _decode(raw: bytes) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="replace")


def _delimiter(text: str) -> str:
    sample = "\n".join(text.splitlines()[:20])
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t").delimiter
    except csv.Error:
        pass
    first_line = next(line for line in text.splitlines() if line.strip())
    widths = {delimiter: len(next(csv.reader([first_line], delimiter=delimiter))) for delimiter in ",;\t"}
    best = max(widths, key=lambda delimiter: widths[delimiter])
    return best if widths[best] > 1 else ","


def _header_key(cell: str) -> str:
    return re.sub(r"[\s\-]+", "_", cell.strip().lower())


def _looks_like_phone(cell: str) -> bool:
    return len(re.sub(r"\D", "", cell)) >= 5 and not re.search(r"[A-Za-z]{2,}", cell)


def _parse_csv(raw: bytes) -> list[tuple[int, str, str]]:
    """(line number, phone cell, reason cell) per data row; a UserError for an empty file or no phone column."""
    text = _decode(raw)
    if not text.strip():
        raise UserError("The file is empty: expected one phone number per row (a header row 'phone' is optional)")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text))
    try:
        rows = [(reader.line_num, row) for row in reader if any(cell.strip() for cell in row)]
    except csv.Error as exc:
        raise UserError(f"The file is not a readable CSV file (line {reader.line_num}: {exc})") from None
    _, first = rows[0]
    keys = [_header_key(cell) for cell in first]
    phone_column = next((keys.index(name) for name in PHONE_HEADERS if name in keys), None)
    if phone_column is not None:
        reason_column = keys.index("reason") if "reason" in keys else None
        data = rows[1:]
        if not data:
            raise UserError("The file has a header row but no phone numbers")
    elif any(_looks_like_phone(cell) for cell in first):
        phone_column = next(index for index, cell in enumerate(first) if _looks_like_phone(cell))
        reason_column, data = None, rows
    else:
        columns = ", ".join(repr(cell.strip()) for cell in first)
        raise UserError(
            f"No phone column in the file: the first row has {columns}; name the phone column "
            f"{', '.join(PHONE_HEADERS[:4])}, or give one phone number per row without a header"
        )
    parsed = []
    for line, row in data:
        phone = row[phone_column].strip() if phone_column < len(row) else ""
        why = row[reason_column].strip() if reason_column is not None and reason_column < len(row) else ""
        parsed.append((line, phone, why))
    return parsed
