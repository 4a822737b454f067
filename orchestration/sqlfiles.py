"""Loads the named SQL files kept in the project's `sql/` folder.

A ledger file is written for SQLite. On a PostgreSQL ledger (`postgres_sql`) it is used rewritten: the SQLite
functions PostgreSQL spells differently (`json_each`, `json_extract`, two-argument `max`/`min`) become PostgreSQL's,
and the parameter marks (`?`, `:name`) psycopg's (`%s`, `%(name)s`), always outside string literals, quoted names
and comments. A file whose difference no rewrite can make (a row lock, `INSERT OR IGNORE`, `ILIKE`, ...) has a
PostgreSQL variant at `sql/postgres/<the same name>`, used instead, as written but for the marks.
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


# What the dialect rewrite reads: a literal, a quoted name or a comment (each kept whole), a parenthesis, a comma,
# or a run of anything else (broken at `-` and `/`, which may start a comment).
_LEXEMES = re.compile(r"'(?:[^']|'')*'|\"[^\"]*\"|--[^\n]*|/\*.*?\*/|[(),]|[^'\"(),/-]+|.", re.DOTALL)
_CALLED = re.compile(r"(?<![\w.])(json_each|json_extract|max|min)\s*$", re.IGNORECASE)
_JSON_KEY = re.compile(r"'\$\.([A-Za-z_]\w*)'")


def _call(name: str, args: list[str]) -> str | None:
    """PostgreSQL's spelling of SQLite's call `name(args)`, or None where the two agree (or no rewrite is known).

    `json_each(x)` reads a JSON array bound as text; PostgreSQL's elements, in a column named `value` too, are
    text where SQLite's keep their JSON type, so a file comparing them with numbers casts them
    (`CAST(value AS BIGINT)`, a no-op on SQLite). `greatest`/`least` skip a NULL where SQLite's `max`/`min` return
    NULL: pass them none, or `coalesce` it.
    """
    if name == "json_each" and len(args) == 1:
        return f"json_array_elements_text(CAST({args[0].strip()} AS json))"
    key = _JSON_KEY.fullmatch(args[1].strip()) if name == "json_extract" and len(args) == 2 else None
    if key:
        return f"(CAST({args[0].strip()} AS json) ->> '{key.group(1)}')"
    if name in ("max", "min") and len(args) >= 2:  # one argument is the aggregate, the same on both
        return ("greatest" if name == "max" else "least") + "(" + ",".join(args) + ")"
    return None


def _rewritten(items: list) -> str:
    """The text of `items` (lexemes, and a parenthesized run as a nested list), its SQLite calls as PostgreSQL's."""
    out: list[str] = []
    for item in items:
        if isinstance(item, str):
            out.append(item)
            continue
        args: list[list] = [[]]
        for lexeme in item:
            if lexeme == ",":
                args.append([])
            else:
                args[-1].append(lexeme)
        texts = [_rewritten(arg) for arg in args]
        called = _CALLED.search(out[-1]) if out else None
        replaced = _call(called.group(1).lower(), texts) if called else None
        if replaced is None:
            out.append("(" + ",".join(texts) + ")")
        else:
            out[-1] = out[-1][: called.start()] + replaced
    return "".join(out)


@cache
def to_postgres_dialect(sql: str) -> str:
    """`sql` with SQLite's `json_each`, `json_extract(x, '$.key')` and two-argument `max`/`min` as PostgreSQL's
    (see `_call`), outside literals, quoted names and comments; unbalanced parentheses: `sql` as written."""
    root: list = []
    stack = [root]
    for lexeme in _LEXEMES.findall(sql):
        if lexeme == "(":
            stack[-1].append([])
            stack.append(stack[-1][-1])
        elif lexeme == ")":
            if len(stack) == 1:
                return sql
            stack.pop()
        else:
            stack[-1].append(lexeme)
    return _rewritten(root) if len(stack) == 1 else sql


@cache
def _variant(name: str) -> str | None:
    path = POSTGRES_DIR / name
    return path.read_text(encoding="utf-8") if path.is_file() else None


def postgres_sql(sql: str) -> str:
    """The statement to run on a PostgreSQL ledger, in psycopg's marks: the file's PostgreSQL variant if it has one,
    else the file (or string) in PostgreSQL's dialect."""
    variant = _variant(sql.name) if isinstance(sql, SqlText) else None
    return to_psycopg(variant if variant is not None else to_postgres_dialect(str(sql)))
