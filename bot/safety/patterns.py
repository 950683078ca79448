"""The small pattern language curators write in crisis lexicons.

Curators are health workers and community members, not programmers, so a
pattern is a phrase in the language itself, with four helpers:

- ``*`` inside a word matches any letters: ``suicid*``, ``*نتحر*``.
- ``(a|b|c)`` offers alternatives, each a word or a phrase: ``(to|2) die``.
- a ``?`` after a word or group makes it optional: ``(really|so)? tired of life``.
- ``~`` (or ``~2``) allows up to three (or two) words in between:
  ``want ~ die`` matches "want to just die".

A pattern starting with ``re:`` is a regular expression applied to the
normalised text (lower case, no accents, single spaces, one space at each
end), for the rare case the phrase form cannot say it.

Everything else goes through the same normaliser as messages, so accents,
case and repeated letters never need spelling out.
"""

from __future__ import annotations

import re

from bot.safety.exceptions import LexiconError
from bot.safety.normalize import normalise

_GAP = re.compile(r"^~(\d*)$")
DEFAULT_GAP = 3


def _split_top(text: str, sep: str) -> list[str]:
    """Split on ``sep`` outside parentheses."""
    parts: list[str] = []
    current: list[str] = []
    depth = 0
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth < 0:
                raise LexiconError(f"unbalanced ')' in pattern {text!r}")
        if ch == sep and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
    if depth != 0:
        raise LexiconError(f"unbalanced '(' in pattern {text!r}")
    parts.append("".join(current))
    return parts


def _word(word: str) -> str:
    """Regex for one word, with ``*`` wildcards, normalised like messages."""
    pieces = [normalise(piece).strip() for piece in word.split("*")]
    return r"\S*".join(re.escape(piece) for piece in pieces)


def _phrase(phrase: str) -> str:
    """Regex for a space-separated phrase; every token ends with one space."""
    out = []
    for token in (t for t in _split_top(phrase.strip(), " ") if t):
        gap = _GAP.match(token)
        if gap:
            limit = int(gap.group(1) or DEFAULT_GAP)
            out.append(rf"(?:\S+ ){{0,{limit}}}")
            continue
        optional = token.endswith("?")
        body = token[:-1] if optional else token
        if body.startswith("(") and body.endswith(")"):
            alternatives = [_phrase(alt) for alt in _split_top(body[1:-1], "|")]
            if not all(alternatives):
                raise LexiconError(f"empty alternative in {token!r}")
            core = "(?:" + "|".join(alternatives) + ")"
        else:
            if "(" in body or ")" in body or "|" in body:
                raise LexiconError(f"misplaced parenthesis or '|' in {token!r}")
            word = _word(body)
            if not word.replace(r"\S*", ""):
                continue  # punctuation only: it normalises away, like in messages
            core = "(?:" + word + " )"
        out.append(f"(?:{core})?" if optional else core)
    return "".join(out)


def compile_patterns(patterns: list[str], where: str) -> re.Pattern[str]:
    """One regex matching any of an entry's patterns at token boundaries.

    ``where`` names the file and entry for error messages aimed at curators.
    """
    bodies = []
    for pattern in patterns:
        if not isinstance(pattern, str) or not pattern.strip():
            raise LexiconError(f"{where}: every pattern must be non-empty text")
        if pattern.startswith("re:"):
            body = pattern[3:]
        else:
            try:
                body = _phrase(pattern)
            except LexiconError as exc:
                raise LexiconError(f"{where}: {exc}") from None
            if not body:
                raise LexiconError(f"{where}: pattern {pattern!r} has no letters left after normalisation")
        bodies.append(body)
    source = "(?<= )(?:" + "|".join(f"(?:{b})" for b in bodies) + ")"
    try:
        return re.compile(source)
    except re.error as exc:
        raise LexiconError(f"{where}: pattern does not compile: {exc}") from None


def token_span(text: str, start: int, end: int) -> tuple[int, int]:
    """Token indices [first, last+1) of a match in a normalised string."""
    first = text.count(" ", 0, start) - 1
    last = text.count(" ", 0, end) - (1 if text[end - 1 : end] == " " else 0)
    return first, max(last, first + 1)
