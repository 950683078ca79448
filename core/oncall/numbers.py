"""Staff phone numbers: one canonical E.164 form, so the same phone always has the same HMAC."""

from __future__ import annotations

import phonenumbers

from core.exceptions import TumainiError


class InvalidNumber(TumainiError):
    """Not a phone number in international (E.164) form."""


def e164(raw: str) -> str:
    """``+254 700 000 001`` -> ``+254700000001``; anything that is not a possible number raises."""
    text = raw.strip()
    if not text.startswith("+"):
        raise InvalidNumber("start with + and the country code")
    try:
        parsed = phonenumbers.parse(text, None)
    except phonenumbers.NumberParseException as exc:
        raise InvalidNumber(str(exc)) from None
    if not phonenumbers.is_possible_number(parsed):
        raise InvalidNumber("not a possible phone number")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
