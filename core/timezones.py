"""Local time for each person: their zone, their chosen hour, and quiet hours.

Courses and check-ins go out at a person's chosen time of day in their own
zone, never during quiet hours. The zone comes from the phone number's country
(phonenumbers' time-zone data), with a sensible default for countries that
span several zones, and the person can override it by text. Everything here is
a pure function of its arguments (``now`` is always passed in), so the
calendar rules are tested table by table.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from core.exceptions import TumainiError

UNKNOWN_ZONE = "Etc/Unknown"
MINUTES_PER_DAY = 24 * 60

# phonenumbers still emits some pre-2000s zone names; zoneinfo knows them as links,
# but the canonical names read better in the portal and match what people search for.
CANONICAL = {
    "Asia/Calcutta": "Asia/Kolkata",
    "Asia/Katmandu": "Asia/Kathmandu",
    "Asia/Rangoon": "Asia/Yangon",
    "Asia/Saigon": "Asia/Ho_Chi_Minh",
    "Asia/Ulan_Bator": "Asia/Ulaanbaatar",
    "Africa/Asmera": "Africa/Asmara",
    "Atlantic/Faeroe": "Atlantic/Faroe",
    "Europe/Kiev": "Europe/Kyiv",
    "America/Godthab": "America/Nuuk",
    "Pacific/Truk": "Pacific/Chuuk",
    "Pacific/Ponape": "Pacific/Pohnpei",
    "Pacific/Enderbury": "Pacific/Kanton",
}

# Countries that span several zones: when the number alone does not say which, use
# the zone where most people live (usually the capital's).
COUNTRY_DEFAULT_ZONE = {
    "AR": "America/Argentina/Buenos_Aires",
    "AU": "Australia/Sydney",
    "BR": "America/Sao_Paulo",
    "CA": "America/Toronto",
    "CD": "Africa/Kinshasa",
    "CL": "America/Santiago",
    "EC": "America/Guayaquil",
    "ES": "Europe/Madrid",
    "ID": "Asia/Jakarta",
    "KZ": "Asia/Almaty",
    "MN": "Asia/Ulaanbaatar",
    "MX": "America/Mexico_City",
    "MY": "Asia/Kuala_Lumpur",
    "PT": "Europe/Lisbon",
    "RU": "Europe/Moscow",
    "UA": "Europe/Kyiv",
    "US": "America/New_York",
}


class InvalidTimeOfDay(TumainiError):
    """A TIME request that does not name an hour we can use."""


class UnknownZone(TumainiError):
    """A zone name that the zone database does not know."""


def zone(name: str) -> ZoneInfo:
    """The named zone; raise UnknownZone rather than a bare lookup error."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise UnknownZone(f"unknown time zone {name!r}") from None


def _known(name: str) -> str | None:
    name = CANONICAL.get(name, name)
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None
    return name


def zone_for_number(number: str, fallback: str = "UTC") -> str:
    """The IANA zone a phone number most likely lives in.

    One zone for the number: that zone. Several (a mobile number in Mexico or
    Russia): the country's most populous zone. Unknown or unparseable: ``fallback``.
    """
    import phonenumbers  # its zone tables load on first use, not at import
    from phonenumbers import timezone as phone_zones

    try:
        parsed = phonenumbers.parse(number, None)
    except phonenumbers.NumberParseException:
        return fallback
    candidates = [z for z in (_known(n) for n in phone_zones.time_zones_for_number(parsed)
                              if n != UNKNOWN_ZONE) if z]
    if len(candidates) == 1:
        return candidates[0]
    region = phonenumbers.region_code_for_number(parsed) or ""
    if region in COUNTRY_DEFAULT_ZONE:
        return COUNTRY_DEFAULT_ZONE[region]
    if not candidates:
        country_zones = [z for z in (_known(n) for n in
                                     phone_zones.time_zones_for_geographical_number(parsed)) if z]
        candidates = country_zones
    return sorted(candidates)[0] if candidates else fallback


# -- times of day ----------------------------------------------------------------
_CLOCK = re.compile(r"^(\d{1,2})(?:\s*[:.h]\s*(\d{2}))?\s*(am|pm|a\.m\.|p\.m\.)?$")
_OFFSET = re.compile(r"^(?:utc|gmt)?\s*([+-])\s*(\d{1,2})(?::?(\d{2}))?$")


def parse_clock(text: str) -> int:
    """Minutes after midnight for "7", "07:30", "18h30", "7.30", "7pm", "7 am"."""
    match = _CLOCK.match(text.strip().lower())
    if not match:
        raise InvalidTimeOfDay(f"not a time of day: {text!r}")
    hour, minute = int(match.group(1)), int(match.group(2) or 0)
    suffix = (match.group(3) or "").replace(".", "")
    if suffix:
        if not 1 <= hour <= 12:
            raise InvalidTimeOfDay("a 12-hour clock runs from 1 to 12")
        hour = hour % 12 + (12 if suffix == "pm" else 0)
    if hour > 23 or minute > 59:
        raise InvalidTimeOfDay(f"no such time: {text!r}")
    return hour * 60 + minute


