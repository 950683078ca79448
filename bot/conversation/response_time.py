"""The ``{response_time}`` value: an honest sentence about when a health worker will reply.

The worker says what is true now (``Turn.availability``: staffed or not, the promised
minutes, when staff are back); this words it from approved content in the person's
language. Nobody on duty is never "soon": the person hears the day and hour staff come
back and the number to call in danger now. A message that gives the emergency number itself
(every crisis follow-up does) takes the sentence without its own danger clause, so a
frightened person reads the number once, not twice in two lines.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_time

STAFFED_MINUTES = "oncall.response_time.minutes"
STAFFED_HOUR = "oncall.response_time.hour"
STAFFED_HOURS = "oncall.response_time.hours"
TODAY = "oncall.response_time.today"
TOMORROW = "oncall.response_time.tomorrow"
LATER = "oncall.response_time.later"
UNSTAFFED = "oncall.response_time.unstaffed"
ITEMS = (STAFFED_MINUTES, STAFFED_HOUR, STAFFED_HOURS, TODAY, TOMORROW, LATER, UNSTAFFED)
SENTENCE_ENDS = ".!?।።؟"  # Latin, Devanagari, Ge'ez and Arabic full stops
_MARK = "\x00"


class Lazy:
    """A placeholder value worked out only if the text being rendered uses it."""

    def __init__(self, compute: Callable[[], str]):
        self._compute = compute

    def __str__(self) -> str:
        return self._compute()


def _babel_locale(locale: str) -> Locale:
    try:
        return Locale.parse(locale.replace("-", "_"))
    except (UnknownLocaleError, ValueError):
        return Locale.parse("en")


def choose(availability: Any) -> tuple[str, dict[str, str], Any]:
    """(content item, values without locale-specific words, the back-at moment or None)."""
    if availability is None:
        return UNSTAFFED, {}, None
    if availability.staffed:
        minutes = int(availability.within_minutes)
        if minutes < 60:
            return STAFFED_MINUTES, {"minutes": str(minutes)}, None
        if minutes < 90:
            return STAFFED_HOUR, {}, None
        return STAFFED_HOURS, {"hours": str(round(minutes / 60))}, None
    back = availability.back_at
    if back is None:
        return UNSTAFFED, {}, None
    item = TODAY if availability.back_in_days == 0 else TOMORROW if availability.back_in_days == 1 else LATER
    return item, {}, back


def without_danger_clause(sentence: str, emergency: str) -> str:
    """``sentence`` (rendered with ``_MARK`` for the emergency number) without the sentence
    that names the number; the whole of it, number restored, when that cannot be told apart."""
    at = sentence.find(_MARK)
    if at < 0:
        return sentence
    end = max(sentence.rfind(mark, 0, at) for mark in SENTENCE_ENDS)
    if end <= 0:
        return sentence.replace(_MARK, emergency)
    return sentence[: end + 1].rstrip()


def text(content: Any, availability: Any, locale: str, channel: str, fallbacks: Sequence[str], emergency: str,
         gives_emergency: bool = False) -> Lazy:
    """``gives_emergency``: the message around it already names the emergency number."""
    def compute() -> str:
        item, values, back = choose(availability)
        values["emergency"] = _MARK if gives_emergency else emergency

        def render(words_locale: str) -> Any:
            if back is not None:
                where = _babel_locale(words_locale)
                values["time"] = format_time(back, "HH:mm", locale=where)
                values["day"] = format_date(back, "EEEE", locale=where)
            return content.render(item, locale, channel, values, fallbacks=fallbacks)

        rendered = render(locale)
        if back is not None and rendered.locale != locale:
            rendered = render(rendered.locale)  # the day's name in the language the sentence came in
        return without_danger_clause(str(rendered.text), emergency) if gives_emergency else str(rendered.text)

    return Lazy(compute)
