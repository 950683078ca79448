"""Content in the database: items, their versions under review, and review comments.

The YAML library is where content starts (and what a fresh install ships); once it is
loaded here (``flask --app bot content load``), the database is where people edit,
review and approve it through the portal. One :class:`ContentVersion` row is one
:class:`~content.schema.Text`: an item in one locale at one version, with its status,
per-channel bodies and provenance. Structures (modules, courses, screenings, keyword
sets, regions) stay in the YAML library; the worker combines both with
:func:`store_from_db`.

Staff are referred to by their portal user id (``created_by``, ``reviewed_by``), without
a foreign key, so this layer does not depend on the portal. Accounts are deactivated,
never deleted, so an id keeps naming the same person.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    func,
    select,
)
from sqlalchemy import (
    Text as TextColumn,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from content import review  # noqa: F401  (registers the review round and sign-off tables)
from content.schema import Library, Message, Provenance, Status, Text
from content.store import ContentStore
from core.db import Base
from core.tables import AuditEvent

log = logging.getLogger(__name__)

ORIGIN_LIBRARY = "library"  # loaded from the YAML library
ORIGIN_PORTAL = "portal"  # written by a person in the portal
ORIGIN_MACHINE = "machine"  # started from a machine-translated draft, then edited by a person
FIRST_LOAD = "content.first_load"  # audited: the library's statuses taken as written, into an empty database


def utcnow() -> datetime:
    return datetime.now(UTC)


class ContentItem(Base):
    """A message id and what is common to all its texts."""

    __tablename__ = "content_items"

    id: Mapped[str] = mapped_column(String(128), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), default="message")
    source_locale: Mapped[str] = mapped_column(String(16))
    segment_budget: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ContentVersion(Base):
    """One locale's wording of an item at one version: the unit of review."""

    __tablename__ = "content_versions"
    __table_args__ = (
        UniqueConstraint("item_id", "locale", "version", name="uq_content_versions_item_locale_version"),
        Index("ix_content_versions_status", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[str] = mapped_column(ForeignKey("content_items.id", ondelete="CASCADE"), index=True)
    locale: Mapped[str] = mapped_column(String(16))
    version: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default=Status.DRAFT.value)
    sms: Mapped[str] = mapped_column(TextColumn)
    whatsapp: Mapped[str | None] = mapped_column(TextColumn)
    source_version: Mapped[int | None] = mapped_column(Integer)
    author: Mapped[str] = mapped_column(String(200), default="")
    co_design: Mapped[str] = mapped_column(TextColumn, default="")
    cultural_adaptation: Mapped[str] = mapped_column(TextColumn, default="")
    lived_experience_signoff: Mapped[str] = mapped_column(TextColumn, default="")
    clinical_reviewer: Mapped[str] = mapped_column(String(200), default="")
    language_reviewer: Mapped[str] = mapped_column(String(200), default="")
    evidence_sources: Mapped[list[str]] = mapped_column(JSON, default=list)
    notes: Mapped[str] = mapped_column(TextColumn, default="")
    origin: Mapped[str] = mapped_column(String(16), default=ORIGIN_PORTAL)
    created_by: Mapped[int | None] = mapped_column(Integer)  # portal user id; None for the library
    editors: Mapped[list[int]] = mapped_column(JSON, default=list)  # every user who changed the text
    reviewed_by: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    reviewed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    def provenance(self) -> Provenance:
        """The provenance as the schema carries it."""
        return Provenance(
            author=self.author,
            co_design=self.co_design,
            cultural_adaptation=self.cultural_adaptation,
            lived_experience_signoff=self.lived_experience_signoff,
            clinical_reviewer=self.clinical_reviewer,
            language_reviewer=self.language_reviewer,
            evidence_sources=tuple(self.evidence_sources or ()),
            notes=self.notes,
        )

    def as_text(self) -> Text:
        """This row as a schema Text (what validation and the store read)."""
        return Text(
            locale=self.locale,
            version=self.version,
            status=Status(self.status),
            sms=self.sms,
            provenance=self.provenance(),
            whatsapp=self.whatsapp or None,
            source_version=self.source_version,
            origin=f"db:{self.item_id}/{self.locale}@{self.version}",
        )


class ReviewComment(Base):
    """A reviewer's or editor's note on a version, or the reason for a decision.

    A comment may answer another (``parent_id``), belong to a review round (``round_id``),
    and come from someone without an account, named in ``author_name`` (a participant of
    an offline session, recorded by the staff member in ``author_id`` who imported it).
    """

    __tablename__ = "content_review_comments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("content_versions.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int | None] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(16), default="comment")  # comment|submit|approve|reject|retire
    body: Mapped[str] = mapped_column(TextColumn, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("content_review_comments.id", ondelete="SET NULL"))
    round_id: Mapped[int | None] = mapped_column(ForeignKey("review_rounds.id", ondelete="SET NULL"), index=True)
    author_name: Mapped[str] = mapped_column(String(200), default="")
    source: Mapped[str] = mapped_column(String(16), default="portal")  # portal|sheet


