"""Writing content: create, edit (side by side with the source), live SMS preview,
machine drafts, and the review actions (submit, approve, return, retire, comment)."""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext

from bot.portal import machine, rounds, workflow
from bot.portal.checks import blocking, problems_for, sms_preview
from bot.portal.content_views import base_library, get_item
from bot.portal.errors import ContentProblems, WorkflowError
from bot.portal.roles import CONTENT_EDIT, CONTENT_VIEW
from bot.portal.web import current_user, db, require
from content.db import ORIGIN_MACHINE, ORIGIN_PORTAL, PROVENANCE_COLUMNS, ContentVersion
from content.schema import MESSAGE_KINDS, Provenance

bp = Blueprint("editor", __name__, url_prefix="/content")
LOCALE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")
RESERVED_IDS = frozenset({"new", "preview", "version"})
MAX_PREVIEW_CHARS = 5000


def draft_from_form() -> workflow.Draft:
    form = request.form
    values = {name: form.get(name, "") for name in PROVENANCE_COLUMNS}
    sources = tuple(line.strip() for line in form.get("evidence_sources", "").splitlines() if line.strip())
    return workflow.Draft(
        sms=form.get("sms", ""),
        whatsapp=form.get("whatsapp", ""),
        provenance=Provenance(evidence_sources=sources, **values),
    )


def draft_from_version(version: ContentVersion | None) -> workflow.Draft:
    if version is None:
        return workflow.Draft(sms="")
    return workflow.Draft(sms=version.sms, whatsapp=version.whatsapp or "", provenance=version.provenance())


def check(version: ContentVersion) -> list[str]:
    return blocking(problems_for(db(), base_library(), version))


@bp.route("/new", methods=["GET", "POST"])
@require(CONTENT_EDIT)
def new() -> Any:
    default_locale = base_library().settings.source_locale
    fields = {
        "item_id": request.form.get("item_id", ""),
        "kind": request.form.get("kind", "message"),
        "source_locale": request.form.get("source_locale", default_locale),
        "segment_budget": request.form.get("segment_budget", ""),
    }
    draft = draft_from_form() if request.method == "POST" else workflow.Draft(sms="")
    if request.method == "POST":
        budget_raw = fields["segment_budget"].strip()
        try:
            if fields["item_id"].strip() in RESERVED_IDS:
                raise WorkflowError(_("That id is reserved by the portal; choose another."))
            if not LOCALE.match(fields["source_locale"]):
                raise WorkflowError(_("The source language must be a code such as en or sw."))
            if budget_raw and not budget_raw.isdigit():
                raise WorkflowError(_("The segment budget must be a whole number."))
            version = workflow.create_item(
                db(),
                current_user(),
                fields["item_id"],
                fields["kind"],
                fields["source_locale"],
                int(budget_raw) if budget_raw else None,
                draft,
            )
        except WorkflowError as exc:
            db().rollback()
            flash(str(exc), "error")
        else:
            db().commit()
            flash(_("Draft saved."), "ok")
            return redirect(
                url_for(
                    "portal.content.version", item_id=version.item_id, locale=version.locale, number=version.version
                )
            )
    return render_template(
        "portal/content_new.html", fields=fields, draft=draft, kinds=MESSAGE_KINDS, preview=sms_preview(draft.sms)
    )


@bp.get("/<item_id>/translate")
@require(CONTENT_EDIT)
def translate(item_id: str) -> Any:
    """Start a text in another locale (the form on the item page)."""
    get_item(item_id)
    locale = request.args.get("locale", "").strip()
    if not LOCALE.match(locale):
        flash(_("Give a language code such as sw or fr."), "error")
        return redirect(url_for("portal.content.item", item_id=item_id))
    return redirect(url_for("portal.editor.edit", item_id=item_id, locale=locale))


def _render_editor(item: Any, locale: str, draft: workflow.Draft, machine_draft: Any = None, status: int = 200) -> Any:
    source = None
    if locale != item.source_locale:
        source = workflow.newest(db(), item.id, item.source_locale, "approved") or workflow.newest(
            db(), item.id, item.source_locale
        )
    current = workflow.open_version(db(), item.id, locale) or workflow.newest(db(), item.id, locale)
    return render_template(
        "portal/content_edit.html",
        item=item,
        locale=locale,
        draft=draft,
        source=source,
        current=current,
        preview=sms_preview(draft.sms),
        whatsapp_preview=sms_preview(draft.whatsapp) if draft.whatsapp else None,
        machine_available=source is not None and machine.available(item.source_locale, locale),
        machine_draft=machine_draft,
    ), status