def parse_zone(text: str) -> str:
    """An IANA name ("Africa/Nairobi") or a UTC offset ("UTC+3", "GMT-5", "+5:30")."""
    raw = text.strip()
    if raw.lower() in {"utc", "gmt", "z"}:
        return "UTC"
    match = _OFFSET.match(raw.lower())
    if match:
        sign, hours, minutes = match.group(1), int(match.group(2)), int(match.group(3) or 0)
        if minutes:
            # Etc/GMT zones are whole hours; half-hour offsets need a named zone.
            raise UnknownZone("use a zone name (e.g. Asia/Kolkata) for offsets with minutes")
        if hours > 14:
            raise UnknownZone(f"no such offset: {raw!r}")
        if hours == 0:
            return "UTC"
        # POSIX sign convention: Etc/GMT-3 is three hours *ahead* of UTC.
        return f"Etc/GMT{'-' if sign == '+' else '+'}{hours}"
    for candidate in (raw, "/".join(part.capitalize() for part in raw.split("/"))):
        name = _known(candidate)
        if name and "/" in name:
            return name
    raise UnknownZone(f"unknown time zone {raw!r}")


def parse_time_request(argument: str) -> tuple[int, str | None]:
    """The argument of a TIME message: an hour, optionally followed by a zone.

    "7" -> (420, None); "18:30 UTC+3" -> (1110, "Etc/GMT-3"); "7 am Africa/Lagos".
    """
    words = argument.split()
    if not words:
        raise InvalidTimeOfDay("no time given")
    for split in range(len(words), 0, -1):
        clock, rest = " ".join(words[:split]), " ".join(words[split:])
        try:
            minutes = parse_clock(clock)
        except InvalidTimeOfDay:
            continue
        if not rest:
            return minutes, None
        try:
            return minutes, parse_zone(rest)
        except UnknownZone as exc:
            raise InvalidTimeOfDay(str(exc)) from None
    raise InvalidTimeOfDay(f"not a time of day: {argument!r}")


def format_clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


@dataclass(frozen=True)
class QuietHours:
    """A nightly span (local time) when nothing scheduled is sent; may wrap midnight."""

    start: int = 21 * 60
    end: int = 8 * 60

    @classmethod
    def parse(cls, text: str) -> QuietHours:
        """From "21:00-08:00"; an empty string means no quiet hours."""
        if not text.strip():
            return cls(0, 0)
        try:
            start, end = text.split("-")
            return cls(parse_clock(start), parse_clock(end))
        except (ValueError, InvalidTimeOfDay):
            raise InvalidTimeOfDay(f"quiet hours must look like 21:00-08:00, not {text!r}") from None

    def contains(self, minute_of_day: int) -> bool:
        if self.start == self.end:
            return False
        if self.start < self.end:
            return self.start <= minute_of_day < self.end
        return minute_of_day >= self.start or minute_of_day < self.end

    def clamp(self, minute_of_day: int) -> int:
        """A chosen hour inside quiet hours moves to when they end (22:00 -> 08:00)."""
        return self.end if self.contains(minute_of_day) else minute_of_day

    def is_quiet(self, moment: datetime, tz: ZoneInfo) -> bool:
        local = moment.astimezone(tz)
        return self.contains(local.hour * 60 + local.minute)


def _minute(moment: datetime) -> int:
    return moment.hour * 60 + moment.minute


def local_date(moment: datetime, tz: ZoneInfo) -> date:
    return moment.astimezone(tz).date()


def slot(day: date, minute_of_day: int, tz: ZoneInfo, quiet: QuietHours) -> datetime:
    """The UTC instant of ``minute_of_day`` (kept out of quiet hours) on a local date."""
    minute = quiet.clamp(minute_of_day)
    local = datetime.combine(day, time(minute // 60, minute % 60), tzinfo=tz)
    # A local time skipped by a daylight-saving jump resolves to a real instant here.
    return local.astimezone(UTC)


def next_slot(now: datetime, minute_of_day: int, tz: ZoneInfo, quiet: QuietHours) -> datetime:
    """The first ``minute_of_day`` (out of quiet hours) strictly after ``now``."""
    today = local_date(now, tz)
    for offset in range(0, 3):
        candidate = slot(today + timedelta(days=offset), minute_of_day, tz, quiet)
        if candidate > now:
            return candidate
    raise AssertionError("unreachable: a slot always exists within two days")


def first_due(now: datetime, tz: ZoneInfo, quiet: QuietHours, minute_of_day: int) -> datetime:
    """When a newly joined course's first message goes: at once, unless it is quiet hours."""
    return now if not quiet.is_quiet(now, tz) else next_slot(now, minute_of_day, tz, quiet)


def send_deadline(due: datetime, tz: ZoneInfo, quiet: QuietHours, max_late: timedelta) -> datetime:
    """The last moment a message due at ``due`` may still go: before quiet hours begin,
    and no later than ``max_late`` after it was due. After that it is skipped."""
    latest = due + max_late
    if quiet.start == quiet.end:
        return latest
    if quiet.is_quiet(due, tz):
        return due  # never due in quiet hours by construction; if so, it may not wait into them
    local = due.astimezone(tz)
    for offset in range(0, 2):
        day = local.date() + timedelta(days=offset)
        start = datetime.combine(day, time(quiet.start // 60, quiet.start % 60), tzinfo=tz)
        if start.astimezone(UTC) > due:
            return min(latest, start.astimezone(UTC))
    return latest
