"""What a person is told about when a health worker will reply, and the on-call settings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.conversation import response_time
from core.config import Config
from core.exceptions import ConfigError
from core.oncall.availability import Availability, InvalidStaffedHours, StaffedHours, availability
from core.oncall.webhook import signature, verify
from core.timezones import zone

NAIROBI = zone("Africa/Nairobi")  # UTC+3
HOURS = StaffedHours.parse("mon-fri 08:00-17:00")


def _utc(local: str) -> datetime:
    return datetime.fromisoformat(local).replace(tzinfo=NAIROBI).astimezone(UTC)


@pytest.mark.parametrize(
    ("local", "staffed", "back", "days"),
    [
        ("2026-12-09T10:00", True, None, 0),  # Wednesday morning
        ("2026-12-09T06:30", False, "2026-12-09T08:00", 0),  # before opening: today
        ("2026-12-09T20:00", False, "2026-12-10T08:00", 1),  # evening: tomorrow
        ("2026-12-11T18:00", False, "2026-12-14T08:00", 3),  # Friday evening: Monday
        ("2026-12-09T17:00", False, "2026-12-10T08:00", 1),  # closing time is closed
    ],
)
def test_staffed_hours_decide_the_promise(local, staffed, back, days):
    found = availability(_utc(local), NAIROBI, HOURS, [], 60)
    assert found.staffed is staffed
    if back is None:
        assert found.back_at is None
    else:
        assert found.back_at.replace(tzinfo=None) == datetime.fromisoformat(back)
        assert found.back_in_days == days


def test_a_rota_shift_counts_as_staffed_and_can_bring_the_next_start_forward():
    saturday_night = _utc("2026-12-12T22:00")
    shift = (_utc("2026-12-12T20:00"), _utc("2026-12-13T08:00"))
    assert availability(saturday_night, NAIROBI, HOURS, [shift], 60).staffed
    sunday_shift = (_utc("2026-12-13T09:00"), _utc("2026-12-13T13:00"))
    found = availability(saturday_night, NAIROBI, HOURS, [sunday_shift], 60)
    assert not found.staffed and found.back_in_days == 1
    assert found.back_at.astimezone(NAIROBI).hour == 9


def test_no_hours_and_no_rota_means_nobody_is_promised():
    found = availability(_utc("2026-12-09T10:00"), NAIROBI, StaffedHours.parse(""), [], 60)
    assert found == Availability(False, 60)


@pytest.mark.parametrize("text", ["mon-fri 8-17", "mon-xyz 08:00-17:00", "17:00-08:00", "25:00-26:00"])
def test_unreadable_staffed_hours_are_refused(text):
    with pytest.raises(InvalidStaffedHours):
        StaffedHours.parse(text)


def _say(content, found, locale="en"):
    return str(response_time.text(content, found, locale, "sms", (), "DEMO HELPLINE: +1 202 555 0100"))


def test_the_person_hears_an_honest_time_in_words(starter_content):
    assert _say(starter_content, Availability(True, 60)) == "A health worker will contact you within about an hour."
    assert "about 20 minutes" in _say(starter_content, Availability(True, 20))
    evening = Availability(False, 60, datetime(2026, 12, 10, 8, 0, tzinfo=NAIROBI), 1)
    said = _say(starter_content, evening)
    assert "tomorrow after 08:00" in said and "+1 202 555 0100" in said
    weekend = Availability(False, 60, datetime(2026, 12, 14, 8, 0, tzinfo=NAIROBI), 3)
    assert "on Monday after 08:00" in _say(starter_content, weekend)
    for found in (evening, weekend, Availability(False, 60), None):
        assert "soon" not in _say(starter_content, found).lower()
        assert "+1 202 555 0100" in _say(starter_content, found)


def test_the_day_is_named_in_the_language_of_the_sentence(starter_content):
    weekend = Availability(False, 60, datetime(2026, 12, 14, 8, 0, tzinfo=NAIROBI), 3)
    # Kiswahili text is still a draft in the starter library: the sentence comes in English,
    # so the day must too (never an English sentence with a Swahili day in it, or the reverse).
    said = _say(starter_content, weekend, "sw")
    rendered = starter_content.render(response_time.LATER, "sw", "sms", {"day": "x", "time": "y", "emergency": "z"})
    assert ("Monday" in said) == (rendered.locale == "en")


@pytest.mark.parametrize(
    ("variable", "value", "named"),
    [
        ("ONCALL_NUMBERS", "0712345678", "ONCALL_NUMBERS"),
        ("ONCALL_NUMBERS", "+254711000001,+25", "ONCALL_NUMBERS"),
        ("ONCALL_ACK_S", "imminent:five", "ONCALL_ACK_S"),
        ("ONCALL_ACK_S", "high:30", "ONCALL_ACK_S"),
        ("STAFFED_HOURS", "weekdays 8 to 5", "STAFFED_HOURS"),
        ("ONCALL_WEBHOOK_URL", "ftp://ngo.example.org/hook", "ONCALL_WEBHOOK_URL"),
    ],
)
def test_bad_on_call_settings_fail_at_start_naming_the_variable(variable, value, named):
    with pytest.raises(ConfigError, match=named):
        Config.from_env({variable: value})


def test_good_on_call_settings_load():
    config = Config.from_env(
        {"ONCALL_NUMBERS": "+254711000001, +254 711 000 002", "ONCALL_ACK_S": "imminent:60,high:600"}
    )
    assert config.ONCALL_NUMBERS == ("+254711000001", "+254 711 000 002")
    assert config.ack_seconds["imminent"] == 60
    with pytest.raises(ConfigError, match="ONCALL_WEBHOOK_SECRET"):
        Config.from_env({"ONCALL_WEBHOOK_URL": "https://ngo.example.org/hook"})


def test_webhook_signatures_verify_and_refuse_tampering_and_replay():
    body = b'{"case": 7}'
    now = int(datetime.now(UTC).timestamp())
    header = signature("s3cret-s3cret-s3cret", now, body)
    assert verify("s3cret-s3cret-s3cret", header, body)
    assert not verify("s3cret-s3cret-s3cret", header, b'{"case": 8}')
    assert not verify("another-secret-entirely", header, body)
    old = signature("s3cret-s3cret-s3cret", now - int(timedelta(hours=1).total_seconds()), body)
    assert not verify("s3cret-s3cret-s3cret", old, body)


@pytest.mark.parametrize("locale", ["en", "sw", "ar", "es", "fr", "hi"])
def test_a_message_that_gives_the_emergency_number_itself_hears_it_once(starter_content, locale):
    """A crisis follow-up names the number; the response-time sentence then leaves its own out."""
    number = "DEMO HELPLINE: +1 202 555 0100"
    weekend = Availability(False, 60, datetime(2026, 12, 14, 8, 0, tzinfo=NAIROBI), 3)
    evening = Availability(False, 60, datetime(2026, 12, 10, 8, 0, tzinfo=NAIROBI), 1)
    for found in (weekend, evening, Availability(False, 60), None):
        full = str(response_time.text(starter_content, found, locale, "sms", (), number))
        alone = str(response_time.text(starter_content, found, locale, "sms", (), number, gives_emergency=True))
        assert number in full and number not in alone
        assert alone and full.startswith(alone) and len(alone) < len(full)
        assert alone[-1] in response_time.SENTENCE_ENDS
