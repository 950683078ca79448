"""Which of the deployment's regions a phone number belongs to.

A region (content/library/regions/*.yaml) lists the countries it serves. When
exactly one region lists the country of a person's number, that is their
region and nobody needs to ask. When none or several do, the conversation
asks after consent (bot.conversation.region).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


def country_for_number(number: str) -> str | None:
    """The ISO country code ("KE") of an E.164 number, or None when it cannot be told.

    A WhatsApp business-scoped user id ("KE.1234...") names its country in its prefix.
    """
    import phonenumbers  # its metadata loads on first use, not at import

    from bot.channels.base import country_of_business_user_id

    if (country := country_of_business_user_id(number)) is not None:
        return country

    try:
        parsed = phonenumbers.parse(number, None)
    except phonenumbers.NumberParseException:
        return None
    country = phonenumbers.region_code_for_number(parsed)
    return country if country and country != phonenumbers.UNKNOWN_REGION else None


def region_for_country(country: str | None, regions: Iterable[Any]) -> str | None:
    """The id of the one region that lists ``country``; None when no region or several do."""
    if not country:
        return None
    matches = [r.id for r in regions if country.upper() in {c.upper() for c in r.country_codes}]
    return matches[0] if len(matches) == 1 else None


def region_for_number(number: str, regions: Iterable[Any]) -> str | None:
    """The region a number's country settles, or None (then the person is asked)."""
    return region_for_country(country_for_number(number), regions)
