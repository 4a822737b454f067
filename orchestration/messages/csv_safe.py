"""CSV cells that spreadsheets will not run as formulas: a cell starting with = + - @ (or tab, CR) gets a quote,
unless it is a plain number such as an E.164 phone (+18186617065) or -2.5, which a spreadsheet reads as a number.

OWASP's CSV-injection guidance names the leading characters; a value that is a valid number is not a formula,
so it is exported as it is (joins and re-imports keep working).
"""

from __future__ import annotations

import re

import pandas as pd

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
PLAIN_NUMBER = r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?"
_PLAIN_NUMBER = re.compile(PLAIN_NUMBER)


def is_formula(value: str) -> bool:
    """True when a spreadsheet would run the cell as a formula: a risky first character and not a plain number."""
    return value.startswith(FORMULA_STARTS) and _PLAIN_NUMBER.fullmatch(value) is None


def escape_formula(value: str) -> str:
    """The cell text, prefixed with `'` when a spreadsheet would read it as a formula (OWASP CSV injection)."""
    return "'" + value if is_formula(value) else value


def escape_formulas(values: pd.Series) -> pd.Series:
    """`escape_formula` for a whole column of text, vectorized (missing values stay missing)."""
    text = values.astype("str")
    risky = text.str.startswith(FORMULA_STARTS).fillna(False).astype(bool)
    number = text.str.fullmatch(PLAIN_NUMBER).fillna(False).astype(bool)
    return text.where(~risky | number, "'" + text)


def unescape_formula(value: str) -> str:
    """The cell text as written before `escape_formula` (drops the guarding quote), for re-imports; files written
    before plain numbers were left alone (`'+1555…`) read back too."""
    return value[1:] if value.startswith("'") and value[1:].startswith(FORMULA_STARTS) else value
