"""The gate's verdict: an ordered risk level plus what fired.

Levels are ordered so callers can write ``assessment.level >= Level.HIGH`` for
"open the crisis path". The assessment names rule and lexicon ids, never the
text that matched, so it can be logged and stored without carrying a message
body.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass


class Level(enum.IntEnum):
    """Risk levels in increasing order of urgency."""

    NONE = 0
    CONCERN = 1  # distress without danger: a supportive check-in
    HIGH = 2  # thoughts of suicide or self-harm, abuse, harm to others: crisis path
    IMMINENT = 3  # a plan, means or time: crisis path, escalate at once

    @classmethod
    def parse(cls, name: str) -> Level:
        """Read a level as written in lexicon files (``none``, ``concern``...)."""
        try:
            return cls[name.strip().upper()]
        except KeyError:
            raise ValueError(f"unknown level {name!r}") from None

    @property
    def label(self) -> str:
        return self.name.lower()


# The crisis categories, each with its own pathway (reply, follow-up, services),
# in the order that picks ONE pathway when a message raises several at the
# same severity. Harm already under way comes first, then severity, then this
# order:
# - child_safeguarding: a child disclosing abuse needs child protection, which
#   also covers the violence or sexual abuse the child describes;
# - command_hallucination: voices ordering harm need a clinical response that
#   the suicide or violence pathway alone does not give;
# - suicide, then sexual_violence, violence (incl. intimate-partner violence
#   and threats to life) and self_harm: danger to the person's own life first;
# - third_party: someone else at risk, when the person reports no risk of
#   their own.
# A child's disclosure and command voices decide the pathway whenever they
# reach HIGH, even when another category is rated higher: "the voices tell me
# to jump off the bridge" needs the clinical response to the voices, and the
# plan it names already sets the severity of the case.
PATHWAY_PRECEDENCE = (
    "child_safeguarding",
    "command_hallucination",
    "suicide",
    "sexual_violence",
    "violence",
    "self_harm",
    "third_party",
)
OVERRIDING = ("child_safeguarding", "command_hallucination")
DISTRESS = "distress"  # the category of CONCERN: distress without danger
CATEGORIES = frozenset(PATHWAY_PRECEDENCE) | {DISTRESS}
SIGNALS = frozenset({"method", "time", "farewell"})


def choose_category(levels: Mapping[str, Level], in_progress: Iterable[str] = ()) -> str | None:
    """The one pathway category for a message, from the level each category reached.

    ``levels`` maps categories to the highest level they reached; ``in_progress``
    names the categories whose harm is already done or happening now. Below
    HIGH the category is ``distress`` (CONCERN) or None (NONE).
    """
    top = max(levels.values(), default=Level.NONE)
    if top < Level.HIGH:
        return DISTRESS if top == Level.CONCERN else None
    crisis = {cat: lvl for cat, lvl in levels.items() if cat in PATHWAY_PRECEDENCE and lvl >= Level.HIGH}
    if not crisis:
        return DISTRESS
    ongoing = [cat for cat in crisis if cat in set(in_progress)]
    if not ongoing:
        for cat in OVERRIDING:
            if cat in crisis:
                return cat
    pool = ongoing or list(crisis)
    best = max(crisis[cat] for cat in pool)
    return min((cat for cat in pool if crisis[cat] == best), key=PATHWAY_PRECEDENCE.index)


@dataclass(frozen=True)
class Assessment:
    """What the gate concluded about one message.

    ``rules`` holds the ids of lexicon entries and combination rules that
    fired, in a stable order; ``lang_checked`` the lexicon locales applied to
    the original text, the message's own language first.

    ``categories`` lists every category that fired; ``category`` is the one
    pathway the crisis reply follows (see ``choose_category``): a crisis
    category at HIGH and above, ``distress`` at CONCERN, None at NONE.
    ``in_progress`` is True when harm is already done or happening now (pills
    swallowed, an injury made, an attack under way): the reply then always
    carries the emergency number.

    ``ask`` names the pathway a message below HIGH leans towards when the learnt
    reading finds a crisis possible but not clear: the conversation then asks the
    person directly whether they are in danger, rather than guessing either way.
    """

    level: Level
    categories: tuple[str, ...] = ()
    rules: tuple[str, ...] = ()
    lang_checked: tuple[str, ...] = ()
    category: str | None = None
    in_progress: bool = False
    ask: str | None = None

    @property
    def is_crisis(self) -> bool:
        """True when the crisis path must open (HIGH or IMMINENT)."""
        return self.level >= Level.HIGH
