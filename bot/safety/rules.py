"""Turning lexicon hits into a level: negation, and method/time combinations.

- A negated hit counts as CONCERN at most. "I would never kill myself" still
  raised the topic, so a gentle check-in is right; the crisis path is not.
- A crisis hit (HIGH) together with a separate, non-negated signal of means
  (pills, rope, pesticide...), time (tonight, now...) or farewell ("goodbye
  forever") is IMMINENT: intent plus a plan is what a clinician asks about.
- Farewell preparations (letters to the family, giving things away) are
  HIGH when a separate time or method signal comes with them, when distress
  comes with them ("I can't cope any more, I've said my goodbyes"), or when
  two of them stand on separate words ("giving my things away, I won't need
  them soon"): warning signs add up, as clinicians count them.
- Other signals alone set no level: "buy rat poison today" is a shopping list.
- Signals count only in the message's own languages: the language it was
  said to be in and those of its crisis or distress words. Yoruba "sun"
  (sleep) is Somali for poison; a Yoruba message does not borrow it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from bot.safety.levels import Level, choose_category
from bot.safety.matcher import Hit

NEGATED_CEILING = Level.CONCERN


@dataclass(frozen=True)
class Verdict:
    level: Level
    categories: frozenset[str]
    rules: frozenset[str]
    negated: bool  # some crisis term was present but negated
    masked: bool = False  # a benign idiom won over a crisis reading of the same words
    category_levels: Mapping[str, Level] = field(default_factory=dict)  # highest level per category
    in_progress: frozenset[str] = frozenset()  # categories whose harm is done or under way

    @property
    def category(self) -> str | None:
        """The one pathway category (see ``levels.choose_category``)."""
        return choose_category(self.category_levels, self.in_progress)

    def may_be_raised(self) -> bool:
        """Whether the similarity layer may lift this verdict to HIGH.

        Not when the lexicon already says HIGH, and not when it has recognised
        a negation or a benign idiom: there it has read the words more closely
        than an embedding can.
        """
        return self.level < Level.HIGH and not self.negated and not self.masked


def _effective(hit: Hit) -> Level:
    return min(hit.entry.level, NEGATED_CEILING) if hit.negated else hit.entry.level


def _separate(spans: list[tuple[int, int]]) -> bool:
    """Whether two of these (sorted) spans share no word."""
    first_end = None
    for start, end in spans:
        if first_end is not None and start >= first_end:
            return True
        first_end = end if first_end is None else min(first_end, end)
    return False


def _own_signals(hits: list[Hit], primary: str | None) -> list[Hit]:
    """The hits, less signals from a lexicon whose language the message is not in.

    A message's languages are ``primary`` (the one it was said to be in) and
    those of every entry with a level that matched it, negated or not; a
    lexicon that only lent a signal word is not one of them.
    """
    own = {h.entry.locale for h in hits if h.entry.level > Level.NONE}
    if primary:
        own.add(primary)
    return [h for h in hits if not h.entry.signal or h.entry.level > Level.NONE or h.entry.locale in own]


def combine(hits: list[Hit], primary: str | None = None) -> Verdict:
    """The level, categories and rule ids implied by one text's hits (``primary``: the message's language)."""
    hits = _own_signals(hits, primary)
    level = Level.NONE
    categories: set[str] = set()
    rules: set[str] = set()
    by_category: dict[str, Level] = {}
    in_progress: set[str] = set()

    def raise_category(category: str, to: Level) -> None:
        by_category[category] = max(by_category.get(category, Level.NONE), to)

    seen: set[tuple[str, str | None, bool]] = set()
    for hit in hits:
        key = (hit.entry.id, hit.category, hit.negated)
        if key in seen:
            continue  # the same words again: nothing new to learn from them
        seen.add(key)
        if hit.negated:
            rules.add(f"neg:{hit.entry.id}")
        else:
            rules.add(hit.entry.id)
            if hit.category != hit.entry.category:
                rules.add(f"{hit.category}:{hit.entry.id}")
        effective = _effective(hit)
        if effective > Level.NONE and not hit.negated and hit.category:
            categories.add(hit.category)
            raise_category(hit.category, effective)
            if hit.in_progress:
                in_progress.add(hit.category)
        level = max(level, effective)

    # Intent plus a signal on other words is a plan. Each intent is checked
    # against the earliest end and latest start of every kind of signal, so a
    # long message of repeated words stays linear.
    intents = {(h.category, h.start, h.end) for h in hits if not h.negated and h.entry.level >= Level.HIGH}
    bounds: dict[str, tuple[int, int]] = {}
    for h in hits:
        if not h.negated and h.entry.signal:
            low, high = bounds.get(h.entry.signal, (h.end, h.start))
            bounds[h.entry.signal] = (min(low, h.end), max(high, h.start))
    kinds = set(bounds)
    for category, start, end in intents:
        for kind, (first_end, last_start) in bounds.items():
            if first_end <= start or last_start >= end:
                level = Level.IMMINENT
                if category:
                    raise_category(category, Level.IMMINENT)
                rules.add(f"combo:{category}+{kind}")
    if level < Level.HIGH and "farewell" in kinds:
        others = {k for k in kinds if k != "farewell"}
        if any(not h.negated and h.entry.level == Level.CONCERN for h in hits):
            others.add("distress")
        if _separate(sorted((h.start, h.end) for h in hits if not h.negated and h.entry.signal == "farewell")):
            others.add("farewell")
        if others:
            level = Level.HIGH
            categories.add("suicide")
            raise_category("suicide", Level.HIGH)
            rules.update(f"combo:farewell+{k}" for k in others)
    negated = any(h.negated and h.entry.level >= Level.HIGH for h in hits)
    return Verdict(level, frozenset(categories), frozenset(rules), negated, False, by_category, frozenset(in_progress))
