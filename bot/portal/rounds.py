"""Co-design review: rounds per locale, threaded comments and sign-offs, with their rules.

* A locale has at most one open round. Comments made while it is open belong to it.
* Anyone who may comment may answer a comment (one thread per version; a reply names its
  parent, which must be a comment on the same version).
* A sign-off is one kind of review (language, clinical, lived experience) for one version's
  exact wording. Each kind has its own permission; nobody records a sign-off of a version
  they wrote or edited. A sign-off never approves anything: approval stays in
  :mod:`bot.portal.workflow`.
* Every step is an audit event.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.portal.errors import NotPermitted, OwnApproval, WorkflowError
from bot.portal.models import User
from bot.portal.roles import CONTENT_COMMENT, ROUNDS_MANAGE, SIGNOFF, can
from content.db import ContentItem, ContentVersion, ReviewComment
from content.review import (  # noqa: F401  (the portal's names for them)
    ROUND_CLOSED,
    ROUND_OPEN,
    SIGNOFF_KINDS,
    SOURCE_PORTAL,
    ReviewRound,
    SignOff,
    signoffs_for,
    still_valid,
    text_digest,
    utcnow,
)
from core.tables import AuditEvent

MAX_COMMENT = 4000
MAX_NAME = 200


def _need(user: User, permission: str) -> None:
    if not can(user.role, permission):
        raise NotPermitted(_("Your role does not allow this."))


def _audit(session: Session, user: User, action: str, **detail: object) -> None:
    session.add(AuditEvent(actor=str(user.id), action=action, detail=detail))


# -- rounds ------------------------------------------------------------------------------


def open_round_for(session: Session, locale: str) -> ReviewRound | None:
    return session.scalars(
        select(ReviewRound).where(ReviewRound.locale == locale, ReviewRound.status == ROUND_OPEN)
    ).first()


def all_rounds(session: Session) -> list[ReviewRound]:
    return list(session.scalars(select(ReviewRound).order_by(ReviewRound.id.desc())))


def get_round(session: Session, round_id: int) -> ReviewRound:
    found = session.get(ReviewRound, round_id)
    if found is None:
        raise WorkflowError(_("There is no such review round."))
    return found


def open_round(session: Session, user: User, locale: str, title: str = "") -> ReviewRound:
    """Start a round for a locale (one open round per locale at a time)."""
    _need(user, ROUNDS_MANAGE)
    if open_round_for(session, locale) is not None:
        raise WorkflowError(_("A review round for %(locale)s is already open; close it first.", locale=locale))
    found = ReviewRound(locale=locale, title=title.strip()[:MAX_NAME], status=ROUND_OPEN, opened_by=user.id)
    session.add(found)
    session.flush()
    _audit(session, user, "review.round_opened", round=found.id, locale=locale)
    return found


def close_round(session: Session, user: User, round_id: int) -> ReviewRound:
    _need(user, ROUNDS_MANAGE)
    found = get_round(session, round_id)
    if found.status != ROUND_OPEN:
        raise WorkflowError(_("This review round is already closed."))
    found.status, found.closed_by, found.closed_at = ROUND_CLOSED, user.id, utcnow()
    _audit(session, user, "review.round_closed", round=found.id, locale=found.locale)
    return found


def round_versions(session: Session, locale: str) -> list[ContentVersion]:
    """What a round of ``locale`` reviews: per item, its open version, else its newest approved one."""
    chosen: dict[str, ContentVersion] = {}
    rows = session.scalars(
        select(ContentVersion)
        .where(ContentVersion.locale == locale, ContentVersion.status != "retired")
        .order_by(ContentVersion.item_id, ContentVersion.version)
    )
    for row in rows:
        current = chosen.get(row.item_id)
        if current is None or row.status in ("draft", "in_review") or current.status not in ("draft", "in_review"):
            chosen[row.item_id] = row
    return [chosen[k] for k in sorted(chosen)]


# -- comments ----------------------------------------------------------------------------


def comment(
    session: Session,
    user: User,
    version_id: int,
    body: str,
    parent_id: int | None = None,
    author_name: str = "",
    source: str = SOURCE_PORTAL,
) -> ReviewComment:
    """A comment on a version (or an answer to one), in the locale's open round if there is one."""
    _need(user, CONTENT_COMMENT)
    body = body.strip()
    if not body:
        raise WorkflowError(_("The comment is empty."))
    if len(body) > MAX_COMMENT:
        raise WorkflowError(_("A comment holds at most %(n)d characters.", n=MAX_COMMENT))
    version = session.get(ContentVersion, version_id)
    if version is None:
        raise WorkflowError(_("There is no such version."))
    if parent_id is not None:
        parent = session.get(ReviewComment, parent_id)
        if parent is None or parent.version_id != version.id:
            raise WorkflowError(_("The comment you answer is not on this version."))
    current = open_round_for(session, version.locale)
    note = ReviewComment(
        version_id=version.id,
        author_id=user.id,
        action="comment",
        body=body,
        parent_id=parent_id,
        round_id=current.id if current else None,
        author_name=author_name.strip()[:MAX_NAME],
        source=source,
    )
    session.add(note)
    session.flush()
    return note


