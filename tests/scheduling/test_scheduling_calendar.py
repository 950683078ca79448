"""Local time rules, table by table: zones from numbers, TIME requests, quiet hours, due times."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from core.timezones import (
    InvalidTimeOfDay,
    QuietHours,
    first_due,
    next_slot,
    parse_time_request,
    send_deadline,
    slot,
    zone_for_number,
)
from workers.scheduling import step_at

UTC = UTC
NAIROBI = ZoneInfo("Africa/Nairobi")  # UTC+3, no daylight saving
LISBON = ZoneInfo("Europe/Lisbon")  # UTC+0, UTC+1 from the last Sunday of March
QUIET = QuietHours()  # 21:00-08:00


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize("number, expected", [
    ("+254700000001", "Africa/Nairobi"),
    ("+919812345678", "Asia/Kolkata"),  # phonenumbers says Asia/Calcutta; we keep the canonical name
    ("+525512345678", "America/Mexico_City"),  # a Mexico City landline
    ("+526641234567", "America/Tijuana"),  # Baja California: the number says which zone
    ("+528001234567", "America/Mexico_City"),  # toll-free, all of Mexico's zones: the populous one
    ("+243812345678", "Africa/Kinshasa"),  # DR Congo spans two zones
    ("+18005550100", "America/New_York"),
    ("+2348031234567", "Africa/Lagos"),
    ("not a number", "UTC"),
])
def test_the_zone_comes_from_the_numbers_country_with_a_default_for_multi_zone_countries(number, expected):
    assert zone_for_number(number) == expected


def test_an_unknown_number_uses_the_configured_fallback():
    assert zone_for_number("+999123", fallback="Africa/Kampala") == "Africa/Kampala"


@pytest.mark.parametrize("text, expected", [
    ("7", (420, None)),
    ("07:30", (450, None)),
    ("18:30", (1110, None)),
    ("18h30", (1110, None)),
    ("7.15", (435, None)),
    ("7pm", (1140, None)),
    ("7 am", (420, None)),
    ("12am", (0, None)),
    ("12 pm", (720, None)),
    ("18:30 UTC+3", (1110, "Etc/GMT-3")),
    ("7 GMT-5", (420, "Etc/GMT+5")),
    ("7 +1", (420, "Etc/GMT-1")),
    ("7 utc", (420, "UTC")),
    ("7 Africa/Lagos", (420, "Africa/Lagos")),
    ("7 africa/lagos", (420, "Africa/Lagos")),
    ("9 Asia/Calcutta", (540, "Asia/Kolkata")),
])
def test_time_requests_name_an_hour_and_optionally_a_zone(text, expected):
    assert parse_time_request(text) == expected


@pytest.mark.parametrize("text", ["", "25", "7:75", "13pm", "soon", "7 Mars/Olympus", "7 UTC+5:30", "7 UTC+20"])
def test_what_is_not_a_usable_time_is_refused(text):
    with pytest.raises(InvalidTimeOfDay):
        parse_time_request(text)


@pytest.mark.parametrize("quiet, minute, inside", [
    (QUIET, 20 * 60 + 59, False),
    (QUIET, 21 * 60, True),
    (QUIET, 0, True),
    (QUIET, 3 * 60, True),
    (QUIET, 7 * 60 + 59, True),
    (QUIET, 8 * 60, False),
    (QuietHours(60, 300), 0, False),  # 01:00-05:00 does not wrap midnight
    (QuietHours(60, 300), 120, True),
    (QuietHours.parse(""), 180, False),  # no quiet hours at all
])
def test_quiet_hours_may_wrap_midnight(quiet, minute, inside):
    assert quiet.contains(minute) is inside


def test_a_chosen_hour_inside_quiet_hours_moves_to_when_they_end():
    assert QUIET.clamp(22 * 60) == 8 * 60 and QUIET.clamp(3 * 60) == 8 * 60 and QUIET.clamp(18 * 60) == 18 * 60


@pytest.mark.parametrize("now, minute, expected", [
    (utc(2025, 3, 10, 6, 0), 10 * 60, utc(2025, 3, 10, 7, 0)),  # 09:00 in Nairobi: 10:00 is later today
    (utc(2025, 3, 10, 8, 0), 10 * 60, utc(2025, 3, 11, 7, 0)),  # 11:00: tomorrow
    (utc(2025, 3, 10, 7, 0), 10 * 60, utc(2025, 3, 11, 7, 0)),  # exactly now is not "after now"
    (utc(2025, 3, 10, 22, 30), 9 * 60, utc(2025, 3, 11, 6, 0)),  # 01:30 local on the 11th: that morning
    (utc(2025, 12, 31, 20, 0), 9 * 60, utc(2026, 1, 1, 6, 0)),  # across the new year
    (utc(2025, 3, 10, 6, 0), 22 * 60, utc(2025, 3, 11, 5, 0)),  # 22:00 is quiet: 08:00 instead
])
def test_the_next_slot_is_the_persons_hour_in_their_zone(now, minute, expected):
    assert next_slot(now, minute, NAIROBI, QUIET) == expected


def test_slots_follow_daylight_saving_time():
    # Lisbon moves to UTC+1 on 30 March 2025: 09:00 local is 09:00 UTC before and 08:00 UTC after.
    assert slot(date(2025, 3, 29), 9 * 60, LISBON, QUIET) == utc(2025, 3, 29, 9, 0)
    assert slot(date(2025, 3, 31), 9 * 60, LISBON, QUIET) == utc(2025, 3, 31, 8, 0)
    assert next_slot(utc(2025, 3, 29, 12, 0), 9 * 60, LISBON, QUIET) == utc(2025, 3, 30, 8, 0)


@pytest.mark.parametrize("now, expected", [
    (utc(2025, 3, 10, 9, 0), utc(2025, 3, 10, 9, 0)),  # 12:00 local: the first message goes at once
    (utc(2025, 3, 10, 19, 0), utc(2025, 3, 11, 6, 0)),  # 22:00 local: tomorrow at the person's hour
    (utc(2025, 3, 10, 2, 0), utc(2025, 3, 10, 6, 0)),  # 05:00 local: later this morning
])
def test_a_new_course_starts_at_once_unless_it_is_quiet_hours(now, expected):
    assert first_due(now, NAIROBI, QUIET, 9 * 60) == expected


@pytest.mark.parametrize("due, expected", [
    (utc(2025, 3, 10, 6, 0), utc(2025, 3, 10, 10, 0)),  # 09:00 local: up to four hours late
    (utc(2025, 3, 10, 16, 0), utc(2025, 3, 10, 18, 0)),  # 19:00 local: only until 21:00
    (utc(2025, 3, 10, 19, 0), utc(2025, 3, 10, 19, 0)),  # due in quiet hours: not a minute later
])
def test_a_message_may_go_late_but_never_into_quiet_hours(due, expected):
    assert send_deadline(due, NAIROBI, QUIET, timedelta(hours=4)) == expected


def test_courses_are_sequences_and_check_ins_repeat(starter_content):
    daily = starter_content.course("doing_what_matters")
    weekly = starter_content.course("weekly_checkin")
    assert [step_at(daily, n)[1] for n in range(7)] == [0, 1, 2, 3, 4, 5, 6]
    assert step_at(daily, 7) is None
    assert [step_at(weekly, n) for n in range(3)] == [("checkin.weekly", 7), ("checkin.weekly", 14),
                                                       ("checkin.weekly", 21)]
