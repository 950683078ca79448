"""Co-design pages: review rounds per locale, sign-offs, readiness per locale, round workbooks."""

from __future__ import annotations

import io
from typing import Any

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import func, select

from bot.portal import round_import, rounds
from bot.portal.content_views import base_library, user_names
from bot.portal.editor_views import LOCALE
from bot.portal.errors import WorkflowError
from bot.portal.roles import CONTENT_COMMENT, ROUNDS_MANAGE, ROUNDS_VIEW
from bot.portal.web import audit, current_user, db, require
from content import readiness
from content.db import ContentVersion, ReviewComment
from content.review import SIGNOFF_KINDS, ReviewRound

bp = Blueprint("review", __name__, url_prefix="/review")
MAX_UPLOAD = 5_000_000  # a round of a few hundred texts is well under 1 MB


def _round(round_id: int) -> ReviewRound:
    found = db().get(ReviewRound, round_id)
    if found is None:
        abort(404)
    return found


@bp.get("/")
@require(ROUNDS_VIEW)
def index() -> Any:
    library = readiness.served_library(db(), base_library())
    summaries = [readiness.assess(db(), library, loc) for loc in readiness.locales_of(library)]
    found = rounds.all_rounds(db())
    return render_template(
        "portal/review_index.html",
        summaries=summaries,
        rounds=found,
        names=user_names({r.opened_by for r in found}),
    )


@bp.post("/rounds")
@require(ROUNDS_MANAGE)
def open_round() -> Any:
    locale = request.form.get("locale", "").strip()
    if not LOCALE.match(locale):
        flash(_("Give a language code such as sw or fr."), "error")
        return redirect(url_for("portal.review.index"))
    try:
        found = rounds.open_round(db(), current_user(), locale, request.form.get("title", ""))
    except WorkflowError as exc:
        db().rollback()
        flash(str(exc), "error")
        return redirect(url_for("portal.review.index"))
    db().commit()
    flash(_("Review round opened."), "ok")
    return redirect(url_for("portal.review.round_page", round_id=found.id))


@bp.get("/rounds/<int:round_id>")
@require(ROUNDS_VIEW)
def round_page(round_id: int) -> Any:
    return _render_round(_round(round_id))


def _render_round(found: ReviewRound, problems: list[str] | None = None, status: int = 200) -> Any:
    versions = rounds.round_versions(db(), found.locale)
    ids = [v.id for v in versions]
    counts = dict(
        db()
        .execute(
            select(ReviewComment.version_id, func.count(ReviewComment.id))
            .where(ReviewComment.round_id == found.id, ReviewComment.action == "comment")
            .group_by(ReviewComment.version_id)
        )
        .all()
    )
    signed = rounds.signoffs_for(db(), ids)
    kinds = {v.id: {s.kind for s in signed.get(v.id, []) if rounds.still_valid(s, v)} for v in versions}
    return render_template(
        "portal/review_round.html",
        round=found,
        versions=versions,
        counts=counts,
        kinds=kinds,
        signoff_kinds=SIGNOFF_KINDS,
        names=user_names({found.opened_by, found.closed_by}),
        problems=problems or [],
    ), status


@bp.post("/rounds/<int:round_id>/close")
@require(ROUNDS_MANAGE)
def close_round(round_id: int) -> Any:
    try:
        rounds.close_round(db(), current_user(), round_id)
    except WorkflowError as exc:
        db().rollback()
        flash(str(exc), "error")
    else:
        db().commit()
        flash(_("Review round closed."), "ok")
    return redirect(url_for("portal.review.round_page", round_id=round_id))


@bp.get("/rounds/<int:round_id>/workbook.xlsx")
@require(ROUNDS_VIEW)
def workbook(round_id: int) -> Any:
    """The round as a workbook for an offline session (texts, comments and sign-offs so far)."""
    found = _round(round_id)
    buffer = io.BytesIO()
    texts = round_import.export_round(db(), found, buffer)
    audit("review.round_exported", round=found.id, locale=found.locale, texts=texts)
    db().commit()
    name = f"tumaini-review-{found.locale}-round-{found.id}.xlsx"
    return Response(
        buffer.getvalue(),
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@bp.post("/rounds/<int:round_id>/workbook")
@require(CONTENT_COMMENT)
def import_workbook(round_id: int) -> Any:
    """Import comments, sign-offs and suggested wording from a reviewed workbook (all or nothing)."""
    found = _round(round_id)
    upload = request.files.get("workbook")
    if upload is None or not upload.filename:
        flash(_("Choose the workbook to upload."), "error")
        return redirect(url_for("portal.review.round_page", round_id=round_id))
    data = upload.read(MAX_UPLOAD + 1)
    if len(data) > MAX_UPLOAD:
        flash(_("The file is larger than %(mb)d MB.", mb=MAX_UPLOAD // 1_000_000), "error")
        return redirect(url_for("portal.review.round_page", round_id=round_id))
    try:
        summary = round_import.import_round(db(), current_user(), found, io.BytesIO(data))
    except round_import.RoundImportRejected as exc:
        db().rollback()
        flash(str(exc), "error")
        return _render_round(found, problems=exc.problems, status=400)
    except WorkflowError as exc:
        db().rollback()
        flash(str(exc), "error")
        return _render_round(found, status=400)
    audit(
        "review.round_imported",
        round=found.id,
        locale=found.locale,
        comments=summary.comments,
        signoffs=summary.signoffs,
        drafts=summary.drafts,
    )
    db().commit()
    flash(
        _(
            "Imported: %(comments)d comment(s), %(signoffs)d sign-off(s), %(drafts)d suggested wording(s) "
            "saved as drafts; %(unchanged)d row(s) had nothing new.",
            comments=summary.comments,
            signoffs=summary.signoffs,
            drafts=summary.drafts,
            unchanged=summary.unchanged,
        ),
        "ok",
    )
    return redirect(url_for("portal.review.round_page", round_id=round_id))


@bp.get("/readiness/<locale>")
@require(ROUNDS_VIEW)
def readiness_page(locale: str) -> Any:
    if not LOCALE.match(locale):
        abort(404)
    library = readiness.served_library(db(), base_library())
    result = readiness.assess(db(), library, locale)
    return render_template(
        "portal/readiness.html",
        r=result,
        signoff_kinds=SIGNOFF_KINDS,
        current=rounds.open_round_for(db(), locale),
    )


@bp.post("/version/<int:version_id>/signoff")
def sign_off(version_id: int) -> Any:
    """Record one kind of sign-off for a version; the rules (roles, four eyes) are in rounds.sign_off."""
    version = db().get(ContentVersion, version_id)
    if version is None:
        abort(404)
    where = url_for("portal.content.version", item_id=version.item_id, locale=version.locale, number=version.version)
    try:
        rounds.sign_off(
            db(), current_user(), version.id, request.form.get("kind", ""), note=request.form.get("note", "")
        )
    except WorkflowError as exc:
        db().rollback()
        flash(str(exc), "error")
        return redirect(where)
    db().commit()
    flash(_("Sign-off recorded."), "ok")
    return redirect(where)
