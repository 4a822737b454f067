"""Normalizes Booknetic phone numbers to E.164 with `phonenumbers`, per tenant region, distinct values only, and
names each valid number's time zones (what quiet hours need of the number, found once per number at the sync)."""

from __future__ import annotations

import multiprocessing
import os
import re
from concurrent.futures import ProcessPoolExecutor
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
import pyarrow as pa
from phonenumbers import PhoneNumberType
from phonenumbers import timezone as phone_timezone

DEFAULT_REGION = "US"
OK, NO_PHONE, INVALID_PHONE = "ok", "no_phone", "invalid_phone"

# Below this many distinct (region, phone) pairs a worker pool costs more than it saves.
_PARALLEL_THRESHOLD = 100_000
_CANONICAL = re.compile(r"\+[1-9][0-9]{6,14}")
_CHUNK = 50_000


def normalize_phone(raw: str | None, region: str = DEFAULT_REGION) -> tuple[str | None, str]:
    """(E.164 or None, status): empty/NULL/whitespace → no_phone; unparseable or not a valid number → invalid_phone.

    A national number is read in `region`. Digits without a leading '+' that are not valid in the region are
    tried once more as international ('+' prepended), as Booknetic's CSV import does.
    """
    e164, status, _ = normalize_phone_with_zones(raw, region)
    return e164, status


def normalize_phone_with_zones(raw: str | None, region: str = DEFAULT_REGION
                               ) -> tuple[str | None, str, tuple[str, ...] | None]:  # fmt: skip
    """`normalize_phone`'s (E.164, status) and the valid number's time zones (None unless the status is ok): those
    `phonenumbers` names, as quiet_hours.number_zones gives them. They reuse the number type that validation
    found, so they cost a prefix lookup (about 1.5 µs more than the 12-15 µs of normalizing a number)."""
    text = (raw or "").strip()
    if not text:
        return None, NO_PHONE, None
    if _CANONICAL.fullmatch(text) and (canonical := _valid_canonical(text)) is not None:
        return text, OK, _zones(*canonical)
    valid = _valid(text, region)
    if valid is None and text[0].isdigit():
        valid = _valid("+" + text, region)
    if valid is None:
        return None, INVALID_PHONE, None
    return phonenumbers.format_number(valid[0], phonenumbers.PhoneNumberFormat.E164), OK, _zones(*valid)


_Valid = tuple[phonenumbers.PhoneNumber, int]  # a valid number and its PhoneNumberType


def _valid_canonical(text: str) -> _Valid | None:
    """Fast path for input already written as E.164 (most Booknetic numbers): skips `parse`, ~6x cheaper.

    Only a valid answer is trusted; anything else goes through the full parse (national prefixes, odd forms).
    """
    digits = text[1:]
    for length in (1, 2, 3):
        country_code = int(digits[:length])
        if country_code in phonenumbers.COUNTRY_CODE_TO_REGION_CODE:
            national = digits[length:]
            if not national or national[0] == "0":
                return None
            return _typed(phonenumbers.PhoneNumber(country_code=country_code, national_number=int(national)))
    return None


def _valid(text: str, region: str) -> _Valid | None:
    try:
        parsed = phonenumbers.parse(text, region or DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        return None
    return _typed(parsed)


def _typed(number: phonenumbers.PhoneNumber) -> _Valid | None:
    """The number with its type when it is valid. `number_type` is UNKNOWN exactly when `is_valid_number` is
    false (both match the national number against the metadata of the region `region_code_for_number` picks;
    tests/test_phones.py checks it), so one call answers both."""
    kind = phonenumbers.number_type(number)
    return None if kind == PhoneNumberType.UNKNOWN else (number, kind)


def _zones(number: phonenumbers.PhoneNumber, kind: int) -> tuple[str, ...]:
    """`phone_timezone.time_zones_for_number` without computing the number's type again (for a geographical
    type it is the prefix lookup; the rare other types take the library's own path), less the names this
    system's time zone database lacks (its "Etc/Unknown" when it knows no zone), as quiet_hours.number_zones."""
    if phonenumbers.is_number_type_geographical(kind, number.country_code):
        return _known_zones(phone_timezone.time_zones_for_geographical_number(number))
    return _known_zones(phone_timezone.time_zones_for_number(number))


@cache
def _known_zones(names: tuple[str, ...]) -> tuple[str, ...]:
    """The names ZoneInfo knows, one tuple per distinct answer of `phonenumbers` (shared by its numbers)."""
    return tuple(name for name in names if _known_zone(name))


def _known_zone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def _normalize_chunk(pairs: list[tuple[str | None, str | None]]
                     ) -> list[tuple[str | None, str, tuple[str, ...] | None]]:  # fmt: skip
    return [normalize_phone_with_zones(phone, region or DEFAULT_REGION) for region, phone in pairs]


def normalize_distinct(distinct: pa.Table, workers: int | None = None) -> pa.Table:
    """Normalizes a table of DISTINCT (region, phone) pairs; returns it with phone_e164, phone_status and
    phone_zones (the valid number's time zones, a list; NULL unless the status is ok) added.

    Callers de-duplicate first (DuckDB `SELECT DISTINCT`), so each number is parsed once. Large inputs are split
    over a process pool (`workers`, default: the CPU count), since parsing is CPU-bound pure Python.
    """
    pairs = list(zip(distinct.column("region").to_pylist(), distinct.column("phone").to_pylist(), strict=True))
    workers = workers or os.cpu_count() or 1
    if workers > 1 and len(pairs) > _PARALLEL_THRESHOLD:
        chunks = [pairs[i : i + _CHUNK] for i in range(0, len(pairs), _CHUNK)]
        context = multiprocessing.get_context("forkserver")
        with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
            results = [item for chunk in pool.map(_normalize_chunk, chunks) for item in chunk]
    else:
        results = _normalize_chunk(pairs)
    e164, status, zones = zip(*results, strict=True) if results else ((), (), ())
    return (distinct.append_column("phone_e164", pa.array(e164, pa.string()))
            .append_column("phone_status", pa.array(status, pa.string()))
            .append_column("phone_zones", pa.array(zones, pa.list_(pa.string()))))
