"""A review round's workbook: export it for an offline session, import what people wrote.

Import is all or nothing. Every row is checked first and each problem is reported with its
row number; only a workbook without problems is applied, in one transaction. Importing
the same workbook twice adds nothing the second time. An import never approves anything:
comments and sign-offs are recorded, and suggested wording becomes a draft that still
goes through review (or a comment, when the importer may not write drafts or the text is
frozen in review), so no word people wrote is lost.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import IO

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.portal import rounds, workflow
from bot.portal.errors import WorkflowError
from bot.portal.models import User
from bot.portal.roles import CONTENT_COMMENT, CONTENT_EDIT, SIGNOFF, can
from content.db import ContentItem, ContentVersion, ReviewComment
from content.errors import ImportRejected
from content.review import SIGNOFF_KINDS, SOURCE_SHEET, ReviewRound
from content.round_sheet import Row, read_round_workbook, write_round_workbook

YES = frozenset({"yes", "y", "x", "✓", "✔", "ok", "ndiyo", "oui", "si", "sí", "نعم", "हाँ", "haan"})
SIGNOFF_COLUMNS = {kind: f"{kind}_signoff" for kind in SIGNOFF_KINDS}


class RoundImportRejected(WorkflowError):
    """The workbook has problems; ``problems`` lists them row by row and nothing was imported."""

    def __init__(self, message: str, problems: list[str]) -> None:
        super().__init__(message)
        self.problems = problems


@dataclass
class ImportSummary:
    comments: int = 0
    signoffs: int = 0
    drafts: int = 0  # suggested wording saved as a draft
    unchanged: int = 0  # rows with nothing new
    problems: list[str] = field(default_factory=list)


@dataclass
class _Planned:
    number: int
    version: ContentVersion
    comment: str = ""
    commenter: str = ""
    answer_to: int | None = None
    signoffs: list[tuple[str, str]] = field(default_factory=list)  # (kind, signer)
    suggestion: str = ""


# -- export ------------------------------------------------------------------------------


def _thread_text(comments: list[ReviewComment], names: dict[int, str]) -> str:
    lines = []
    for t in rounds.threads(comments):
        c = t.comment
        who = c.author_name or names.get(c.author_id or 0, "?")
        label = c.body if c.action == "comment" else f"[{c.action}] {c.body}".strip()
        lines.append(f"{'  ' * t.depth}#{c.id} {who} ({c.created_at:%Y-%m-%d}): {label}")
    return "\n".join(lines)


def export_round(session: Session, found: ReviewRound, target: IO[bytes]) -> int:
    """Write the round's workbook; returns the number of texts in it."""
    versions = rounds.round_versions(session, found.locale)
    ids = [v.id for v in versions]
    comments: dict[int, list[ReviewComment]] = {i: [] for i in ids}
    if ids:
        for c in session.scalars(select(ReviewComment).where(ReviewComment.version_id.in_(ids))):
            comments[c.version_id].append(c)
    author_ids = {c.author_id for cs in comments.values() for c in cs if c.author_id}
    names = {u.id: u.display_name for u in session.scalars(select(User).where(User.id.in_(author_ids)))}
    signed = rounds.signoffs_for(session, ids)
    items = {i.id: i for i in session.scalars(select(ContentItem))}
    rows: list[Row] = []
    for v in versions:
        item = items.get(v.item_id)
        source = None
        if item is not None and item.source_locale != v.locale:
            source = workflow.newest(session, v.item_id, item.source_locale, "approved") or workflow.newest(
                session, v.item_id, item.source_locale
            )
        rows.append(
            {
                "id": v.item_id,
                "locale": v.locale,
                "version": str(v.version),
                "status": v.status,
                "source_sms": source.sms if source else "",
                "sms": v.sms,
                "whatsapp": v.whatsapp or "",
                "comments_so_far": _thread_text(comments[v.id], names),
                "signed_off": "; ".join(
                    f"{s.kind}: {s.signer}" for s in signed.get(v.id, []) if rounds.still_valid(s, v)
                ),
            }
        )
    about = {
        "round": found.id,
        "locale": found.locale,
        "title": found.title,
        "opened": found.opened_at.strftime("%Y-%m-%d"),
        "texts": len(rows),
    }
    write_round_workbook(target, about, rows)
    return len(rows)


# -- import ------------------------------------------------------------------------------


