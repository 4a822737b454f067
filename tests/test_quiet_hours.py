"""Quiet hours' window math in the recipient's local time: never sent early, deferred to the window's next opening,
DST changes in America/New_York, three zones around the window's edges, the recipient's zone and state rules."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from orchestration.errors import UserError
from orchestration.sender.quiet_hours import (
    DEFAULT_WINDOW,
    next_opening,
    parse_window,
    recipient_zone,
    window_for,
)

NEW_YORK = ZoneInfo("America/New_York")


def utc(*parts: int) -> float:
    return datetime(*parts, tzinfo=UTC).timestamp()


def test_inside_the_window_a_message_may_be_sent_now():
    now = utc(2026, 6, 1, 20, 59)  # 16:59 EDT

    assert next_opening(now, NEW_YORK, DEFAULT_WINDOW) == now


def test_at_the_window_end_a_message_is_deferred_to_the_next_mornings_opening():
    assert next_opening(utc(2026, 6, 2, 1, 0), NEW_YORK, DEFAULT_WINDOW) == utc(2026, 6, 2, 12, 0)  # 21:00 EDT


def test_one_second_before_the_opening_is_deferred_to_the_opening():
    assert next_opening(utc(2026, 6, 2, 11, 59, 59), NEW_YORK, DEFAULT_WINDOW) == utc(2026, 6, 2, 12, 0)


def test_the_opening_after_the_march_change_is_8_edt_not_8_est():
    # 2026-03-08 is the spring-forward Sunday: 22:00 EST on the 7th waits for 08:00 EDT (12:00 UTC)
    assert next_opening(utc(2026, 3, 8, 3, 0), NEW_YORK, DEFAULT_WINDOW) == utc(2026, 3, 8, 12, 0)


def test_the_opening_after_the_november_change_is_8_est_not_8_edt():
    # 2026-11-01 is the fall-back Sunday: 21:30 EDT on the 31st waits for 08:00 EST (13:00 UTC)
    assert next_opening(utc(2026, 11, 1, 1, 30), NEW_YORK, DEFAULT_WINDOW) == utc(2026, 11, 1, 13, 0)


def test_the_window_end_follows_the_november_change():
    assert next_opening(utc(2026, 11, 2, 1, 59), NEW_YORK, DEFAULT_WINDOW) == utc(2026, 11, 2, 1, 59)  # 20:59 EST
    assert next_opening(utc(2026, 11, 2, 2, 0), NEW_YORK, DEFAULT_WINDOW) == utc(2026, 11, 2, 13, 0)  # 21:00 EST


def test_an_opening_skipped_by_spring_forward_is_the_end_of_the_gap_never_before():
    window = parse_window("02:30-21:00")

    assert next_opening(utc(2026, 3, 8, 6, 0), NEW_YORK, window) == utc(2026, 3, 8, 7, 0)  # 03:00 EDT


def test_an_opening_repeated_by_fall_back_is_its_first_occurrence():
    window = parse_window("01:30-21:00")

    assert next_opening(utc(2026, 11, 1, 5, 0), NEW_YORK, window) == utc(2026, 11, 1, 5, 30)  # 01:30 EDT


def test_three_zones_at_one_instant_around_the_window_edges():
    now = utc(2026, 6, 1, 12, 30)  # 08:30 New York, 07:30 Chicago, 05:30 Los Angeles

    assert next_opening(now, NEW_YORK, DEFAULT_WINDOW) == now
    assert next_opening(now, ZoneInfo("America/Chicago"), DEFAULT_WINDOW) == utc(2026, 6, 1, 13, 0)
    assert next_opening(now, ZoneInfo("America/Los_Angeles"), DEFAULT_WINDOW) == utc(2026, 6, 1, 15, 0)


def test_florida_and_oklahoma_numbers_end_at_20_under_state_rules():
    assert str(window_for("+13055550100", DEFAULT_WINDOW, state_rules=True)) == "08:00-20:00"  # Miami
    assert str(window_for("+19185550100", DEFAULT_WINDOW, state_rules=True)) == "08:00-20:00"  # Tulsa
    assert str(window_for("+13055550100", DEFAULT_WINDOW, state_rules=False)) == "08:00-21:00"
    assert str(window_for("+12125550100", DEFAULT_WINDOW, state_rules=True)) == "08:00-21:00"  # New York


def test_the_recipient_zone_is_the_stored_client_timezone_first():
    assert recipient_zone("Europe/Berlin", "+12125550100", "America/Chicago") == ZoneInfo("Europe/Berlin")


def test_the_recipient_zone_is_the_numbers_zone_when_it_names_exactly_one():
    assert recipient_zone("", "+12125550100", "America/Chicago") == NEW_YORK


def test_a_number_whose_region_spans_several_zones_takes_the_tenants_zone():
    assert recipient_zone(None, "+18005550100", "America/Chicago") == ZoneInfo("America/Chicago")  # toll-free


@pytest.mark.parametrize("text", ["8-21", "21:00-08:00", "08:00-08:00", "25:00-26:00"])
def test_a_window_that_is_not_one_same_day_range_is_refused(text):
    with pytest.raises(UserError):
        parse_window(text)
