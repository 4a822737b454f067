"""CSV cells that spreadsheets will not run as formulas: a cell starting with = + - @ (or tab, CR) gets a quote."""

from __future__ import annotations

import pandas as pd

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def escape_formula(value: str) -> str:
    """The cell text, prefixed with `'` when a spreadsheet would read it as a formula (OWASP CSV injection)."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def escape_formulas(values: pd.Series) -> pd.Series:
    """`escape_formula` for a whole column of text, vectorized (missing values stay missing)."""
    text = values.astype("str")
    risky = text.str.startswith(FORMULA_STARTS).fillna(False).astype(bool)
    return text.where(~risky, "'" + text)


def unescape_formula(value: str) -> str:
    """The cell text as written before `escape_formula` (drops the guarding quote), for re-imports."""
    return value[1:] if value.startswith("'") and value[1:].startswith(FORMULA_STARTS) else value
