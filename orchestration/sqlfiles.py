"""Loads the named SQL files kept in the project's `sql/` folder."""

from __future__ import annotations

from functools import cache
from pathlib import Path

SQL_DIR = Path(__file__).resolve().parent.parent / "sql"


@cache
def load_sql(name: str) -> str:
    """Text of `sql/<name>` (e.g. `warehouse/customers.sql`); parameters stay bound, never formatted in."""
    path = SQL_DIR / name
    if not path.is_file():
        raise FileNotFoundError(f"SQL file not found: {path}")
    return path.read_text(encoding="utf-8")
