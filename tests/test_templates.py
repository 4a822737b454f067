"""Templates: Booknetic shortcodes, validation, rendering one recipient or a frame, and SMS segment counts."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from orchestration.cli import main
from orchestration.errors import UserError
from orchestration.ledger import Ledger
from orchestration.messages import templates
from orchestration.messages.segments import count_segments, count_segments_many, total_segments
from orchestration.messages.shortcodes import SHORTCODES, render, render_many, validate_template

JAN_1_2026_0905 = 1767225600 + 9 * 3600 + 5 * 60  # 2026-01-01 09:05 UTC

ANN = {
    "customer_id": 1, "first_name": "Ann", "last_name": "Lee", "full_name": "Ann Lee",
    "phone_e164": "+15551234567", "email": "ann@example.com", "anchor_appointment_id": 1042,
    "anchor_starts_at": JAN_1_2026_0905, "anchor_ends_at": JAN_1_2026_0905 + 3300, "anchor_status": "approved",
    "service_name": "Haircut", "service_price": 35.5, "service_duration": 60, "staff_name": "Sam Park",
    "staff_phone": "+15557654321", "location_name": "Downtown", "location_address": "1 Main St",
}  # fmt: skip
COMPANY = {"name": "Salon", "phone": "+15550001111", "address": "2 Side St", "website": "salon.example"}

EXPECTED = {
    "customer_full_name": "Ann Lee",
    "customer_name": "Ann Lee",
    "customer_first_name": "Ann",
    "customer_last_name": "Lee",
    "customer_phone": "+15551234567",
    "customer_email": "ann@example.com",
    "appointment_id": "1042",
    "appointment_date": "2026-01-01",
    "appointment_start_time": "09:05",
    "appointment_end_time": "10:00",
    "appointment_date_time": "2026-01-01 09:05",
    "appointment_status": "approved",
    "service_name": "Haircut",
    "service_price": "35.50",
    "service_duration": "60",
    "staff_name": "Sam Park",
    "staff_phone": "+15557654321",
    "location_name": "Downtown",
    "location_address": "1 Main St",
    "company_name": "Salon",
    "company_phone": "+15550001111",
    "company_address": "2 Side St",
    "company_website": "salon.example",
}


# --- shortcodes -----------------------------------------------------------------------------------------


def test_every_booknetic_shortcode_is_known():
    assert set(SHORTCODES) == set(EXPECTED)


@pytest.mark.parametrize("code", sorted(EXPECTED))
def test_each_shortcode_renders_its_value(code):
    assert render(f"<{{{code}}}>", ANN, COMPANY) == f"<{EXPECTED[code]}>"


def test_customer_name_falls_back_to_the_first_name_when_there_is_no_full_name():
    assert render("{customer_name}", {"first_name": "Zoë", "last_name": "", "full_name": ""}) == "Zoë"


def test_a_shortcode_without_a_value_renders_as_empty_never_as_the_raw_code():
    body = " ".join(f"{{{code}}}" for code in SHORTCODES)
    assert render(body, {"full_name": None, "service_price": float("nan"), "anchor_starts_at": None}) == " " * (
        len(SHORTCODES) - 1
    )


def test_a_valid_template_has_no_problems():
    assert validate_template("Hi {customer_first_name}, see you {appointment_date} at {location_name}!") == []


def test_unknown_shortcodes_are_named_and_the_known_ones_listed():
    (problem,) = validate_template("Hi {first_name} {customer_first_name} {promo}")
    assert problem.startswith("Unknown shortcode(s): {first_name}, {promo}. Known shortcodes: {customer_full_name}")
    assert "{company_website}" in problem


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ("Hi {customer_first_name", "at character 4 is never closed"),
        ("Hi customer_first_name}", "at character 23 has no matching"),
        ("Hi { customer_first_name }", "has spaces: write {customer_first_name}"),
        ("Hi {{customer_first_name}}", "at character 5 is nested"),
        ("Hi {}", "Empty shortcode"),
        ("", "empty"),
        ("   ", "empty"),
        ("x" * 1601, "1601 characters; Twilio accepts at most 1600"),
    ],
)
def test_malformed_templates_are_refused_with_the_reason(body, words):
    assert any(words in problem for problem in validate_template(body))


def test_a_body_of_exactly_1600_characters_is_accepted():
    assert validate_template("x" * 1600) == []


def test_saving_an_invalid_template_raises_one_message_and_writes_nothing(home):
    ledger = Ledger(home.ledger)
    with pytest.raises(UserError, match=r"Unknown shortcode\(s\): \{promo\}"):
        templates.save(ledger, 0, "offer", "Hi {promo}")
    assert templates.list_templates(ledger, 0) == []


def test_saving_a_template_with_an_existing_name_replaces_its_body(home):
    ledger = Ledger(home.ledger)
    templates.save(ledger, 0, "offer", "First")
    templates.save(ledger, 0, "offer", "Second {customer_name}")
    assert [(t.name, t.body) for t in templates.list_templates(ledger, 0)] == [("offer", "Second {customer_name}")]


def test_getting_a_missing_template_is_a_user_error(home):
    with pytest.raises(UserError, match="no template named 'nope'"):
        templates.get(Ledger(home.ledger), 0, "nope")


def test_rendering_an_invalid_template_is_a_user_error():
    with pytest.raises(UserError, match="Unknown shortcode"):
        render("Hi {promo}", ANN)


# --- render_many -----------------------------------------------------------------------------------------


def test_render_many_gives_each_row_its_own_values():
    frame = pd.DataFrame([ANN, {**ANN, "first_name": "Bo", "anchor_starts_at": JAN_1_2026_0905 + 86400}])
    rendered = render_many("{customer_first_name} {appointment_date}", frame)
    assert rendered.tolist() == ["Ann 2026-01-01", "Bo 2026-01-02"]


def test_render_many_fills_appointment_codes_with_empty_text_when_the_segment_has_no_anchor_columns():
    frame = pd.DataFrame({"customer_id": [1], "first_name": ["Ann"], "full_name": ["Ann"]})
    assert render_many("{customer_name}|{appointment_date}|{service_price}", frame).tolist() == ["Ann||"]


def test_render_many_keeps_the_frame_index():
    frame = pd.DataFrame([ANN, ANN], index=[10, 20])
    assert render_many("{customer_first_name}", frame).index.tolist() == [10, 20]


_maybe_text = st.one_of(st.none(), st.text(max_size=12))
_maybe_number = st.one_of(
    st.none(), st.just(float("nan")), st.floats(min_value=0, max_value=2e9), st.integers(0, 2**31)
)
_recipient = st.fixed_dictionaries(
    {
        "first_name": _maybe_text,
        "last_name": _maybe_text,
        "full_name": _maybe_text,
        "phone_e164": _maybe_text,
        "anchor_appointment_id": _maybe_number,
        "anchor_starts_at": _maybe_number,
        "anchor_ends_at": _maybe_number,
        "anchor_status": _maybe_text,
        "service_price": st.one_of(st.none(), st.floats(min_value=0, max_value=1e6)),
        "service_duration": _maybe_number,
    }
)


@settings(max_examples=60, deadline=None)
@given(st.lists(_recipient, min_size=1, max_size=6))
def test_render_many_agrees_with_render_for_every_row(rows):
    body = " ".join(f"{{{code}}}" for code in SHORTCODES)
    frame = pd.DataFrame(rows)
    expected = [render(body, row, COMPANY) for row in frame.to_dict("records")]
    assert render_many(body, frame, COMPANY).tolist() == expected


# --- segments (hand-computed) -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "encoding", "units", "segments"),
    [
        ("a" * 160, "GSM-7", 160, 1),  # fits one GSM-7 SMS
        ("a" * 161, "GSM-7", 161, 2),  # 153 + 8
        ("a" * 306, "GSM-7", 306, 2),  # 153 + 153
        ("a" * 307, "GSM-7", 307, 3),
        ("€" * 80, "GSM-7", 160, 1),  # extension characters cost two septets
        ("{}" * 40 + "a", "GSM-7", 161, 2),
        ("^\\[~]|€\f", "GSM-7", 16, 1),  # every extension character, form feed included
        ("a" * 152 + "€" + "a" * 152, "GSM-7", 306, 3),  # the escape pair may not straddle parts: 152 | 153 | 1
        ("ы" * 70, "UCS-2", 70, 1),
        ("ы" * 71, "UCS-2", 71, 2),  # 67 + 4
        ("a" * 159 + "ы", "UCS-2", 160, 3),  # one non-GSM character makes all UCS-2: 67 + 67 + 26
        ("😀" * 35, "UCS-2", 70, 1),  # an emoji is a surrogate pair: two UTF-16 units
        ("😀" * 36, "UCS-2", 72, 2),
        ("ы" * 66 + "😀" + "ы" * 66, "UCS-2", 134, 3),  # the pair is never split: 66 | 67 | 1
        ("a" * 1600, "GSM-7", 1600, 11),  # ceil(1600 / 153)
        ("ы" * 1600, "UCS-2", 1600, 24),  # ceil(1600 / 67)
        ("", "GSM-7", 0, 0),
    ],
)
def test_segment_counts_match_hand_computed_values(body, encoding, units, segments):
    counted = count_segments(body)
    assert (counted.encoding, counted.units, counted.segments, counted.characters) == (
        encoding,
        units,
        segments,
        len(body),
    )


def test_accented_letters_of_the_gsm_alphabet_stay_gsm7():
    assert count_segments("Café è ù ì ò, Åland, Ñoño, ¿Qué? ß Æ ΔΩ £¥§").encoding == "GSM-7"


def test_an_accented_letter_outside_the_gsm_alphabet_makes_the_body_ucs2():
    assert count_segments("Café ú").encoding == "UCS-2"


def test_vectorized_counts_agree_with_single_counts():
    bodies = pd.Series(
        ["a" * 160, "a" * 161, "€" * 81, "ы" * 71, "😀" * 36, "a" * 152 + "€" + "a" * 152,
         "ы" * 66 + "😀" + "ы" * 66, "", "x\ny{z}", "a" * 1600]
    )  # fmt: skip
    many = count_segments_many(bodies)
    single = [count_segments(body) for body in bodies]
    assert many["segments"].tolist() == [c.segments for c in single]
    assert many["encoding"].tolist() == [c.encoding for c in single]
    assert many["units"].tolist() == [c.units for c in single]


def test_a_missing_body_counts_as_zero_segments():
    assert count_segments_many(pd.Series(["hi", None, np.nan], dtype="object"))["segments"].tolist() == [1, 0, 0]


def test_a_campaign_costs_the_sum_of_its_segments():
    assert total_segments(pd.Series(["a" * 160, "a" * 161, "ы" * 71])) == 1 + 2 + 2


# --- the CLI ---------------------------------------------------------------------------------------------


def _cli(home, *args: str):
    return CliRunner().invoke(main, ["--home", str(home.root), *args], catch_exceptions=False)


def test_cli_template_save_then_render_shows_the_sample_message_and_its_segments(home):
    saved = _cli(home, "template", "save", "hello", "--tenant", "4", "--body", "Hi {customer_first_name}!")
    assert saved.exit_code == 0
    result = _cli(home, "template", "render", "hello", "--tenant", "4")
    assert result.output == "Hi Ann!\n-- 7 characters, GSM-7, 1 segment(s) for this sample\n"


def test_cli_template_save_with_an_unknown_shortcode_prints_one_error_line(home):
    result = _cli(home, "template", "save", "hello", "--body", "Hi {promo}")
    assert result.exit_code == 2 and result.output.count("\n") == 1
    assert result.output.startswith("Error: Invalid template: Unknown shortcode(s): {promo}.")
