"""Loads the named SQL files kept in the project's `sql/` folder.

A ledger file may have a PostgreSQL variant at `sql/postgres/<the same name>`, used instead of the shared file
when the ledger is PostgreSQL (`postgres_sql`); the shared file is written for SQLite and for every dialect where
the two agree. Every file binds its parameters SQLite's way (`?` or `:name`); `postgres_sql` rewrites them to
psycopg's (`%s`, `%(name)s`), outside string literals, quoted names and comments.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

SQL_DIR = Path(__file__).resolve().parent.parent / "sql"
POSTGRES_DIR = SQL_DIR / "postgres"


class SqlText(str):
    """The text of one SQL file, which remembers its name (so a PostgreSQL ledger can pick the file's variant)."""

    name: str

    def __new__(cls, text: str, name: str) -> SqlText:
        made = super().__new__(cls, text)
        made.name = name
        return made


_MIGRATION_NAME = re.compile(r"^(\d{3})_[a-z0-9_]+\.sql$")


def migration_files(folder: Path) -> list[tuple[int, Path]]:
    """The migrations in `folder` (`NNN_name.sql`), in order: (version, file)."""
    found = []
    for path in sorted(folder.glob("*.sql")):
        match = _MIGRATION_NAME.match(path.name)
        if match:
            found.append((int(match.group(1)), path))
    return found


@cache
def load_sql(name: str) -> SqlText:
    """Text of `sql/<name>` (e.g. `warehouse/customers.sql`); parameters stay bound, never formatted in."""
    path = SQL_DIR / name
    if not path.is_file():
        raise FileNotFoundError(f"SQL file not found: {path}")
    return SqlText(path.read_text(encoding="utf-8"), name)


# A string literal, a quoted name, a comment, a `::` cast, or one of the things rewritten: `?`, `:name`, `%`.
_TOKENS = re.compile(r"'(?:[^']|'')*'|\"[^\"]*\"|--[^\n]*|/\*.*?\*/|::|\?|:([A-Za-z_]\w*)|%", re.DOTALL)


@cache
def to_psycopg(sql: str) -> str:
    """`sql` with SQLite's parameter marks as psycopg's: `?` -> `%s`, `:name` -> `%(name)s`, `%` -> `%%`.

    A `%` is doubled everywhere (psycopg reads marks inside literals too); `?` and `:name` only outside them.
    """

    def rewrite(match: re.Match[str]) -> str:
        token = match.group(0)
        if token == "?":
            return "%s"
        if match.group(1):
            return f"%({match.group(1)})s"
        return token.replace("%", "%%")  # a literal, a quoted name, a comment, a cast: as written

    return _TOKENS.sub(rewrite, sql)


@cache
def _variant(name: str) -> str | None:
    path = POSTGRES_DIR / name
    return path.read_text(encoding="utf-8") if path.is_file() else None


def postgres_sql(sql: str) -> str:
    """The statement to run on a PostgreSQL ledger: the file's PostgreSQL variant if it has one, in psycopg's marks."""
    if isinstance(sql, SqlText):
        sql = _variant(sql.name) or sql
    return to_psycopg(str(sql))
