"""Phone normalization: messy Booknetic inputs become E.164 with a status, in the tenant's region."""

from __future__ import annotations

import phonenumbers
import pyarrow as pa
import pytest

from orchestration.sender.quiet_hours import number_zones
from orchestration.warehouse.phones import normalize_distinct, normalize_phone, normalize_phone_with_zones

MESSY = [
    # raw, region, expected E.164, expected status
    ("+12125550123", "US", "+12125550123", "ok"),
    ("+1 212 555 0123", "US", "+12125550123", "ok"),
    ("(212) 555-0123", "US", "+12125550123", "ok"),
    ("212-555-0123", "US", "+12125550123", "ok"),
    ("212.555.0123", "US", "+12125550123", "ok"),
    ("2125550123", "US", "+12125550123", "ok"),
    ("12125550123", "US", "+12125550123", "ok"),
    ("\t+12125550123\n", "US", "+12125550123", "ok"),
    ("447911123456", "US", "+447911123456", "ok"),
    ("+44 20 7946 0958", "US", "+442079460958", "ok"),
    ("+49 30 12345678", "US", "+493012345678", "ok"),
    ("+4402079460958", "US", "+442079460958", "ok"),
    ("+390612345678", "US", "+390612345678", "ok"),
    ("+74951234567", "US", "+74951234567", "ok"),
    ("030 12345678", "DE", "+493012345678", "ok"),
    ("0151 23456789", "DE", "+4915123456789", "ok"),
    ("", "US", None, "no_phone"),
    (None, "US", None, "no_phone"),
    ("   ", "US", None, "no_phone"),
    ("call me", "US", None, "invalid_phone"),
    ("212-555-O123", "US", None, "invalid_phone"),
    ("12345", "US", None, "invalid_phone"),
    ("+1212555012345678", "US", None, "invalid_phone"),
    ("+15551234567", "US", None, "invalid_phone"),
    ("030 12345678", "US", None, "invalid_phone"),
]


@pytest.mark.parametrize(("raw", "region", "e164", "status"), MESSY)
def test_normalize_phone_gives_e164_and_status(raw, region, e164, status):
    assert normalize_phone(raw, region) == (e164, status)


def test_normalize_distinct_adds_e164_and_status_columns_in_input_order():
    distinct = pa.table(
        {
            "region": [raw_region for _, raw_region, _, _ in MESSY],
            "phone": [raw for raw, _, _, _ in MESSY],
        }
    )
    result = normalize_distinct(distinct, workers=1)
    assert result.column("phone_e164").to_pylist() == [e164 for _, _, e164, _ in MESSY]
    assert result.column("phone_status").to_pylist() == [status for _, _, _, status in MESSY]


def test_normalize_distinct_reads_a_missing_region_as_us():
    distinct = pa.table({"region": pa.array([None], pa.string()), "phone": ["(212) 555-0123"]})
    assert normalize_distinct(distinct, workers=1).column("phone_e164").to_pylist() == ["+12125550123"]


def test_normalize_distinct_gives_the_same_answers_with_a_worker_pool(monkeypatch):
    monkeypatch.setattr("orchestration.warehouse.phones._PARALLEL_THRESHOLD", 1)
    monkeypatch.setattr("orchestration.warehouse.phones._CHUNK", 5)
    distinct = pa.table({"region": [r for _, r, _, _ in MESSY], "phone": [p for p, _, _, _ in MESSY]})
    result = normalize_distinct(distinct, workers=2)
    assert result.column("phone_e164").to_pylist() == [e164 for _, _, e164, _ in MESSY]
    assert result.column("phone_zones") == normalize_distinct(distinct, workers=1).column("phone_zones")


def test_every_regions_example_numbers_in_e164_normalize_to_themselves():
    examples = [
        phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
        for region in phonenumbers.SUPPORTED_REGIONS
        for kind in (phonenumbers.PhoneNumberType.FIXED_LINE, phonenumbers.PhoneNumberType.MOBILE)
        if (number := phonenumbers.example_number_for_type(region, kind)) is not None
    ]
    assert len(examples) > 300
    assert [normalize_phone(e164) for e164 in examples] == [(e164, "ok") for e164 in examples]


def example_numbers() -> list[phonenumbers.PhoneNumber]:
    """Every region's example numbers of every type (fixed, mobile, toll-free, VoIP, ...), and the non-geographic
    entities' ones."""
    numbers = [number for region in phonenumbers.SUPPORTED_REGIONS for kind in range(11)
               if (number := phonenumbers.example_number_for_type(region, kind)) is not None]  # fmt: skip
    numbers += [number for code in phonenumbers.COUNTRY_CODES_FOR_NON_GEO_REGIONS
                if (number := phonenumbers.example_number_for_non_geo_entity(code)) is not None]  # fmt: skip
    return numbers


def test_a_number_is_valid_exactly_when_phonenumbers_finds_its_type():
    """normalize_phone reads the validity off the number type (which the zones need): the same answer as
    is_valid_number, for valid numbers and for near misses (one digit more or less)."""
    numbers = example_numbers()
    near = [phonenumbers.PhoneNumber(country_code=n.country_code, national_number=n.national_number * 10 + 1)
            for n in numbers] + [phonenumbers.PhoneNumber(country_code=n.country_code,
                                                          national_number=n.national_number // 10) for n in numbers]
    assert len(numbers) > 1000
    for number in numbers + near:
        valid = phonenumbers.is_valid_number(number)
        assert (phonenumbers.number_type(number) != phonenumbers.PhoneNumberType.UNKNOWN) == valid, number


@pytest.mark.parametrize(("raw", "zones"), [
    ("+12125550123", ("America/New_York",)),
    ("(212) 555-0123", ("America/New_York",)),
    ("+12085550100", ("America/Boise", "America/Los_Angeles")),  # Idaho: two zones
    ("+447911123456", ("Europe/Guernsey", "Europe/Isle_of_Man", "Europe/Jersey", "Europe/London")),  # a mobile
    ("030 12345678", ("Europe/Berlin",)),
])  # fmt: skip
def test_a_valid_number_comes_with_its_time_zones(raw, zones):
    region = "DE" if raw.startswith("030") else "US"
    assert normalize_phone_with_zones(raw, region)[2] == zones


@pytest.mark.parametrize("raw", ["", None, "call me", "+15551234567"])
def test_a_missing_or_invalid_number_has_no_zones(raw):
    assert normalize_phone_with_zones(raw)[2] is None


def test_the_zones_found_at_the_sync_are_the_ones_quiet_hours_find_for_the_number():
    numbers = [phonenumbers.format_number(n, phonenumbers.PhoneNumberFormat.E164) for n in example_numbers()]
    numbers += [f"+1{area}{line}" for area in ("208", "305", "605", "800", "850", "907", "918")
                for line in ("2345678", "5550100", "9876543")]  # fmt: skip
    found = {phone: normalize_phone_with_zones(phone) for phone in numbers}
    valid = {phone: zones for phone, (_, status, zones) in found.items() if status == "ok"}
    assert len(valid) > 1000 and any(len(zones) > 1 for zones in valid.values())
    assert valid == {phone: number_zones(phone) for phone in valid}


def test_normalize_distinct_adds_each_valid_numbers_zones():
    distinct = pa.table({"region": ["US", "US", "US"], "phone": ["(212) 555-0123", "+12085550100", "call me"]})
    zones = normalize_distinct(distinct, workers=1).column("phone_zones")
    assert zones.type == pa.list_(pa.string())
    assert zones.to_pylist() == [["America/New_York"], ["America/Boise", "America/Los_Angeles"], None]
