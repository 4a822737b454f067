"""`{code|fallback}` shortcodes: the fallback fills in when a recipient has no value, for one recipient and for a
whole frame alike; malformed fallbacks are refused with the place they are at."""

from __future__ import annotations

import pandas as pd

from orchestration.messages.shortcodes import render, render_many, shortcodes_without_fallback, validate_template

BODY = "Hi {customer_first_name|there}, see you at {company_name|our studio}!{service_name|}"
COMPANY = {"name": "Bella Studio 1"}


def test_a_fallback_fills_in_only_for_recipients_without_a_value():
    assert render(BODY, {"first_name": "Ana"}, COMPANY) == "Hi Ana, see you at Bella Studio 1!"
    assert render(BODY, {"first_name": ""}, {}) == "Hi there, see you at our studio!"


def test_render_many_agrees_with_render_for_every_row():
    frame = pd.DataFrame({"first_name": ["Ana", None, "", "Zoë"], "service_name": ["Cut", None, "", None]})
    expected = [render(BODY, row, COMPANY) for row in frame.to_dict("records")]
    assert render_many(BODY, frame, COMPANY).tolist() == expected


def test_a_fallback_with_a_second_bar_or_spaces_in_the_code_is_refused_with_its_position():
    assert validate_template("Hi {customer_first_name|a|b}") == [
        "Shortcode '{customer_first_name|a|b}' at character 4 has more than one '|': write {code|fallback}"]
    assert validate_template("{ customer_first_name|x}") == [
        "Shortcode '{ customer_first_name|x}' at character 1 has spaces: write {customer_first_name|x}"]
    assert validate_template("{customer_nickname|x}")[0].startswith("Unknown shortcode(s): {customer_nickname}")


def test_shortcodes_without_fallback_lists_only_the_bare_ones():
    assert shortcodes_without_fallback("{customer_first_name|there} {customer_last_name} {customer_first_name}") == [
        "customer_last_name", "customer_first_name"]
