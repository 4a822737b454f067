"""What a send costs: SMS segments times a price per segment by destination country.

The prices are Twilio's public outbound SMS list prices per segment in USD for the common countries, kept in
`sms_prices.csv` beside this module, as of PRICES_DATE. Source: Twilio's pricing pages,
https://www.twilio.com/en-us/sms/pricing/<country code> (the US figure, $0.0083 for long codes, as Twilio lists it in
April 2026; the other countries' figures are approximate list prices written down without a live check of each
page: check them there before relying on them). Carrier pass-through fees, billed on top for some US carriers, are
not included. Prices change: a tenant with its own contract sets its price (`bkntc-sms tenant settings
--price-per-segment`, or the console's Settings page), which is then used for every destination. Destinations
missing from the table are counted, left out of the estimate, and said so.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import pandas as pd
import phonenumbers

from orchestration.errors import UserError
from orchestration.ledger import Ledger
from orchestration.sqlfiles import load_sql
from orchestration.tenants.settings import check_tenant_id, ensure_tenant_row

PRICES_FILE = Path(__file__).with_name("sms_prices.csv")
PRICES_DATE = "2026-04"
PRICES_SOURCE = "https://www.twilio.com/en-us/sms/pricing"


@cache
def list_prices() -> dict[str, float]:
    """Region code (US, GB, ...) -> USD per outbound SMS segment, from the product's table."""
    with PRICES_FILE.open(newline="", encoding="utf-8") as handle:
        return {row["region"]: float(row["usd_per_segment"]) for row in csv.DictReader(handle)}


def region_of(phone_e164: str) -> str | None:
    """The destination country (region code) of an E.164 number, or None when it cannot be told."""
    try:
        return phonenumbers.region_code_for_number(phonenumbers.parse(phone_e164, None)) or None
    except phonenumbers.NumberParseException:
        return None


def tenant_price(ledger: Ledger, tenant_id: int) -> float | None:
    """The tenant's own USD price per segment, or None when the table's list prices apply."""
    check_tenant_id(tenant_id)
    with ledger.read() as con:
        row = con.execute(load_sql("pricing/tenant_price_get.sql"), {"tenant_id": tenant_id}).fetchone()
    return None if row is None else float(row["usd_per_segment"])


def set_tenant_price(ledger: Ledger, tenant_id: int, usd_per_segment: float | None) -> None:
    """Set the tenant's own price per segment (None: back to the list prices)."""
    check_tenant_id(tenant_id)
    if usd_per_segment is not None and not (math.isfinite(usd_per_segment) and 0 <= usd_per_segment <= 10):
        raise UserError(f"A price per SMS segment is between 0 and 10 USD, not {usd_per_segment!r}.")
    with ledger.write() as con:
        ensure_tenant_row(con, tenant_id)
        if usd_per_segment is None:
            con.execute(load_sql("pricing/tenant_price_clear.sql"), {"tenant_id": tenant_id})
        else:
            con.execute(load_sql("pricing/tenant_price_set.sql"),
                        {"tenant_id": tenant_id, "usd_per_segment": float(usd_per_segment)})


@dataclass
class CostEstimate:
    """Segments and USD by destination country; `unpriced` counts segments to countries without a price."""

    tenant_price: float | None
    segments_by_region: dict[str, int] = field(default_factory=dict)

    def add(self, phones: Iterable[str], segments: Iterable[int]) -> None:
        """Count the segments of more recipients (their E.164 numbers and each one's segments)."""
        frame = pd.DataFrame({"phone": list(phones), "segments": list(segments)})
        if frame.empty:
            return
        frame["region"] = regions_of(frame["phone"])
        for region, total in frame.groupby("region")["segments"].sum().items():
            self.segments_by_region[region] = self.segments_by_region.get(region, 0) + int(total)

    def price_of(self, region: str) -> float | None:
        return self.tenant_price if self.tenant_price is not None else list_prices().get(region)

    @property
    def segments(self) -> int:
        return sum(self.segments_by_region.values())

    @property
    def usd(self) -> float:
        return sum(n * (self.price_of(r) or 0.0) for r, n in self.segments_by_region.items())

    @property
    def unpriced_segments(self) -> int:
        return sum(n for r, n in self.segments_by_region.items() if self.price_of(r) is None)

    def rows(self) -> list[dict]:
        """One row per destination country: region, segments, USD per segment (None: no price), USD."""
        return [{"region": r, "segments": n, "usd_per_segment": self.price_of(r),
                 "usd": None if self.price_of(r) is None else round(n * self.price_of(r), 4)}
                for r, n in sorted(self.segments_by_region.items(), key=lambda item: -item[1])]


def regions_of(phones: pd.Series) -> pd.Series:
    """`region_of` for a column of E.164 numbers ('??' when unknown), looked up once per calling code that names
    one country, and once per area code in North America (+1: each area code belongs to one country)."""
    text = phones.astype("str")
    keys = text.str[:5].where(text.str.startswith("+1"), text.map(_single_region_code))
    exact = keys.isna()
    found = pd.Series("??", index=text.index, dtype="object")
    if (~exact).any():
        representative = text[~exact].groupby(keys[~exact]).first()
        by_key = {key: (region_of(phone) if key.startswith("+1") else key[1:]) or "??"
                  for key, phone in representative.items()}
        found[~exact] = keys[~exact].map(by_key)
    found[exact] = text[exact].map(lambda p: region_of(p) or "??")
    return found


def _single_region_code(phone: str) -> str | None:
    """'=GB' style key when the number's calling code belongs to exactly one country, else None."""
    for length in (1, 2, 3):
        digits = phone[1:1 + length]
        if digits.isdigit():
            regions = phonenumbers.COUNTRY_CODE_TO_REGION_CODE.get(int(digits))
            if regions:
                return f"={regions[0]}" if len(regions) == 1 else None
    return None
