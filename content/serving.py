"""Which locales a deployment serves: in production, only those its own reviewers signed off.

Every starter locale has the same standing: demonstration content, approved so the demo
works in each of them, with every sign-off pending. A production deployment (ENV=production)
serves a locale only when nothing blocks it on the readiness page (content.readiness): every
message approved in that locale, its keywords approved, and the deployment's language,
clinical and lived-experience sign-offs recorded for every text. English has no other path:
the starter English is as unsigned as every other language.

``flask --app bot release`` prints this decision and refuses to go on when no locale can be
served; the workers apply the same decision to every reply (workers.runtime).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from content.readiness import assess
from content.review import CLINICAL, LANGUAGE, LIVED_EXPERIENCE
from content.schema import Library

_SIGNOFF_WORDS = {LANGUAGE: "language", CLINICAL: "clinical", LIVED_EXPERIENCE: "lived-experience"}


@dataclass(frozen=True)
class LocaleDecision:
    locale: str
    blockers: tuple[tuple[str, Any], ...]

    @property
    def served(self) -> bool:
        return not self.blockers

    def missing(self) -> str:
        """What is missing, in words a deployment's staff can act on."""
        parts = []
        for reason, detail in self.blockers:
            if reason.startswith("signoff."):
                parts.append(f"{_SIGNOFF_WORDS.get(reason.split('.', 1)[1], reason)} sign-off on {detail} texts")
            elif reason == "crisis":
                parts.append(f"approved crisis text ({', '.join(detail[:3])}{'...' if len(detail) > 3 else ''})")
            elif reason == "not_served":
                parts.append(f"approved text for {detail} messages")
            elif reason == "keywords":
                parts.append("an approved keyword set")
            else:
                parts.append(reason)
        return "; ".join(parts)


def candidate_locales(library: Library) -> list[str]:
    """The locales a deployment could offer: those with an approved consent wording."""
    consent = next((m for m in library.messages if m.id == "onboarding.consent"), None)
    if consent is None:
        return []
    source = library.settings.source_locale
    found = {t.locale for t in consent.texts if consent.text(t.locale, approved_only=True) is not None}
    return sorted(found, key=lambda loc: (loc != source, loc))


def decide(session: Session, library: Library, locales: Iterable[str] | None = None) -> list[LocaleDecision]:
    """Per locale, whether production may serve it and, if not, what blocks it."""
    chosen = list(locales) if locales is not None else candidate_locales(library)
    return [LocaleDecision(locale, tuple(assess(session, library, locale).blockers())) for locale in chosen]


def served_locales(session: Session, library: Library) -> frozenset[str]:
    """The locales production serves now."""
    return frozenset(d.locale for d in decide(session, library) if d.served)