PROVENANCE_COLUMNS = (
    "author",
    "co_design",
    "cultural_adaptation",
    "lived_experience_signoff",
    "clinical_reviewer",
    "language_reviewer",
    "notes",
)


def provenance_values(provenance: Provenance) -> dict[str, Any]:
    """Column values for a schema Provenance."""
    values: dict[str, Any] = {name: getattr(provenance, name) for name in PROVENANCE_COLUMNS}
    values["evidence_sources"] = list(provenance.evidence_sources)
    return values


@dataclass
class LoadResult:
    """What ``content load`` did: counts, texts where the library and the database differ, and
    texts the library claimed approved that were held for review."""

    items_created: int = 0
    versions_created: int = 0
    versions_kept: int = 0
    differing: list[str] = field(default_factory=list)  # "item/locale@version"
    held: list[str] = field(default_factory=list)  # "item/locale@version", loaded in_review
    first_load: bool = False  # the database had no content: statuses were taken as written


def _same_wording(row: ContentVersion, text: Text) -> bool:
    return row.sms == text.sms and (row.whatsapp or None) == (text.whatsapp or None)


def new_versions(session: Session, library: Library) -> list[tuple[Message, Text]]:
    """The library's texts the database does not hold yet (what a load would add)."""
    existing = set(session.execute(select(ContentVersion.item_id, ContentVersion.locale, ContentVersion.version)))
    return [(m, t) for m in library.messages for t in m.texts if (m.id, t.locale, t.version) not in existing]


def load_library_into(session: Session, library: Library, as_written: bool = False) -> LoadResult:
    """Copy the library's messages into the database, idempotently, without letting the library
    folder approve anything.

    A version already in the database is kept as it is, even when the YAML says otherwise: the
    database is where reviewed edits live, and a library file must not undo a review. Such
    differences are reported so someone can look.

    For a message the database already holds, a new version or locale that claims ``approved``
    is loaded ``in_review`` unless the database already has that wording approved for the item
    and locale: the folder can be edited by hand, and approval is the reviewers' (the approved
    version keeps being sent meanwhile). A message new to the database is loaded as the library
    states it, as the first load into a database with no content is (a fresh deployment starts
    from its library): only the code or the library's structures can make it be sent, and both
    come from the release. ``as_written`` loads every status as written, for an admin's
    ``--approved-by``, which the caller checks and audits before calling this.
    """
    result = LoadResult(first_load=not has_content(session))
    trusted = as_written or result.first_load
    items = {item.id: item for item in session.scalars(select(ContentItem))}
    existing = {(row.item_id, row.locale, row.version): row for row in session.scalars(select(ContentVersion))}
    known = {item_id for item_id, _, _ in existing}  # messages this deployment already serves or reviews
    approved: dict[tuple[str, str], list[ContentVersion]] = {}
    for row in existing.values():
        if row.status == Status.APPROVED.value:
            approved.setdefault((row.item_id, row.locale), []).append(row)
    for message in library.messages:
        if message.id not in items:
            item = ContentItem(
                id=message.id,
                kind=message.kind,
                source_locale=message.source_locale,
                segment_budget=message.segment_budget,
            )
            session.add(item)
            items[message.id] = item
            result.items_created += 1
        for text in message.texts:
            key = (message.id, text.locale, text.version)
            row = existing.get(key)
            if row is not None:
                result.versions_kept += 1
                if not _same_wording(row, text):
                    result.differing.append(f"{message.id}/{text.locale}@{text.version}")
                continue
            status = text.status
            if (status == Status.APPROVED and not trusted and message.id in known
                    and not any(_same_wording(r, text) for r in approved.get((message.id, text.locale), ()))):
                status = Status.IN_REVIEW
                result.held.append(f"{message.id}/{text.locale}@{text.version}")
            session.add(
                ContentVersion(
                    item_id=message.id,
                    locale=text.locale,
                    version=text.version,
                    status=status.value,
                    sms=text.sms,
                    whatsapp=text.whatsapp,
                    source_version=text.source_version,
                    origin=ORIGIN_LIBRARY,
                    editors=[],
                    **provenance_values(text.provenance),
                )
            )
            result.versions_created += 1
    if result.first_load and result.versions_created:
        session.add(AuditEvent(actor="system", action=FIRST_LOAD, contact_id=None,
                               detail={"versions": result.versions_created,
                                       "approved": sum(1 for m in library.messages for t in m.texts
                                                       if t.status == Status.APPROVED)}))
    session.flush()
    log.info("content.loaded_into_db", extra={"items": result.items_created, "versions": result.versions_created,
                                              "held": len(result.held), "first_load": result.first_load,
                                              "as_written": as_written})
    return result


