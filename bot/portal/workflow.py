"""The content review workflow: draft -> in_review -> approved (-> retired), with comments.

Rules, enforced here rather than in the views so the CLI, tests and any future API
share them:

* Curators (and admins) write. Editing an approved text never changes it: it starts a
  new draft version, and the approved one keeps being sent until the new one is approved.
  There is at most one open (draft or in review) version per item and locale.
* A version in review is frozen; a reviewer returns it (reject, with a reason) to edit it.
* A version goes to review only when it passes validation (segments, placeholders,
  numbers and links), checked by the caller-supplied ``check``.
* Nobody approves or rejects a version they wrote or edited: a second pair of eyes is
  the point of review.
* Crisis text is approved only by someone who signs off clinically (a reviewer or an
  admin, not a curator); the approval is recorded as its clinical review. The last
  approved version of a crisis message in a language cannot be retired: people in crisis
  would be left without it, so its replacement is approved first.
* Every step is recorded as a comment on the version and as an audit event.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.portal.errors import ContentProblems, NotPermitted, OwnApproval, WorkflowError
from bot.portal.models import User
from bot.portal.roles import CONTENT_COMMENT, CONTENT_EDIT, CONTENT_REVIEW, SIGNOFF_CLINICAL, can
from content.db import ORIGIN_PORTAL, PROVENANCE_COLUMNS, ContentItem, ContentVersion, ReviewComment, utcnow
from content.entries import VALID_ID
from content.schema import MESSAGE_KINDS, Provenance, Status
from core.tables import AuditEvent

DRAFT, IN_REVIEW, APPROVED, RETIRED = (
    s.value for s in (Status.DRAFT, Status.IN_REVIEW, Status.APPROVED, Status.RETIRED)
)
OPEN = (DRAFT, IN_REVIEW)

# check(version) -> editor-facing error messages (empty when the text may go to review)
Checker = Callable[[ContentVersion], list[str]]


@dataclass(frozen=True)
class Draft:
    """What an editor typed: bodies and provenance (an empty author becomes the editor)."""

    sms: str
    whatsapp: str = ""
    provenance: Provenance = Provenance(author="")


def _need(user: User, permission: str) -> None:
    if not can(user.role, permission):
        raise NotPermitted(_("Your role does not allow this."))


def _record(session: Session, user: User, version: ContentVersion, action: str, body: str = "") -> None:
    session.add(ReviewComment(version_id=version.id, author_id=user.id, action=action, body=body))
    session.add(
        AuditEvent(
            actor=str(user.id),
            action=f"content.{action}",
            detail={"item": version.item_id, "locale": version.locale, "version": version.version},
        )
    )


def versions(session: Session, item_id: str, locale: str) -> list[ContentVersion]:
    """Every version of an item in a locale, newest first."""
    return list(
        session.scalars(
            select(ContentVersion)
            .where(ContentVersion.item_id == item_id, ContentVersion.locale == locale)
            .order_by(ContentVersion.version.desc())
        )
    )


def open_version(session: Session, item_id: str, locale: str) -> ContentVersion | None:
    """The draft or in-review version, if there is one."""
    return next((v for v in versions(session, item_id, locale) if v.status in OPEN), None)


def newest(session: Session, item_id: str, locale: str, status: str | None = None) -> ContentVersion | None:
    return next((v for v in versions(session, item_id, locale) if status is None or v.status == status), None)


def create_item(
    session: Session, user: User, item_id: str, kind: str, source_locale: str, segment_budget: int | None, draft: Draft
) -> ContentVersion:
    """A new item with its first draft in the source locale."""
    _need(user, CONTENT_EDIT)
    item_id = item_id.strip()
    if not VALID_ID.match(item_id):
        raise WorkflowError(_("An id is lower-case words joined by dots, e.g. module.sleep.4."))
    if kind not in MESSAGE_KINDS:
        raise WorkflowError(_("The kind must be one of: %(kinds)s.", kinds=", ".join(MESSAGE_KINDS)))
    if session.get(ContentItem, item_id) is not None:
        raise WorkflowError(_("%(id)s already exists; edit it instead.", id=item_id))
    if segment_budget is not None and segment_budget < 1:
        raise WorkflowError(_("The segment budget must be at least 1."))
    session.add(ContentItem(id=item_id, kind=kind, source_locale=source_locale, segment_budget=segment_budget))
    session.flush()
    return save_draft(session, user, item_id, source_locale, draft)


def save_draft(
    session: Session, user: User, item_id: str, locale: str, draft: Draft, origin: str = ORIGIN_PORTAL
) -> ContentVersion:
    """Write the editor's text into the open draft, or start a new version from the newest."""
    _need(user, CONTENT_EDIT)
    item = session.get(ContentItem, item_id)
    if item is None:
        raise WorkflowError(_("There is no content item %(id)s.", id=item_id))
    if not draft.sms.strip():
        raise WorkflowError(_("The SMS text is empty."))
    current = open_version(session, item_id, locale)
    if current is not None and current.status == IN_REVIEW:
        raise WorkflowError(_("This text is in review and cannot change until a reviewer returns it."))
    now = utcnow()
    if current is None:
        top = (
            session.scalar(
                select(func.max(ContentVersion.version)).where(
                    ContentVersion.item_id == item_id, ContentVersion.locale == locale
                )
            )
            or 0
        )
        source = None
        if locale != item.source_locale:
            source = newest(session, item_id, item.source_locale, APPROVED) or newest(
                session, item_id, item.source_locale
            )
        current = ContentVersion(
            item_id=item_id,
            locale=locale,
            version=top + 1,
            status=DRAFT,
            created_by=user.id,
            editors=[],
            origin=origin,
            created_at=now,
            source_version=source.version if source else None,
        )
        session.add(current)
    elif origin != ORIGIN_PORTAL:
        current.origin = origin
    current.sms = draft.sms.strip()
    current.whatsapp = draft.whatsapp.strip() or None
    for name in PROVENANCE_COLUMNS:
        setattr(current, name, getattr(draft.provenance, name).strip())
    current.author = current.author or user.display_name
    current.evidence_sources = [s.strip() for s in draft.provenance.evidence_sources if s.strip()]
    if user.id not in (current.editors or []):
        current.editors = [*(current.editors or []), user.id]
    current.updated_at = now
    item.updated_at = now
    session.flush()
    return current


