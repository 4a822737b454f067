"""SMS encoding and cost: GSM-7 or UCS-2, characters and segments per body, for one body or a whole Series."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

# GSM 03.38 default alphabet (0x00-0x7F) without ESC (0x1B), which only introduces the extension table.
GSM7_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ"
    " !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
# The extension table: each of these costs two septets (ESC + the character).
GSM7_EXTENSION = "^{}\\[~]|€\f"

GSM7_SINGLE, GSM7_PART = 160, 153
UCS2_SINGLE, UCS2_PART = 70, 67

_GSM7_CHARS = frozenset(GSM7_BASIC) | frozenset(GSM7_EXTENSION)
_EXTENSION_CHARS = frozenset(GSM7_EXTENSION)


def _char_class(chars: str) -> str:
    return "[" + "".join("\\" + c if c in "\\]^-[" else c for c in chars) + "]"


# Patterns written with literal characters so that both Python's `re` and pyarrow's RE2 read them alike.
_GSM7_ONLY = re.compile(_char_class(GSM7_BASIC + GSM7_EXTENSION) + "*")
_EXTENSION = _char_class(GSM7_EXTENSION)
_ASTRAL = "[\U00010000-\U0010ffff]"  # characters outside the BMP: two UTF-16 units (a surrogate pair)


@dataclass(frozen=True)
class SegmentCount:
    """How one body travels: its encoding, its length in characters and in units, and its SMS segments."""

    encoding: str  # "GSM-7" or "UCS-2"
    characters: int  # Unicode code points
    units: int  # septets (GSM-7) or UTF-16 code units (UCS-2)
    segments: int


def is_gsm7(body: str) -> bool:
    """True when every character of the body is in the GSM-7 alphabet (basic or extension table)."""
    return all(c in _GSM7_CHARS for c in body)


def _parts(costs: list[int], single: int, part: int) -> int:
    """Segments for units of the given costs: one if they fit, else greedy parts that never split a unit."""
    total = sum(costs)
    if total == 0:
        return 0
    if total <= single:
        return 1
    parts, used = 1, 0
    for cost in costs:
        if used + cost > part:
            parts, used = parts + 1, 0
        used += cost
    return parts


def count_segments(body: str) -> SegmentCount:
    """Encoding, characters, units and segments of one body (an empty body is 0 segments)."""
    if is_gsm7(body):
        costs = [2 if c in _EXTENSION_CHARS else 1 for c in body]
        return SegmentCount("GSM-7", len(body), sum(costs), _parts(costs, GSM7_SINGLE, GSM7_PART))
    costs = [2 if ord(c) > 0xFFFF else 1 for c in body]
    return SegmentCount("UCS-2", len(body), sum(costs), _parts(costs, UCS2_SINGLE, UCS2_PART))


def count_segments_many(bodies: pd.Series) -> pd.DataFrame:
    """`count_segments` for a Series of bodies, vectorized: columns encoding, characters, units, segments.

    Segments come from the length formula; only multi-part bodies holding a two-unit character (where a part
    boundary may move to keep the pair whole) are recounted one by one.
    """
    text = bodies.fillna("").astype("str")
    characters = text.str.len().to_numpy(dtype=np.int64)
    gsm = text.str.fullmatch(_GSM7_ONLY.pattern).to_numpy(dtype=bool)
    extension = text.str.count(_EXTENSION).to_numpy(dtype=np.int64)
    astral = text.str.count(_ASTRAL).to_numpy(dtype=np.int64)
    units = np.where(gsm, characters + extension, characters + astral)
    single = np.where(gsm, GSM7_SINGLE, UCS2_SINGLE)
    part = np.where(gsm, GSM7_PART, UCS2_PART)
    segments = np.where(units == 0, 0, np.where(units <= single, 1, -(-units // part)))
    wide = np.where(gsm, extension, astral) > 0
    recount = np.flatnonzero(wide & (units > single))
    if recount.size:
        segments[recount] = [count_segments(body).segments for body in text.iloc[recount]]
    return pd.DataFrame(
        {
            "encoding": np.where(gsm, "GSM-7", "UCS-2"),
            "characters": characters,
            "units": units,
            "segments": segments,
        },
        index=bodies.index,
    )


def total_segments(bodies: pd.Series) -> int:
    """The segments a campaign of these bodies costs (what the provider bills)."""
    return int(count_segments_many(bodies)["segments"].sum())
