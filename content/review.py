"""Co-design review records: review rounds per locale and sign-offs on versions.

A review round is one locale's texts put in front of the people who will receive them:
language reviewers, clinicians and people with lived experience, in the portal or in an
offline session with a spreadsheet. Comments made during a round carry its id
(:class:`content.db.ReviewComment.round_id`).

A sign-off says that one kind of review (language, clinical, lived experience) passed for
one version. It records the exact wording it saw (``text_digest``): a draft's text can still
change in place, and a sign-off of an earlier wording no longer counts. A sign-off never
approves a text; approval stays with the review workflow.

Staff are referred to by portal user id without a foreign key, as in :mod:`content.db`;
``signer`` is the name of the person or group who signed, who need not have an account
(a community group in an offline session).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from sqlalchemy import DateTime, ForeignKey, Index, Integer, String, UniqueConstraint, select
from sqlalchemy import Text as TextColumn
from sqlalchemy.orm import Mapped, Session, mapped_column

from core.db import Base

if TYPE_CHECKING:
    from content.db import ContentVersion

LANGUAGE, CLINICAL, LIVED_EXPERIENCE = "language", "clinical", "lived_experience"
SIGNOFF_KINDS = (LANGUAGE, CLINICAL, LIVED_EXPERIENCE)
# The provenance field that records the same review for texts that come from the YAML library.
PROVENANCE_FIELD = {
    LANGUAGE: "language_reviewer",
    CLINICAL: "clinical_reviewer",
    LIVED_EXPERIENCE: "lived_experience_signoff",
}
ROUND_OPEN, ROUND_CLOSED = "open", "closed"
SOURCE_PORTAL, SOURCE_SHEET = "portal", "sheet"
NOT_SIGNED = frozenset({"", "pending", "none", "no", "todo", "tbd", "n/a"})


def utcnow() -> datetime:
    return datetime.now(UTC)


def text_digest(sms: str, whatsapp: str | None) -> str:
    """What a sign-off saw: both bodies, so a change to either needs a new sign-off."""
    return hashlib.sha256(f"{sms}\x00{whatsapp or ''}".encode()).hexdigest()


def provenance_signed(value: str | None) -> bool:
    """A provenance field names a reviewer (the starter library writes "pending" until then,
    sometimes with a note after a colon: "pending: needs a native-speaker reviewer")."""
    return (value or "").split(":", 1)[0].strip().casefold() not in NOT_SIGNED


class ReviewRound(Base):
    """One locale's review round: opened, commented on, signed off, closed."""

    __tablename__ = "review_rounds"
    __table_args__ = (Index("ix_review_rounds_locale_status", "locale", "status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    locale: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[str] = mapped_column(String(16), default=ROUND_OPEN)
    opened_by: Mapped[int | None] = mapped_column(Integer)
    opened_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    closed_by: Mapped[int | None] = mapped_column(Integer)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class SignOff(Base):
    """One kind of review passed for one version's exact wording."""

    __tablename__ = "content_signoffs"
    __table_args__ = (UniqueConstraint("version_id", "kind", "signer", name="uq_content_signoffs_version_kind_signer"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("content_versions.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(24))
    signer: Mapped[str] = mapped_column(String(200))
    recorded_by: Mapped[int | None] = mapped_column(Integer)
    round_id: Mapped[int | None] = mapped_column(ForeignKey("review_rounds.id", ondelete="SET NULL"))
    text_digest: Mapped[str] = mapped_column(String(64))
    note: Mapped[str] = mapped_column(TextColumn, default="")
    source: Mapped[str] = mapped_column(String(16), default=SOURCE_PORTAL)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


def signoffs_for(session: Session, version_ids: Iterable[int]) -> dict[int, list[SignOff]]:
    """Every sign-off recorded for each of these versions (valid or not: see still_valid)."""
    wanted = list(set(version_ids))
    found: dict[int, list[SignOff]] = {v: [] for v in wanted}
    if not wanted:
        return found
    for row in session.scalars(select(SignOff).where(SignOff.version_id.in_(wanted)).order_by(SignOff.id)):
        found[row.version_id].append(row)
    return found


def still_valid(record: SignOff, version: ContentVersion) -> bool:
    """The sign-off saw the wording the version has now."""
    return record.text_digest == text_digest(version.sms, version.whatsapp)