@dataclass(frozen=True)
class Threaded:
    comment: ReviewComment
    depth: int  # 0 for a comment, 1 and more for answers


def threads(comments: Iterable[ReviewComment]) -> list[Threaded]:
    """Comments in reading order: each followed by its answers, oldest first, indented by depth."""
    ordered = sorted(comments, key=lambda c: c.id)
    known = {c.id for c in ordered}
    children: dict[int | None, list[ReviewComment]] = {}
    for c in ordered:
        children.setdefault(c.parent_id if c.parent_id in known else None, []).append(c)
    out: list[Threaded] = []

    def walk(parent: int | None, depth: int) -> None:
        for c in children.get(parent, []):
            out.append(Threaded(c, min(depth, 4)))
            walk(c.id, depth + 1)

    walk(None, 0)
    return out


# -- sign-offs ---------------------------------------------------------------------------


def sign_off(
    session: Session,
    user: User,
    version_id: int,
    kind: str,
    signer: str = "",
    note: str = "",
    source: str = SOURCE_PORTAL,
) -> SignOff:
    """Record that one kind of review passed for a version's current wording (idempotent)."""
    if kind not in SIGNOFF_KINDS:
        raise WorkflowError(_("A sign-off is one of: %(kinds)s.", kinds=", ".join(SIGNOFF_KINDS)))
    _need(user, SIGNOFF[kind])
    version = session.get(ContentVersion, version_id)
    if version is None:
        raise WorkflowError(_("There is no such version."))
    if version.status == "retired":
        raise WorkflowError(_("A retired version cannot be signed off."))
    if user.id in (version.editors or []) or user.id == version.created_by:
        raise OwnApproval(_("You wrote or edited this version, so someone else must sign it off."))
    signer = (signer.strip() or user.display_name)[:MAX_NAME]
    digest = text_digest(version.sms, version.whatsapp)
    existing = session.scalars(
        select(SignOff).where(SignOff.version_id == version.id, SignOff.kind == kind, SignOff.signer == signer)
    ).first()
    if existing is not None:
        if existing.text_digest != digest:  # signed an earlier wording of this draft: now this one
            existing.text_digest, existing.created_at, existing.recorded_by = digest, utcnow(), user.id
        return existing
    current = open_round_for(session, version.locale)
    record = SignOff(
        version_id=version.id,
        kind=kind,
        signer=signer,
        recorded_by=user.id,
        round_id=current.id if current else None,
        text_digest=digest,
        note=note.strip()[:MAX_COMMENT],
        source=source,
    )
    session.add(record)
    session.flush()
    _audit(
        session,
        user,
        "content.signoff",
        item=version.item_id,
        locale=version.locale,
        version=version.version,
        kind=kind,
        source=source,
    )
    return record


def source_locale_of(session: Session, item_id: str) -> str | None:
    item = session.get(ContentItem, item_id)
    return item.source_locale if item else None
