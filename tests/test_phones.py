"""Phone normalization: messy Booknetic inputs become E.164 with a status, in the tenant's region."""

from __future__ import annotations

import phonenumbers
import pyarrow as pa
import pytest

from orchestration.warehouse.phones import normalize_distinct, normalize_phone

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


def test_every_regions_example_numbers_in_e164_normalize_to_themselves():
    examples = [
        phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
        for region in phonenumbers.SUPPORTED_REGIONS
        for kind in (phonenumbers.PhoneNumberType.FIXED_LINE, phonenumbers.PhoneNumberType.MOBILE)
        if (number := phonenumbers.example_number_for_type(region, kind)) is not None
    ]
    assert len(examples) > 300
    assert [normalize_phone(e164) for e164 in examples] == [(e164, "ok") for e164 in examples]
