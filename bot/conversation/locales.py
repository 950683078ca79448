"""The locales a person accepted, and the order replies fall back through.

Each language a person chooses (or consents in) is remembered, most recent
first. When an item has no approved text in their current language, the reply
comes in the one they read before, then in their region's main language, and
only then in the library default: the nearest language they can read.
"""

from __future__ import annotations

from collections.abc import Sequence

MAX_ACCEPTED = 5  # five locales of at most 16 characters fit the contacts column
SEPARATOR = ","


def parse(stored: str | None) -> tuple[str, ...]:
    """The stored column ("sw,en") as a tuple, most recent first."""
    if not stored:
        return ()
    return tuple(dict.fromkeys(code.strip() for code in stored.split(SEPARATOR) if code.strip()))


def remember(accepted: Sequence[str], locale: str) -> tuple[str, ...]:
    """``accepted`` with ``locale`` moved to the front; the oldest drop off past MAX_ACCEPTED."""
    return tuple(dict.fromkeys((locale, *accepted)))[:MAX_ACCEPTED]


def serialise(accepted: Sequence[str]) -> str | None:
    """The column value for ``accepted`` (None when empty)."""
    return SEPARATOR.join(accepted) or None


def fallback_chain(accepted: Sequence[str], region_locale: str | None, library_default: str) -> tuple[str, ...]:
    """Where to look after the locale asked for: the person's accepted locales in order,
    their region's default locale, then the library default (each once)."""
    chain = [*accepted, *((region_locale,) if region_locale else ()), library_default]
    return tuple(dict.fromkeys(chain))
