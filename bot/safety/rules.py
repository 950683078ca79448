"""Turning lexicon hits into a level: negation, and method/time combinations.

- A negated hit counts as CONCERN at most. "I would never kill myself" still
  raised the topic, so a gentle check-in is right; the crisis path is not.
- A crisis hit (HIGH) together with a separate, non-negated signal of means
  (pills, rope, pesticide...), time (tonight, now...) or farewell ("goodbye
  forever") is IMMINENT: intent plus a plan is what a clinician asks about.
- Farewell preparations (letters to the family, giving things away) are
  HIGH when a separate time or method signal comes with them.
- Other signals alone set no level: "buy rat poison today" is a shopping list.
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


def combine(hits: list[Hit]) -> Verdict:
    """The level, categories and rule ids implied by one text's hits."""
    level = Level.NONE
    categories: set[str] = set()
    rules: set[str] = set()
    by_category: dict[str, Level] = {}
    in_progress: set[str] = set()

    def raise_category(category: str, to: Level) -> None:
        by_category[category] = max(by_category.get(category, Level.NONE), to)

    for hit in hits:
        if hit.negated:
            rules.add(f"neg:{hit.entry.id}")
        else:
            rules.add(hit.entry.id)
        effective = _effective(hit)
        if effective > Level.NONE and not hit.negated and hit.entry.category:
            categories.add(hit.entry.category)
            raise_category(hit.entry.category, effective)
            if hit.entry.in_progress:
                in_progress.add(hit.entry.category)
        level = max(level, effective)

    intents = [h for h in hits if not h.negated and h.entry.level >= Level.HIGH]
    signals = [h for h in hits if not h.negated and h.entry.signal]
    for intent in intents:
        for signal in signals:
            same = signal.entry.id == intent.entry.id and signal.start == intent.start
            if not same:
                level = Level.IMMINENT
                if intent.entry.category:
                    raise_category(intent.entry.category, Level.IMMINENT)
                rules.add(f"combo:{intent.entry.category}+{signal.entry.signal}")
    if level < Level.HIGH:
        farewells = [h for h in signals if h.entry.signal == "farewell"]
        for farewell in farewells:
            for other in signals:
                if other.entry.signal != "farewell" and other.entry.id != farewell.entry.id:
                    level = Level.HIGH
                    categories.add("suicide")
                    raise_category("suicide", Level.HIGH)
                    rules.add(f"combo:farewell+{other.entry.signal}")
    negated = any(h.negated and h.entry.level >= Level.HIGH for h in hits)
    return Verdict(level, frozenset(categories), frozenset(rules), negated, False, by_category, frozenset(in_progress))
