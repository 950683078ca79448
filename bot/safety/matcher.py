"""Finding lexicon hits in one normalised message, with idioms and negation.

Three steps, in this order:

1. every entry of every applied lexicon is searched (whole tokens only);
2. hits that overlap a benign idiom ("nataka kufa na kicheko", "dying to see
   you") are dropped: the idiom is the better reading of those words;
3. each remaining hit is checked for negation in its own language's scope.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from bot.safety.lexicon import Entry, Lexicon, Negation
from bot.safety.patterns import token_span


@dataclass(frozen=True)
class Hit:
    """One entry matched at a token span [start, end)."""

    entry: Entry
    start: int
    end: int
    negated: bool = False


def _spans(regex: re.Pattern[str], text: str) -> list[tuple[int, int]]:
    return [token_span(text, m.start(), m.end()) for m in regex.finditer(text) if m.end() > m.start()]


def _overlaps(a: tuple[int, int], b: tuple[int, int]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def _cue_spans(cues: Iterable[re.Pattern[str]], pseudo: list[tuple[int, int]], text: str) -> list[tuple[int, int]]:
    found = []
    for cue in cues:
        for span in _spans(cue, text):
            if not any(span[0] >= p[0] and span[1] <= p[1] for p in pseudo):
                found.append(span)
    return found


def _all_fillers(gap: list[str], negation: Negation) -> bool:
    return len(gap) <= negation.window and all(tok in negation.fillers for tok in gap)


def is_negated(span: tuple[int, int], toks: list[str], text: str, negation: Negation) -> bool:
    """True when a cue scopes over the hit with only filler words between."""
    if not (negation.before or negation.after):
        return False
    pseudo = [s for p in negation.pseudo for s in _spans(p, text)]
    for cue in _cue_spans(negation.before, pseudo, text):
        if cue[1] <= span[0] and _all_fillers(toks[cue[1] : span[0]], negation):
            return True
    for cue in _cue_spans(negation.after, pseudo, text):
        if cue[0] >= span[1] and _all_fillers(toks[span[1] : cue[0]], negation):
            return True
    return False


def find_hits(text: str, lexicons: Iterable[Lexicon], primary: str | None = None) -> tuple[list[Hit], list[Entry]]:
    """Hits of all lexicons in one normalised text, and the benign idioms that fired.

    Negation belongs to the language of the text, not to the lexicon that
    happened to know the word: "suicid*" is in the French lexicon too, yet
    "I'm not suicidal" is negated by English rules. So a hit is checked with
    its own lexicon's rules, the message language's rules (``primary``) and
    the rules of every other lexicon that matched an overlapping span.
    """
    lexicons = list(lexicons)
    by_locale = {lx.locale: lx for lx in lexicons}
    masks: list[tuple[Entry, tuple[int, int]]] = []
    for lexicon in lexicons:
        for idiom in lexicon.benign:
            masks.extend((idiom, span) for span in _spans(idiom.regex, text))
    raw: list[tuple[Entry, tuple[int, int]]] = []
    used_masks: dict[str, Entry] = {}
    for lexicon in lexicons:
        for entry in lexicon.entries:
            for span in _spans(entry.regex, text):
                covering = [idiom for idiom, mspan in masks if _overlaps(span, mspan)]
                if covering:
                    used_masks.update((idiom.id, idiom) for idiom in covering)
                else:
                    raw.append((entry, span))
    toks = text.split()
    hits = []
    for entry, span in raw:
        locales = {entry.locale} | {other.locale for other, ospan in raw if _overlaps(span, ospan)}
        if primary in by_locale:
            locales.add(primary)
        rules = [by_locale[loc].negation for loc in sorted(locales)]
        negated = any(is_negated(span, toks, text, negation) for negation in rules)
        hits.append(Hit(entry, span[0], span[1], negated))
    return hits, list(used_masks.values())
