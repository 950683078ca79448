"""Risk categories in words, for the portal and for alerts (never rule ids)."""

from __future__ import annotations

from typing import Any

from core.tables import CaseKind

# The shared category ids; the words are what a health worker reads. The portal passes them
# through its translations, alerts through the staff member's portal language.
CATEGORY_WORDS: dict[str, str] = {
    "suicide": "suicide risk",
    "self_harm": "self-harm",
    "third_party": "risk to someone else",
    "command_hallucination": "voices telling them to do harm",
    "violence": "violence or a threat to life",
    "child_safeguarding": "a child at risk",
    "sexual_violence": "sexual violence",
    "distress": "distress",
    "handoff": "asked to talk to a person",
    "disclosed": "said yes when asked if in danger",  # bot.conversation.ask: the words left it unclear
    "unknown": "risk (category not recorded)",
}
CATEGORIES = tuple(k for k in CATEGORY_WORDS if k not in {"handoff", "disclosed", "unknown"})

SEVERITY_WORDS: dict[str, str] = {"imminent": "IMMINENT", "high": "HIGH", "concern": "concern"}


def category_of(case: Any) -> str:
    """The case's category id: the recorded one, else read from its rule ids (older cases)."""
    if getattr(case, "kind", None) == CaseKind.HANDOFF:
        return "handoff"
    if getattr(case, "category", None) in CATEGORY_WORDS:
        return str(case.category)
    reason = (getattr(case, "reason", "") or "").lower()
    for category in CATEGORIES:  # in the gate's precedence order: suicide first
        if category in reason or category.replace("_", "-") in reason:
            return category
    if "kill" in reason or "die" in reason:
        return "suicide"
    return "unknown"


def words(case: Any) -> str:
    return CATEGORY_WORDS[category_of(case)]