def _plan(session: Session, user: User, found: ReviewRound, number: int, row: Row) -> _Planned | None:
    """Check one row; raise ValueError with the reason when it cannot be imported."""
    item_id, locale, raw_version = row.get("id", ""), row.get("locale", ""), row.get("version", "")
    if locale != found.locale:
        raise ValueError(_("the locale is '%(got)s', this round reviews '%(want)s'", got=locale, want=found.locale))
    if not raw_version.isdigit():
        raise ValueError(_("the version '%(v)s' is not a whole number", v=raw_version))
    version = session.scalars(
        select(ContentVersion).where(
            ContentVersion.item_id == item_id,
            ContentVersion.locale == locale,
            ContentVersion.version == int(raw_version),
        )
    ).first()
    if version is None:
        raise ValueError(_("there is no text %(id)s v%(v)s in %(locale)s", id=item_id, v=raw_version, locale=locale))
    plan = _Planned(number, version, row.get("comment", ""), row.get("commenter", ""))
    if "status" in row and row["status"] and row["status"] != version.status:
        raise ValueError(
            _(
                "the status is read-only (the sheet says '%(got)s', the portal '%(want)s'): "
                "texts are approved in the portal, after review",
                got=row["status"],
                want=version.status,
            )
        )
    if row.get("sms", "") != version.sms.replace("\r\n", "\n").strip():
        raise ValueError(
            _(
                "the sms differs from the text in the portal (edited in the sheet, or changed in the portal "
                "since the export): put new wording in suggested_sms, or download the workbook again"
            )
        )
    answer = row.get("answer_to", "").lstrip("#").strip()
    if answer:
        if not answer.isdigit():
            raise ValueError(_("answer_to '%(v)s' is not a comment number", v=answer))
        parent = session.get(ReviewComment, int(answer))
        if parent is None or parent.version_id != version.id:
            raise ValueError(_("comment #%(n)s is not on this text", n=answer))
        if not plan.comment:
            raise ValueError(_("answer_to is filled in but the comment is empty"))
        plan.answer_to = int(answer)
    if plan.comment and not can(user.role, CONTENT_COMMENT):
        raise ValueError(_("your role cannot add comments"))
    if len(plan.comment) > rounds.MAX_COMMENT:
        raise ValueError(_("the comment is longer than %(n)d characters", n=rounds.MAX_COMMENT))
    for kind, column in SIGNOFF_COLUMNS.items():
        value = row.get(column, "")
        if not value:
            continue
        signer = plan.commenter if value.casefold() in YES else value
        if not signer:
            raise ValueError(
                _("%(column)s says yes: write who signs off in commenter, or their name in the cell", column=column)
            )
        if not can(user.role, SIGNOFF[kind]):
            raise ValueError(_("your role cannot record this sign-off (%(column)s)", column=column))
        if version.status == "retired":
            raise ValueError(_("a retired text cannot be signed off"))
        if user.id in (version.editors or []) or user.id == version.created_by:
            raise ValueError(_("you wrote or edited this text, so someone else must record its sign-offs"))
        plan.signoffs.append((kind, signer))
    suggestion = row.get("suggested_sms", "")
    if suggestion and suggestion != version.sms.strip():
        plan.suggestion = suggestion
    if not (plan.comment or plan.signoffs or plan.suggestion):
        return None
    return plan


def _already_said(session: Session, plan: _Planned, body: str, name: str) -> bool:
    return (
        session.scalars(
            select(ReviewComment.id).where(
                ReviewComment.version_id == plan.version.id,
                ReviewComment.body == body,
                ReviewComment.author_name == name,
                ReviewComment.parent_id == plan.answer_to
                if plan.answer_to is not None
                else ReviewComment.parent_id.is_(None),
            )
        ).first()
        is not None
    )


def _suggest(session: Session, user: User, plan: _Planned, name: str, summary: ImportSummary) -> None:
    """New wording: a draft when the importer writes drafts and the text is not frozen, else a comment."""
    version = plan.version
    current = workflow.open_version(session, version.item_id, version.locale)
    if current is not None and current.sms == plan.suggestion:
        return
    if can(user.role, CONTENT_EDIT) and (current is None or current.status == workflow.DRAFT):
        base = current or version
        replaced = current.sms if current is not None else ""
        draft = workflow.Draft(sms=plan.suggestion, whatsapp=base.whatsapp or "", provenance=base.provenance())
        workflow.save_draft(session, user, version.item_id, version.locale, draft)
        body = _("Suggested wording from an offline review session, saved as a draft:") + "\n" + plan.suggestion
        if replaced:  # a draft is edited in place: keep the wording it replaced
            body += "\n\n" + _("It replaced this draft wording:") + "\n" + replaced
        summary.drafts += 1
    else:
        body = _("Suggested wording:") + "\n" + plan.suggestion
    if not _already_said(session, plan, body, name):
        rounds.comment(session, user, version.id, body, author_name=name, source=SOURCE_SHEET)
        summary.comments += 1


def import_round(session: Session, user: User, found: ReviewRound, source: IO[bytes]) -> ImportSummary:
    """Apply a reviewed workbook to its round; RoundImportRejected lists every bad row."""
    if found.status != "open":
        raise WorkflowError(_("This review round is closed; open a new one to import."))
    try:
        about, rows = read_round_workbook(source)
    except ImportRejected as exc:
        raise RoundImportRejected(_("This file is not a review round workbook."), [str(exc)]) from None
    if about.get("round") != str(found.id):
        raise RoundImportRejected(
            _("This workbook belongs to another review round."),
            [_("the workbook is for round #%(got)s, this is round #%(want)s", got=about.get("round"), want=found.id)],
        )
    plans, problems, summary = [], [], ImportSummary()
    for number, row in rows:
        try:
            plan = _plan(session, user, found, number, row)
        except ValueError as exc:
            problems.append(_("row %(n)d (%(id)s): %(reason)s", n=number, id=row.get("id", "?"), reason=str(exc)))
            continue
        if plan is None:
            summary.unchanged += 1
        else:
            plans.append(plan)
    if problems:
        raise RoundImportRejected(_("Nothing was imported: %(n)d row(s) need fixing.", n=len(problems)), problems)
    for plan in plans:
        name = plan.commenter or _("offline review session")
        if plan.comment and not _already_said(session, plan, plan.comment, name):
            rounds.comment(
                session,
                user,
                plan.version.id,
                plan.comment,
                parent_id=plan.answer_to,
                author_name=name,
                source=SOURCE_SHEET,
            )
            summary.comments += 1
        for kind, signer in plan.signoffs:
            before = len(rounds.signoffs_for(session, [plan.version.id])[plan.version.id])
            rounds.sign_off(session, user, plan.version.id, kind, signer=signer, source=SOURCE_SHEET)
            summary.signoffs += len(rounds.signoffs_for(session, [plan.version.id])[plan.version.id]) - before
        if plan.suggestion:
            _suggest(session, user, plan, name, summary)
    return summary
