"""Reading what a person typed, the same way in every flow and every script.

Replies are compared folded (case, accents and trailing punctuation dropped), and numbers are
read in any script's decimal digits, so "Yes!", "٣" and "३" mean what they look like wherever
the person is in a conversation.
"""

from __future__ import annotations

import re
import unicodedata

from babel import Locale, UnknownLocaleError


def fold(text: str) -> str:
    """The text as replies are compared: case-folded, accents dropped, outer punctuation trimmed."""
    decomposed = unicodedata.normalize("NFKD", text.strip().casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c)).strip(" .!?,;:")


def number(folded: str) -> int | None:
    """A whole number typed in any script's decimal digits ("3", "٣", "३"), else None.

    str.isdigit() also accepts characters int() cannot read (superscripts, Kharoshthi "𐩀"),
    so a reply to a numbered question is read with this, never with isdigit() and int().
    """
    return int(folded) if folded.isdecimal() and len(folded) <= 6 else None


def same_reply(expected: str, text: str) -> bool:
    """A reply matches a choice by its words or, for a number, in any script's digits."""
    wanted, got = fold(expected), fold(text)
    return wanted == got or (number(wanted) is not None and number(wanted) == number(got))


def carries_code(text: str, code: str) -> bool:
    """True when a number in the text, in any script's digits, is the code ("DELETE 482193", "٤٨٢١٩٣")."""
    return any(int(run) == int(code) for run in re.findall(r"\d+", text) if len(run) <= 8)


def native_name(code: str) -> str:
    """A language's name in that language ("Kiswahili", "Español"), for menus."""
    try:
        name = Locale.parse(code.replace("-", "_")).get_display_name(code.replace("-", "_")) or code
    except (ValueError, UnknownLocaleError):
        return code
    return name[:1].upper() + name[1:]


def english_name(code: str) -> str:
    """A language's English name ("Swahili"), which people also type to pick it."""
    try:
        return Locale.parse(code.replace("-", "_")).get_display_name("en") or code
    except (ValueError, UnknownLocaleError):
        return code
