"""Opening hours of a region's services, read in the region's time zone with the clock passed in."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from content.hours import InvalidHours, OpeningHours

NAIROBI = ZoneInfo("Africa/Nairobi")  # UTC+3, no daylight saving


def utc(day: int, hour: int, minute: int = 0) -> datetime:
    """A moment in the week of Monday 2026-12-07 (UTC)."""
    return datetime(2026, 12, day, hour, minute, tzinfo=UTC)


@pytest.mark.parametrize("moment, expected", [
    (utc(7, 4, 59), False),  # Monday 07:59 in Nairobi
    (utc(7, 5, 0), True),  # Monday 08:00
    (utc(7, 13, 59), True),  # Monday 16:59
    (utc(7, 14, 0), False),  # Monday 17:00: closed
    (utc(12, 8, 0), False),  # Saturday 11:00
])
def test_weekday_hours_are_read_in_the_regions_zone(moment, expected):
    assert OpeningHours.parse("mon-fri 08:00-17:00").is_open(moment, NAIROBI) is expected


def test_a_closed_service_says_when_it_next_opens_in_local_time():
    hours = OpeningHours.parse("mon-fri 08:00-17:00, sat 09:00-13:00")
    friday_evening = utc(11, 16)  # Friday 19:00 in Nairobi
    assert hours.next_opening(friday_evening, NAIROBI) == datetime(2026, 12, 12, 9, 0, tzinfo=NAIROBI)
    saturday_after = utc(12, 11)  # Saturday 14:00
    assert hours.next_opening(saturday_after, NAIROBI) == datetime(2026, 12, 14, 8, 0, tzinfo=NAIROBI)


def test_round_the_clock_and_night_lines():
    assert OpeningHours.parse("24/7").is_open(utc(13, 2), NAIROBI)
    assert OpeningHours.parse("24/7").next_opening(utc(13, 2), NAIROBI) is None
    night = OpeningHours.parse("mon-sun 18:00-24:00, mon-sun 00:00-06:00")
    assert night.is_open(utc(7, 20), NAIROBI) and night.is_open(utc(7, 23, 59), NAIROBI)  # 23:00, 02:59
    assert not night.is_open(utc(7, 9), NAIROBI)  # 12:00


def test_unknown_hours_are_never_called_open():
    hours = OpeningHours.parse("")
    assert not hours.known and not hours.is_open(utc(7, 9), NAIROBI) and hours.next_opening(utc(7, 9), NAIROBI) is None


@pytest.mark.parametrize("text", ["weekdays 8-5", "mon-fri 17:00-08:00", "mon-fry 08:00-17:00", "mon 25:00-26:00"])
def test_unreadable_hours_are_refused_with_a_reason(text):
    with pytest.raises(InvalidHours):
        OpeningHours.parse(text)
