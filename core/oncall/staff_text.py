"""What alerts and confirmations say to staff, in their portal language.

Staff texts are translated with the portal's own catalogs (Babel, no Flask), so a health
worker who reads the portal in Kiswahili gets alerts in Kiswahili. They carry the case
number, severity, category in words and a portal link; never the person's number or words.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from babel.support import NullTranslations, Translations

from core.oncall.categories import SEVERITY_WORDS, words

TRANSLATIONS = Path(__file__).resolve().parent.parent / "portal" / "translations"


@lru_cache(maxsize=16)
def _catalog(locale: str) -> NullTranslations:
    return Translations.load(str(TRANSLATIONS), [locale], domain="portal")


def gettext(locale: str | None, message: str) -> str:
    return _catalog(locale or "en").gettext(message)


def case_link(base_url: str, case_id: int) -> str:
    return f"{base_url.rstrip('/')}/portal/cases/{case_id}"


def alert(case: Any, rung: int, base_url: str, locale: str | None) -> str:
    """The alert SMS: first rung "new case", later rungs say nobody has taken it yet."""
    severity = gettext(locale, SEVERITY_WORDS.get(case.severity, case.severity))
    category = gettext(locale, words(case))
    if rung <= 1:
        head = gettext(locale, "Tumaini case %(number)s: %(severity)s, %(category)s.")
    else:
        head = gettext(locale, "Tumaini case %(number)s NOT YET TAKEN: %(severity)s, %(category)s.")
    tail = gettext(locale, "Reply %(number)s to take it.")
    values = {"number": case.id, "severity": severity, "category": category}
    return f"{head % values} {tail % values} {case_link(base_url, case.id)}"


def person_replied(case_id: int, base_url: str, locale: str | None) -> str:
    """To the owner of a case whose person wrote back while the owner is in the conversation."""
    text = gettext(locale, "Tumaini case %(number)s: the person wrote back.") % {"number": case_id}
    return f"{text} {case_link(base_url, case_id)}"


def taken(case_id: int, base_url: str, locale: str | None) -> str:
    return f"{gettext(locale, 'Case %(number)s is yours.') % {'number': case_id}} {case_link(base_url, case_id)}"


def owned_by_other(case_id: int, owner: str, locale: str | None) -> str:
    return gettext(locale, "Case %(number)s is already taken by %(owner)s.") % {"number": case_id, "owner": owner}


def not_found(locale: str | None) -> str:
    return gettext(locale, "No open case with that number. Reply with the case number from the alert.")