def _version(session: Session, version_id: int) -> ContentVersion:
    version = session.get(ContentVersion, version_id)
    if version is None:
        raise WorkflowError(_("There is no such version."))
    return version


def submit(session: Session, user: User, version_id: int, check: Checker) -> ContentVersion:
    """Send a draft to review, if it passes validation."""
    _need(user, CONTENT_EDIT)
    version = _version(session, version_id)
    if version.status != DRAFT:
        raise WorkflowError(_("Only a draft can go to review."))
    problems = check(version)
    if problems:
        raise ContentProblems(_("Fix these problems before sending the text to review."), problems)
    version.status = IN_REVIEW
    version.submitted_at = version.updated_at = utcnow()
    _record(session, user, version, "submit")
    return version


def _reviewable(session: Session, user: User, version_id: int) -> ContentVersion:
    _need(user, CONTENT_REVIEW)
    version = _version(session, version_id)
    if version.status != IN_REVIEW:
        raise WorkflowError(_("Only a version in review can be approved or returned."))
    if user.id in (version.editors or []) or user.id == version.created_by:
        raise OwnApproval(_("You wrote or edited this version, so someone else must review it."))
    return version


def _is_crisis(session: Session, item_id: str) -> bool:
    item = session.get(ContentItem, item_id)
    return item_id.startswith("crisis.") or (item is not None and item.kind == "crisis")


def approve(session: Session, user: User, version_id: int, comment: str = "") -> ContentVersion:
    """Approve a version in review: from now on it is what people receive."""
    version = _reviewable(session, user, version_id)
    if _is_crisis(session, version.item_id):
        _need(user, SIGNOFF_CLINICAL)
        if version.clinical_reviewer.strip().lower() in ("", "pending"):
            version.clinical_reviewer = f"{user.name or user.email} ({utcnow():%Y-%m-%d})"[:200]
    version.status = APPROVED
    version.reviewed_by = user.id
    version.reviewed_at = version.updated_at = utcnow()
    _record(session, user, version, "approve", comment.strip())
    return version


def reject(session: Session, user: User, version_id: int, comment: str) -> ContentVersion:
    """Return a version to draft, saying why (the reason is required: the writer needs it)."""
    if not comment.strip():
        raise WorkflowError(_("Say what needs to change."))
    version = _reviewable(session, user, version_id)
    version.status = DRAFT
    version.reviewed_by = user.id
    version.reviewed_at = version.updated_at = utcnow()
    _record(session, user, version, "reject", comment.strip())
    return version


def retire(session: Session, user: User, version_id: int, comment: str = "") -> ContentVersion:
    """Stop using a version (approved: it is no longer sent; draft: it is discarded)."""
    _need(user, CONTENT_EDIT)
    version = _version(session, version_id)
    if version.status not in (APPROVED, DRAFT):
        raise WorkflowError(_("Only an approved version or a draft can be retired."))
    if version.status == APPROVED and _is_crisis(session, version.item_id):
        others = session.scalar(
            select(func.count())
            .select_from(ContentVersion)
            .where(
                ContentVersion.item_id == version.item_id,
                ContentVersion.locale == version.locale,
                ContentVersion.status == APPROVED,
                ContentVersion.id != version.id,
            )
        )
        if not others:
            raise WorkflowError(
                _("This is the last approved version of a crisis message in this language; approve its "
                  "replacement first, so nobody in crisis is left without it.")
            )
    version.status = RETIRED
    version.updated_at = utcnow()
    _record(session, user, version, "retire", comment.strip())
    return version


def add_comment(session: Session, user: User, version_id: int, body: str) -> ReviewComment:
    _need(user, CONTENT_COMMENT)
    if not body.strip():
        raise WorkflowError(_("The comment is empty."))
    version = _version(session, version_id)
    comment = ReviewComment(version_id=version.id, author_id=user.id, action="comment", body=body.strip())
    session.add(comment)
    return comment


def comments(session: Session, version_id: int) -> list[ReviewComment]:
    return list(
        session.scalars(select(ReviewComment).where(ReviewComment.version_id == version_id).order_by(ReviewComment.id))
    )