def messages_from_db(session: Session) -> list[Message]:
    """Every item with all its versions, as schema Messages."""
    items = {item.id: item for item in session.scalars(select(ContentItem))}
    texts: dict[str, list[Text]] = {item_id: [] for item_id in items}
    for row in session.scalars(
        select(ContentVersion).order_by(ContentVersion.item_id, ContentVersion.locale, ContentVersion.version)
    ):
        texts[row.item_id].append(row.as_text())
    return [
        Message(
            id=item.id,
            source_locale=item.source_locale,
            texts=tuple(texts[item.id]),
            kind=item.kind,
            segment_budget=item.segment_budget,
            origin=f"db:{item.id}",
        )
        for item in items.values()
    ]


def has_content(session: Session) -> bool:
    """True once any content has been loaded or written into the database."""
    return session.scalar(select(ContentVersion.id).limit(1)) is not None


def content_revision(session: Session) -> tuple[int, int, str]:
    """A cheap fingerprint that changes whenever any version is added or changes status.

    A long-lived worker compares it before a turn and rebuilds its store only when it moved.
    """
    count, top, changed = session.execute(
        select(func.count(ContentVersion.id), func.max(ContentVersion.id), func.max(ContentVersion.updated_at))
    ).one()
    return int(count or 0), int(top or 0), str(changed or "")


def library_with_db_messages(session: Session, base: Library) -> Library:
    """``base`` (structures, regions, settings) with its messages replaced by the database's.

    Messages in the YAML library that the database has never seen are kept, so an item
    added to a file still works before the next ``content load``.
    """
    merged = {m.id: m for m in base.messages}
    merged.update({m.id: m for m in messages_from_db(session)})
    return replace(base, messages=tuple(merged.values())).canonical()


def store_from_db(session: Session, base: Library) -> ContentStore | None:
    """The store a worker serves from: approved database text with the library's structures.

    Returns None when the database holds no content yet (serve the YAML library then).
    Only approved versions are ever rendered for sending; drafts and reviews in progress
    travel along for previews.
    """
    if not has_content(session):
        return None
    return ContentStore(library_with_db_messages(session, base))


class DbContentSource:
    """Keeps one store per content revision, so a worker rebuilds only after a change."""

    def __init__(self, base: Library) -> None:
        self.base = base
        self._revision: tuple[int, int, str] | None = None
        self._store: ContentStore | None = None

    def current(self, session: Session) -> ContentStore | None:
        """The store for the database's content now; None when the database has none."""
        revision = content_revision(session)
        if revision != self._revision:
            self._store = store_from_db(session, self.base)
            self._revision = revision
        return self._store