@bp.route("/<item_id>/<locale>/edit", methods=["GET", "POST"])
@require(CONTENT_EDIT)
def edit(item_id: str, locale: str) -> Any:
    item = get_item(item_id)
    if not LOCALE.match(locale):
        abort(404)
    if request.method == "GET":
        current = workflow.open_version(db(), item_id, locale) or workflow.newest(db(), item_id, locale)
        if current is not None and current.status == "in_review":
            flash(_("This text is in review and cannot change until a reviewer returns it."), "error")
            return redirect(url_for("portal.content.version", item_id=item_id, locale=locale, number=current.version))
        return _render_editor(item, locale, draft_from_version(current))
    draft = draft_from_form()
    origin = ORIGIN_MACHINE if request.form.get("origin") == ORIGIN_MACHINE else ORIGIN_PORTAL
    try:
        version = workflow.save_draft(db(), current_user(), item_id, locale, draft, origin=origin)
    except WorkflowError as exc:
        db().rollback()
        flash(str(exc), "error")
        return _render_editor(item, locale, draft, status=400)
    db().commit()
    flash(_("Draft saved."), "ok")
    return redirect(url_for("portal.content.version", item_id=item_id, locale=locale, number=version.version))


@bp.post("/<item_id>/<locale>/machine-draft")
@require(CONTENT_EDIT)
def machine_draft(item_id: str, locale: str) -> Any:
    """Fill the editor with a machine translation of the source, to be corrected by a person."""
    item = get_item(item_id)
    source = workflow.newest(db(), item_id, item.source_locale, "approved") or workflow.newest(
        db(), item_id, item.source_locale
    )
    if source is None:
        abort(404)
    sms = machine.draft(source.sms, item.source_locale, locale)
    if sms is None:
        flash(_("No translation model installed for this language pair."), "error")
        return _render_editor(item, locale, draft_from_form())
    whatsapp = machine.draft(source.whatsapp, item.source_locale, locale) if source.whatsapp else None
    current = draft_from_form()
    draft = replace(current, sms=sms.text, whatsapp=whatsapp.text if whatsapp else "")
    return _render_editor(item, locale, draft, machine_draft=sms)


@bp.post("/preview")
@require(CONTENT_VIEW)
def preview() -> Any:
    """Segments and encoding of a text as it would be sent (the editor calls this as you type)."""
    text = (request.get_json(silent=True) or {}).get("text", "") if request.is_json else request.form.get("text", "")
    shown = sms_preview(str(text)[:MAX_PREVIEW_CHARS])
    summary = " · ".join(
        [
            ngettext("%(num)d segment", "%(num)d segments", shown.segments),
            shown.encoding,
            _("%(units)d units", units=shown.units),
            _("%(left)d left in this segment", left=shown.remaining),
        ]
    )
    return jsonify(summary=summary, ucs2_label=_("UCS-2 because of:"), **shown.as_dict())


@bp.post("/version/<int:version_id>/<action>")
def act(version_id: str, action: str) -> Any:
    """submit | approve | reject | retire | comment; the workflow checks roles and states."""
    version = db().get(ContentVersion, version_id)
    if version is None:
        abort(404)
    user, comment = current_user(), request.form.get("comment", "")
    where = url_for("portal.content.version", item_id=version.item_id, locale=version.locale, number=version.version)
    messages = {
        "submit": _("Sent for review."),
        "approve": _("Approved: this version is now sent to people."),
        "reject": _("Returned to draft."),
        "retire": _("Retired."),
        "comment": _("Comment added."),
    }
    try:
        if action == "submit":
            workflow.submit(db(), user, version.id, check)
        elif action == "approve":
            workflow.approve(db(), user, version.id, comment)
        elif action == "reject":
            workflow.reject(db(), user, version.id, comment)
        elif action == "retire":
            workflow.retire(db(), user, version.id, comment)
        elif action == "comment":
            parent = request.form.get("parent_id", "")
            rounds.comment(db(), user, version.id, comment, parent_id=int(parent) if parent.isdigit() else None)
        else:
            abort(404)
    except ContentProblems as exc:
        db().rollback()
        flash(str(exc), "error")
        for problem in exc.problems:
            flash(problem, "error")
        return redirect(where)
    except WorkflowError as exc:
        db().rollback()
        flash(str(exc), "error")
        return redirect(where)
    db().commit()
    flash(messages[action], "ok")
    return redirect(where)
