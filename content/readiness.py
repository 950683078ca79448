"""Is a locale ready to go live? Coverage, drafts waiting, sign-offs missing, and what blocks it.

Read from the content people are served: the database's versions over the YAML library
(:func:`content.db.library_with_db_messages`). A message counts as covered in a locale
when it has an approved text there; anything else would reach a person in another
language. Each approved text needs three sign-offs (language, clinical, lived experience):
a sign-off recorded in the portal for its exact wording, or, for a text from the library,
a reviewer named in its provenance.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from content.db import ORIGIN_LIBRARY, ContentVersion, library_with_db_messages
from content.review import PROVENANCE_FIELD, SIGNOFF_KINDS, provenance_signed, signoffs_for, still_valid
from content.schema import Library, Status


@dataclass(frozen=True)
class Waiting:
    item_id: str
    version: int
    status: str


@dataclass
class Readiness:
    locale: str
    source_locale: str
    total: int = 0  # messages with a source text
    covered: list[str] = field(default_factory=list)  # approved in this locale
    missing: list[str] = field(default_factory=list)  # no text at all
    waiting: list[Waiting] = field(default_factory=list)  # a draft or a text in review
    unapproved_crisis: list[str] = field(default_factory=list)
    unsigned: dict[str, list[str]] = field(default_factory=dict)  # kind -> approved items lacking it
    keywords_approved: bool = False
    in_db: set[str] = field(default_factory=set)  # items with a page in the portal

    @property
    def coverage(self) -> float:
        return round(100 * len(self.covered) / self.total, 1) if self.total else 0.0

    @property
    def not_served(self) -> int:
        """Messages that would reach people of this locale in another language."""
        return self.total - len(self.covered)

    def blockers(self) -> list[tuple[str, Any]]:
        """(reason, detail) pairs; an empty list means nothing blocks going live."""
        found: list[tuple[str, Any]] = []
        if self.unapproved_crisis:
            found.append(("crisis", self.unapproved_crisis))
        if self.not_served:
            found.append(("not_served", self.not_served))
        if not self.keywords_approved:
            found.append(("keywords", None))
        for kind in SIGNOFF_KINDS:
            if self.unsigned.get(kind):
                found.append((f"signoff.{kind}", len(self.unsigned[kind])))
        return found

    @property
    def ready(self) -> bool:
        return not self.blockers()


def locales_of(library: Library) -> list[str]:
    """Every locale with any text, the source locale first."""
    found = {t.locale for m in library.messages for t in m.texts} | {k.locale for k in library.keyword_sets}
    source = library.settings.source_locale
    return sorted(found, key=lambda loc: (loc != source, loc))


def served_library(session: Session, base: Library) -> Library:
    """The library people are served from: database versions over the YAML library."""
    return library_with_db_messages(session, base)


def assess(session: Session, library: Library, locale: str) -> Readiness:
    """Readiness of one locale in ``library`` (see :func:`served_library`)."""
    source = library.settings.source_locale
    result = Readiness(locale, source)
    rows = {
        (r.item_id, r.version): r
        for r in session.scalars(select(ContentVersion).where(ContentVersion.locale == locale))
    }
    result.in_db = {item for item, _ in rows}
    signed = signoffs_for(session, [r.id for r in rows.values()])
    for message in sorted(library.messages, key=lambda m: m.id):
        if message.text(message.source_locale, approved_only=False) is None:
            continue
        result.total += 1
        served = message.text(locale, approved_only=True)
        newest = message.text(locale, approved_only=False)
        if newest is not None and newest.status in (Status.DRAFT, Status.IN_REVIEW):
            result.waiting.append(Waiting(message.id, newest.version, newest.status.value))
        if served is None:
            if newest is None:
                result.missing.append(message.id)
            if message.kind == "crisis" or message.id.startswith("crisis."):
                result.unapproved_crisis.append(message.id)
            continue
        result.covered.append(message.id)
        row = rows.get((message.id, served.version))
        valid_kinds = {s.kind for s in signed.get(row.id, []) if still_valid(s, row)} if row is not None else set()
        # Provenance names count for text from the library; text written in the portal needs a recorded sign-off.
        from_library = row is None or row.origin == ORIGIN_LIBRARY
        for kind in SIGNOFF_KINDS:
            named = from_library and provenance_signed(getattr(served.provenance, PROVENANCE_FIELD[kind]))
            if kind in valid_kinds or named:
                continue
            result.unsigned.setdefault(kind, []).append(message.id)
    result.keywords_approved = any(k.locale == locale and k.status == Status.APPROVED for k in library.keyword_sets)
    return result
