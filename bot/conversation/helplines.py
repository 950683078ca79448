"""The ``{helplines}`` of a crisis reply: the services of its pathway, open now or when they open.

A person in crisis must never be sent to a line that is closed as if it were open. The
pathway names the kinds of service (crisis, gbv, child_protection, emergency...); the
region's helplines say what they serve and their opening hours in the region's time zone.
Open services are listed as they are; a closed one is listed with the day and hour it
opens (approved wording in the person's language); the region's emergency number closes
the list when the pathway names emergency services or nothing is open now. The moment
comes with the turn, so this stays a pure function.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_time

from content.hours import InvalidHours, OpeningHours
from content.pathways import OPENS_LATER, OPENS_TODAY, serving
from content.render import format_emergency, format_helpline


def _babel(locale: str) -> Locale:
    try:
        return Locale.parse(locale.replace("-", "_"))
    except (UnknownLocaleError, ValueError):
        return Locale.parse("en")


def _hours(helpline: Any) -> OpeningHours:
    try:
        return OpeningHours.parse(helpline.opening_hours)
    except InvalidHours:
        return OpeningHours()  # unreadable hours are unknown hours (the validator reports them)


def text(
    content: Any,
    region: Any,
    services: Sequence[str],
    now: datetime | None,
    locale: str,
    channel: str,
    fallbacks: Sequence[str],
) -> str:
    """The list for one pathway; ``now`` None (no clock given) lists every service with its hours."""
    if region is None:
        return ""
    try:
        zone = ZoneInfo(region.time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    lines: list[str] = []
    open_now = False
    for helpline in serving(region.helplines, services):
        hours = _hours(helpline)
        if now is None or not hours.known:
            shown = helpline.hours or helpline.opening_hours
            lines.append(format_helpline(helpline) + (f" ({shown})" if shown else ""))
        elif hours.is_open(now, zone):
            lines.append(format_helpline(helpline))
            open_now = True
        else:
            opens = hours.next_opening(now, zone)
            if opens is not None:
                lines.append(_opens(content, helpline, opens, now.astimezone(zone), locale, channel, fallbacks))
    emergency = region.emergency
    if emergency is not None and ("emergency" in services or not open_now):
        line = format_emergency(emergency)
        if line not in lines:
            lines.append(line)
    return "\n".join(lines)


def _opens(
    content: Any,
    helpline: Any,
    opens: datetime,
    local_now: datetime,
    locale: str,
    channel: str,
    fallbacks: Sequence[str],
) -> str:
    """ "Name: number (opens today at 08:00)" in the person's language, the day named in it too."""
    item = OPENS_TODAY if opens.date() == local_now.date() else OPENS_LATER

    def render(words_locale: str) -> Any:
        where = _babel(words_locale)
        values = {
            "service": format_helpline(helpline),
            "time": format_time(opens, "HH:mm", locale=where),
            "day": format_date(opens, "EEEE", locale=where),
        }
        return content.render(item, locale, channel, values, fallbacks=fallbacks)

    rendered = render(locale)
    if rendered.locale != locale:
        rendered = render(rendered.locale)
    return str(rendered.text)
