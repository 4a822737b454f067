"""Booknetic shortcodes in message templates: validation, and rendering for one recipient or a whole frame.

Values come from the recipient columns the audiences produce (customer_id, first_name, last_name, full_name,
phone_e164, email, anchor_appointment_id, anchor_starts_at, anchor_ends_at, anchor_status, service_name,
service_price, service_duration, staff_name, staff_phone, location_name, location_address) and from the
tenant's company details (a dict with name, phone, address, website: the warehouse `company` row).
A shortcode without a value renders as an empty string, or as its fallback when written `{code|fallback}`
(e.g. `Hi {customer_first_name|there}`: "Hi there" for a recipient without a first name; the fallback is plain
text without braces or '|'). Dates and times are rendered in UTC.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd

from orchestration.errors import UserError

MAX_BODY_CHARS = 1600  # Twilio's limit for one message body

SHORTCODES: dict[str, str] = {
    "customer_full_name": "first and last name",
    "customer_name": "full name, or the first name when there is no last name",
    "customer_first_name": "first name",
    "customer_last_name": "last name",
    "customer_phone": "phone number (E.164)",
    "customer_email": "email address",
    "appointment_id": "appointment number",
    "appointment_date": "appointment date, YYYY-MM-DD (UTC)",
    "appointment_start_time": "start time, HH:MM (UTC)",
    "appointment_end_time": "end time, HH:MM (UTC)",
    "appointment_date_time": "date and start time, YYYY-MM-DD HH:MM (UTC)",
    "appointment_status": "appointment status (approved, pending, ...)",
    "service_name": "service name",
    "service_price": "service price, two decimals",
    "service_duration": "service duration in minutes",
    "staff_name": "staff member's name",
    "staff_phone": "staff member's phone",
    "location_name": "location name",
    "location_address": "location address",
    "company_name": "company name",
    "company_phone": "company phone",
    "company_address": "company address",
    "company_website": "company website",
}

_TEXT_COLUMNS = {
    "customer_first_name": "first_name",
    "customer_last_name": "last_name",
    "customer_phone": "phone_e164",
    "customer_email": "email",
    "appointment_status": "anchor_status",
    "service_name": "service_name",
    "staff_name": "staff_name",
    "staff_phone": "staff_phone",
    "location_name": "location_name",
    "location_address": "location_address",
}
_INTEGER_COLUMNS = {"appointment_id": "anchor_appointment_id", "service_duration": "service_duration"}
_TIME_FORMATS = {
    "appointment_date": ("anchor_starts_at", "%Y-%m-%d"),
    "appointment_start_time": ("anchor_starts_at", "%H:%M"),
    "appointment_end_time": ("anchor_ends_at", "%H:%M"),
    "appointment_date_time": ("anchor_starts_at", "%Y-%m-%d %H:%M"),
}
_DAY_S = 86_400
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_CLOCK = pd.Series([f"{minute // 60:02d}:{minute % 60:02d}" for minute in range(1440)], dtype="str")
_COMPANY_PREFIX = "company_"

_INNERMOST = re.compile(r"\{([^{}]*)\}")
_SPLIT = re.compile(r"\{([a-z0-9_]+)(?:\|([^{}|]*))?\}")  # {code} or {code|fallback}


def known_shortcodes() -> str:
    """The shortcodes a template may use, written as `{code}`, comma-separated."""
    return ", ".join(f"{{{code}}}" for code in SHORTCODES)


def _brace_problems(body: str) -> list[str]:
    problems, open_at = [], []
    for position, char in enumerate(body, start=1):
        if char == "{":
            if open_at:
                problems.append(f"'{{' at character {position} is nested inside another shortcode")
            open_at.append(position)
        elif char == "}":
            if open_at:
                open_at.pop()
            else:
                problems.append(f"'}}' at character {position} has no matching '{{'")
    problems.extend(f"'{{' at character {position} is never closed" for position in open_at)
    return problems


def validate_template(body: str) -> list[str]:
    """Problems that keep this body from being a template (empty list: it is valid)."""
    if not body or not body.strip():
        return ["The message is empty"]
    problems = []
    if len(body) > MAX_BODY_CHARS:
        problems.append(f"The message has {len(body)} characters; Twilio accepts at most {MAX_BODY_CHARS}")
    problems.extend(_brace_problems(body))
    unknown: list[str] = []
    for match in _INNERMOST.finditer(body):
        inner, bar, fallback = match.group(1).partition("|")
        if not inner.strip():
            problems.append(f"Empty shortcode '{match.group(0)}' at character {match.start() + 1}")
        elif inner != inner.strip() or any(c.isspace() for c in inner):
            hint = inner.strip() if inner.strip() in SHORTCODES else "the name without spaces"
            problems.append(
                f"Shortcode '{match.group(0)}' at character {match.start() + 1} has spaces: write {{{hint}"
                f"{bar}{fallback}}}"
            )
        elif "|" in fallback:
            problems.append(f"Shortcode '{match.group(0)}' at character {match.start() + 1} has more than one "
                            "'|': write {code|fallback}")
        elif inner not in SHORTCODES and f"{{{inner}}}" not in unknown:
            unknown.append(f"{{{inner}}}")
    if unknown:
        problems.append(f"Unknown shortcode(s): {', '.join(unknown)}. Known shortcodes: {known_shortcodes()}")
    return problems


def check_template(body: str) -> str:
    """The body when it is a valid template, else a UserError naming every problem."""
    problems = validate_template(body)
    if problems:
        raise UserError("Invalid template: " + "; ".join(problems))
    return body


def used_shortcodes(body: str) -> list[str]:
    """The shortcodes a (valid) template uses, in order of first use."""
    return list(dict.fromkeys(code for code, _ in _SPLIT.findall(body)))


def shortcodes_without_fallback(body: str) -> list[str]:
    """The shortcodes a (valid) template uses at least once without a `|fallback`, in order of first use."""
    return list(dict.fromkeys(m.group(1) for m in _SPLIT.finditer(body) if m.group(2) is None))


# --- one recipient -----------------------------------------------------------------------------------


def _is_missing(value: Any) -> bool:
    if value is None:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _text(value: Any) -> str:
    return "" if _is_missing(value) else str(value)


def _number(value: Any) -> float | None:
    if _is_missing(value):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _integer(value: Any) -> str:
    number = _number(value)
    return "" if number is None else str(int(number))


def _price(value: Any) -> str:
    number = _number(value)
    if number is None:
        return ""
    cents = int(np.round(number * 100))
    return f"{cents // 100}.{cents % 100:02d}"


def _time(value: Any, fmt: str) -> str:
    number = _number(value)
    return "" if number is None else datetime.fromtimestamp(math.floor(number), UTC).strftime(fmt)


def _full_name(recipient: Mapping[str, Any]) -> str:
    full = _text(recipient.get("full_name"))
    if full.strip():
        return full
    return f"{_text(recipient.get('first_name'))} {_text(recipient.get('last_name'))}".strip()


def shortcode_value(code: str, recipient: Mapping[str, Any], company: Mapping[str, Any] | None = None) -> str:
    """The text one shortcode renders to for one recipient ('' when there is no value)."""
    if code == "customer_full_name":
        return _full_name(recipient)
    if code == "customer_name":
        full = _full_name(recipient)
        return full if full else _text(recipient.get("first_name"))
    if code in _TEXT_COLUMNS:
        return _text(recipient.get(_TEXT_COLUMNS[code]))
    if code in _INTEGER_COLUMNS:
        return _integer(recipient.get(_INTEGER_COLUMNS[code]))
    if code == "service_price":
        return _price(recipient.get("service_price"))
    if code in _TIME_FORMATS:
        column, fmt = _TIME_FORMATS[code]
        return _time(recipient.get(column), fmt)
    if code.startswith(_COMPANY_PREFIX) and code in SHORTCODES:
        return _text((company or {}).get(code.removeprefix(_COMPANY_PREFIX)))
    raise KeyError(code)


def render(body: str, recipient: Mapping[str, Any], company: Mapping[str, Any] | None = None) -> str:
    """The message one recipient gets: every shortcode replaced by its value ('' when missing)."""
    check_template(body)
    return _SPLIT.sub(lambda match: shortcode_value(match.group(1), recipient, company) or match.group(2) or "",
                      body)


# --- a whole frame of recipients ---------------------------------------------------------------------


def _column(frame: pd.DataFrame, name: str) -> pd.Series:
    if name in frame.columns:
        return frame[name]
    return pd.Series(pd.NA, index=frame.index, dtype="object")


def _texts(series: pd.Series) -> pd.Series:
    if series.dtype == "object":
        missing = series.isna()
        series = series.where(missing, series.map(str, na_action="ignore"))
    return series.astype("str").fillna("")


def _numbers(series: pd.Series) -> pd.Series:
    numbers = pd.to_numeric(series, errors="coerce").astype("float64")
    return numbers.where(np.isfinite(numbers))


def _integers(series: pd.Series) -> pd.Series:
    return np.trunc(_numbers(series)).astype("Int64").astype("str").fillna("")


def _prices(series: pd.Series) -> pd.Series:
    cents = np.round(_numbers(series) * 100).astype("Int64")
    text = (cents // 100).astype("str") + "." + (cents % 100).astype("str").str.zfill(2)
    return text.fillna("")


def _times(series: pd.Series, fmt: str) -> pd.Series:
    """UTC dates/times without formatting each row: a day is formatted once per distinct day, and a clock time
    is looked up in a table of the day's 1440 minutes."""
    seconds = np.floor(_numbers(series))
    missing = seconds.isna().to_numpy()
    days, second_of_day = np.divmod(seconds.fillna(0).to_numpy(dtype=np.int64), _DAY_S)
    pieces = []
    if "%Y" in fmt:
        distinct, inverse = np.unique(days, return_inverse=True)
        labels = [(_EPOCH + timedelta(days=int(day))).strftime("%Y-%m-%d") for day in distinct]
        pieces.append(pd.Series(labels, dtype="str").take(inverse).reset_index(drop=True))
    if "%H" in fmt:
        pieces.append(_CLOCK.take(second_of_day // 60).reset_index(drop=True))
    text = pieces[0] if len(pieces) == 1 else pieces[0] + " " + pieces[1]
    text = text.where(~missing, "")
    text.index = series.index
    return text


def _full_names(frame: pd.DataFrame) -> pd.Series:
    full = _texts(_column(frame, "full_name"))
    composed = (_texts(_column(frame, "first_name")) + " " + _texts(_column(frame, "last_name"))).str.strip()
    return full.where(full.str.strip() != "", composed)


def _values_many(code: str, frame: pd.DataFrame, company: Mapping[str, Any]) -> pd.Series:
    if code in ("customer_full_name", "customer_name"):
        full = _full_names(frame)
        if code == "customer_full_name":
            return full
        return full.where(full != "", _texts(_column(frame, "first_name")))
    if code in _TEXT_COLUMNS:
        return _texts(_column(frame, _TEXT_COLUMNS[code]))
    if code in _INTEGER_COLUMNS:
        return _integers(_column(frame, _INTEGER_COLUMNS[code]))
    if code == "service_price":
        return _prices(_column(frame, "service_price"))
    if code in _TIME_FORMATS:
        column, fmt = _TIME_FORMATS[code]
        return _times(_column(frame, column), fmt)
    constant = _text(company.get(code.removeprefix(_COMPANY_PREFIX)))
    return pd.Series(constant, index=frame.index, dtype="str")


def render_many(body: str, frame: pd.DataFrame, company: Mapping[str, Any] | None = None) -> pd.Series:
    """`render` for every row of a recipient frame, vectorized: the template is split once into literal
    parts and shortcodes, each shortcode becomes one column of text, and the parts are concatenated."""
    check_template(body)
    pieces = _SPLIT.split(body)  # literal, code, fallback, literal, code, fallback, ..., literal
    cache: dict[str, pd.Series] = {}
    result = pd.Series(pieces[0], index=frame.index, dtype="str")
    for code, fallback, literal in zip(pieces[1::3], pieces[2::3], pieces[3::3], strict=True):
        if code not in cache:
            cache[code] = _values_many(code, frame, company or {})
        value = cache[code] if not fallback else cache[code].where(cache[code] != "", fallback)
        result = result + value + literal
    return result
