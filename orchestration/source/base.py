"""The interface every Booknetic reader implements: canonical Arrow batches per table, and what it could not read."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator

import pyarrow as pa

from orchestration.source.schema import TABLES, Rejects


class BookneticSource(ABC):
    """Booknetic's tables, read as Arrow batches in the canonical schema of `orchestration.source.schema`."""

    description: str
    """Where the data comes from, safe to print (a password is masked)."""
    prefix: str
    """The WordPress table prefix, e.g. `wp_`."""
    rejects: Rejects
    """Values read as NULL because they did not fit their column (and CSV rows skipped), counted as reads go."""

    @abstractmethod
    def tables(self) -> list[str]:
        """Logical names of the tables present (`customers`, ..., and `tenants`, `options` when there)."""

    @abstractmethod
    def read(self, table: str) -> Iterator[pa.RecordBatch]:
        """Stream one table in its canonical schema; `options` holds only Booknetic's (`bkntc_*`) rows."""

    def read_table(self, table: str) -> pa.Table:
        """One whole table in its canonical schema (small tables; stream big ones with `read`)."""
        return pa.Table.from_batches(list(self.read(table)), schema=TABLES[table].schema)

    @abstractmethod
    def close(self) -> None:
        """Release what the source holds open."""

    def __enter__(self) -> BookneticSource:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
