"""The Booknetic source: one interface over a snapshot folder and a live MySQL/MariaDB database."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa

from orchestration.errors import UserError


class BookneticSource(ABC):
    """Booknetic's tables, read as Arrow batches in the canonical schema of `orchestration.source.schema`."""

    description: str
    """Where the data comes from, safe to print (a password is masked)."""
    prefix: str
    """The WordPress table prefix, e.g. `wp_`."""

    @abstractmethod
    def tables(self) -> list[str]:
        """Logical names of the tables present (`customers`, ..., and `tenants`, `options` when there)."""

    @abstractmethod
    def read(self, table: str) -> Iterator[pa.RecordBatch]:
        """Stream one table in its canonical schema; `options` holds only Booknetic's (`bkntc_*`) rows."""

    def read_table(self, table: str) -> pa.Table:
        """One whole table in its canonical schema (small tables; stream big ones with `read`)."""
        from orchestration.source.schema import TABLES

        return pa.Table.from_batches(list(self.read(table)), schema=TABLES[table].schema)

    @abstractmethod
    def close(self) -> None:
        """Release what the source holds open."""

    def __enter__(self) -> BookneticSource:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def open_source(spec: str) -> BookneticSource:
    """A folder path, or `mysql://user:pass@host:port/db?prefix=wp_` (`mariadb://` too)."""
    spec = str(spec).strip()
    if not spec:
        raise UserError("no Booknetic source given: pass a snapshot folder or a mysql:// URL")
    if spec.split("://", 1)[0].lower() in ("mysql", "mariadb") and "://" in spec:
        from orchestration.source.mysql import MySQLSource

        return MySQLSource(spec)
    if "://" in spec:
        raise UserError(f"unsupported source {spec.split('://', 1)[0]}://...: use a folder or a mysql:// URL")
    from orchestration.source.folder import SnapshotFolder

    return SnapshotFolder(Path(spec))


__all__ = ["BookneticSource", "open_source"]
