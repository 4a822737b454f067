"""A snapshot folder of Booknetic table exports (phpMyAdmin CSV or parquet): read vectorized into Arrow, and written."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from orchestration.errors import UserError
from orchestration.source.base import BookneticSource
from orchestration.source.schema import OPTIONS_PREFIX, REQUIRED_TABLES, TABLES, Rejects, conform, missing_columns

SUFFIXES = (".csv", ".parquet")
_ANCHOR = re.compile(r"^(?P<prefix>[A-Za-z0-9_]*?)bkntc_customers\.(csv|parquet)$")
CSV_BLOCK_BYTES = 16 << 20


class SnapshotFolder(BookneticSource):
    """`{prefix}bkntc_<table>.csv|.parquet` files (and `{prefix}options`); the prefix is read off the file names."""

    def __init__(self, folder: Path) -> None:
        if not folder.is_dir():
            raise UserError(f"snapshot folder {folder} does not exist" if not folder.exists()
                            else f"{folder} is not a folder")
        self.folder = folder
        self.description = f"snapshot folder {folder}"
        self.prefix = _detect_prefix(folder)
        self.rejects = Rejects()
        self._files: dict[str, Path] = {}
        for name, table in TABLES.items():
            found = [folder / f"{table.table_name(self.prefix)}{suffix}" for suffix in SUFFIXES]
            found = [path for path in found if path.is_file()]
            if len(found) > 1:
                raise UserError(f"both {found[0].name} and {found[1].name} are in {folder}: keep one")
            if found:
                self._files[name] = found[0]
        missing = [name for name in REQUIRED_TABLES if name not in self._files]
        if missing:
            wanted = ", ".join(f"{TABLES[name].table_name(self.prefix)}.csv" for name in missing)
            raise UserError(f"required Booknetic table missing in {folder}: {wanted} (or .parquet)")
        for name, path in self._files.items():
            absent = missing_columns(name, _header(path))
            if absent:
                raise UserError(f"{path.name} lacks the column(s) {', '.join(absent)}")

    def tables(self) -> list[str]:
        return list(self._files)

    def close(self) -> None:
        """Nothing to release: files are opened per read."""

    def read(self, table: str) -> Iterator[pa.RecordBatch]:
        path = self._files.get(table)
        if path is None:
            raise UserError(f"table {table} is not in {self.description}")
        batches = (_csv_batches(path, self.rejects) if path.suffix == ".csv"
                   else pq.ParquetFile(path).iter_batches(1 << 17))
        for batch in batches:
            if table == "options":
                names = {name.lower(): name for name in batch.schema.names}
                batch = batch.filter(pc.starts_with(batch.column(names["option_name"]), OPTIONS_PREFIX))
            yield conform(batch, table, path.name, self.rejects)


def _detect_prefix(folder: Path) -> str:
    prefixes = sorted({m["prefix"] for m in (_ANCHOR.match(p.name) for p in folder.iterdir()) if m})
    if not prefixes:
        raise UserError(f"required Booknetic table missing in {folder}: no *bkntc_customers.csv (or .parquet)")
    if len(prefixes) > 1:
        raise UserError(f"{folder} holds several Booknetic installs (prefixes {', '.join(prefixes)}): keep one")
    return prefixes[0]


def _header(path: Path) -> list[str]:
    try:
        if path.suffix == ".parquet":
            return pq.read_schema(path).names
        with pacsv.open_csv(path, read_options=pacsv.ReadOptions(block_size=1 << 16),
                            parse_options=pacsv.ParseOptions(newlines_in_values=True)) as reader:
            return reader.schema.names
    except (pa.ArrowInvalid, OSError) as exc:
        raise UserError(f"{path.name} cannot be read: {str(exc).splitlines()[0]}") from None


def _csv_batches(path: Path, rejects: Rejects) -> Iterator[pa.RecordBatch]:
    """The file's rows as text; a row that does not split into the header's columns is skipped and counted."""
    names = _header(path)

    def skip(row: pacsv.InvalidRow) -> str:
        rejects.add(path.name, "*", 1, [f"line={row.number}"] if row.number is not None else [])
        return "skip"

    options = pacsv.ConvertOptions(
        column_types={name: pa.string() for name in names},
        null_values=["NULL"],
        strings_can_be_null=True,
        quoted_strings_can_be_null=False,
    )
    try:
        with pacsv.open_csv(path, read_options=pacsv.ReadOptions(block_size=CSV_BLOCK_BYTES),
                            parse_options=pacsv.ParseOptions(newlines_in_values=True, invalid_row_handler=skip),
                            convert_options=options) as reader:
            yield from reader
    except pa.ArrowInvalid as exc:
        raise UserError(f"{path.name} is not a valid CSV export: {str(exc).splitlines()[0]}") from None


def write_csv(table: pa.Table, path: Path) -> None:
    """One table as phpMyAdmin exports it: header, every value double-quoted, unquoted NULL for NULL."""
    pacsv.write_csv(table, path, pacsv.WriteOptions(quoting_style="all_valid", null_string="NULL"))
