"""Escalations: the queue, a case with the person's conversation, replies and closing."""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from redis.exceptions import RedisError
from sqlalchemy import select

from bot.portal import casefile, machine
from bot.portal.content_views import user_names
from bot.portal.errors import CaseError
from bot.portal.i18n import current_language
from bot.portal.roles import CASES_ACT, CASES_VIEW
from bot.portal.web import current_user, db, require, services
from core.oncall.categories import category_of
from core.outbox import queue_next_for
from core.tables import Contact, Escalation

log = logging.getLogger(__name__)
bp = Blueprint("cases", __name__, url_prefix="/cases")


def staff_id(actor: str | None) -> int | None:
    """The user id in a "closed by" field (None for the system or an empty field)."""
    return int(actor) if actor and actor.isdigit() else None


def _case(case_id: int) -> Escalation:
    escalation = db().get(Escalation, case_id)
    if escalation is None:
        abort(404)
    return escalation


def _contact(escalation: Escalation) -> Contact | None:
    return db().get(Contact, escalation.contact_id) if escalation.contact_id else None


@bp.get("/")
@require(CASES_VIEW)
def queue() -> Any:
    status = "closed" if request.args.get("status") == "closed" else "open"
    rows = casefile.queue(db(), status)
    ids = [e.contact_id for e in rows if e.contact_id]
    contacts = {c.id: c for c in db().scalars(select(Contact).where(Contact.id.in_(ids)))} if ids else {}
    previews = casefile.previews(db(), services().cipher, rows, current_user())
    db().commit()  # the record that these previews were shown
    return render_template(
        "portal/cases.html",
        cases=rows,
        contacts=contacts,
        status=status,
        previews=previews,
        category=category_of,
        names=user_names({staff_id(e.closed_by) for e in rows} | {e.owner_id for e in rows}),
    )


def _translations(lines: list[casefile.Line], reader: str) -> tuple[dict[int, str], bool]:
    """Index -> the line in the reader's language, for lines in another language; and whether
    some line needed translation that no installed model could give."""
    by_locale: dict[str, list[int]] = {}
    for index, line in enumerate(lines):
        if line.text and machine.wanted(line.locale, reader):
            by_locale.setdefault(line.locale, []).append(index)
    translated: dict[int, str] = {}
    missing = False
    for locale, indexes in by_locale.items():
        results = machine.for_reader([lines[i].text for i in indexes], locale, reader)
        if results is None:
            missing = True
            continue
        translated.update({i: r.text for i, r in zip(indexes, results, strict=True)})
    return translated, missing


def _render_case(escalation: Escalation, reply: str = "", phone: str | None = None, status: int = 200) -> Any:
    contact = _contact(escalation)
    lines: list[casefile.Line] = []
    translated: dict[int, str] = {}
    missing_model = False
    if contact is not None:
        lines = casefile.conversation(
            db(), services().cipher, contact, current_user(), {"escalation_id": escalation.id}
        )
        translated, missing_model = _translations(lines, current_language())
    db().commit()  # the audit record of this view is kept even if rendering fails later
    staff = user_names({line.staff_id for line in lines} | {staff_id(escalation.closed_by), escalation.owner_id})
    return render_template(
        "portal/case.html",
        case=escalation,
        contact=contact,
        lines=lines,
        translated=translated,
        missing_model=missing_model,
        reply=reply,
        phone=phone,
        outcomes=casefile.OUTCOMES,
        staff=staff,
        category=category_of(escalation),
    ), status


@bp.get("/<int:case_id>")
@require(CASES_VIEW)
def case(case_id: int) -> Any:
    return _render_case(_case(case_id))


@bp.post("/<int:case_id>/phone")
@require(CASES_ACT)
def phone(case_id: int) -> Any:
    escalation = _case(case_id)
    contact = _contact(escalation)
    if contact is None:
        abort(404)
    number = casefile.reveal_phone(db(), services().cipher, contact, current_user(), escalation.id)
    return _render_case(escalation, phone=number)


@bp.post("/<int:case_id>/take")
@require(CASES_ACT)
def take(case_id: int) -> Any:
    """ "I'm on it": the health worker owns the case, and the on-call ladder stops."""
    escalation = _case(case_id)
    try:
        casefile.take(db(), escalation, current_user())
    except CaseError as exc:
        db().rollback()
        flash(str(exc), "error")
        return redirect(url_for("portal.cases.case", case_id=case_id))
    db().commit()
    flash(_("You own this case."), "ok")
    return redirect(url_for("portal.cases.case", case_id=case_id))


@bp.post("/<int:case_id>/reply")
@require(CASES_ACT)
def reply(case_id: int) -> Any:
    """Show the reply as it will be sent (parts, segments) and ask for confirmation."""
    escalation = _case(case_id)
    contact = _contact(escalation)
    text = request.form.get("text", "")
    if contact is None:
        abort(404)
    try:
        plan = casefile.plan_reply(text, contact.channel, current_app.config["SMS_SEGMENT_BUDGET"])
    except CaseError as exc:
        flash(str(exc), "error")
        return _render_case(escalation, reply=text, status=400)
    return render_template("portal/case_confirm.html", case=escalation, contact=contact, text=text.strip(), plan=plan)


@bp.post("/<int:case_id>/reply/send")
@require(CASES_ACT)
def send(case_id: int) -> Any:
    escalation = _case(case_id)
    contact = _contact(escalation)
    if contact is None:
        abort(404)
    try:
        casefile.store_reply(
            db(),
            services().cipher,
            escalation,
            contact,
            current_user(),
            request.form.get("text", ""),
            current_app.config["SMS_SEGMENT_BUDGET"],
        )
    except CaseError as exc:
        db().rollback()
        flash(str(exc), "error")
        return redirect(url_for("portal.cases.case", case_id=case_id))
    db().commit()
    try:
        queue_next_for(services(), contact.id)
    except RedisError:
        # The row is stored; the sweeper queues it once Redis answers again.
        log.warning("portal.reply_queue_unavailable", extra={"escalation_id": case_id})
        flash(_("The reply is saved and will be sent when the queue is back."), "info")
    else:
        flash(_("Reply queued for sending."), "ok")
    return redirect(url_for("portal.cases.case", case_id=case_id))


@bp.post("/<int:case_id>/hand-back")
@require(CASES_ACT)
def hand_back(case_id: int) -> Any:
    """The bot answers the person again; the case stays open for follow-up."""
    escalation = _case(case_id)
    try:
        casefile.hand_back(db(), escalation, current_user())
    except CaseError as exc:
        db().rollback()
        flash(str(exc), "error")
        return redirect(url_for("portal.cases.case", case_id=case_id))
    db().commit()
    flash(_("The bot answers this person again."), "ok")
    return redirect(url_for("portal.cases.case", case_id=case_id))


@bp.post("/<int:case_id>/close")
@require(CASES_ACT)
def close(case_id: int) -> Any:
    escalation = _case(case_id)
    try:
        casefile.close(db(), escalation, current_user(), request.form.get("outcome", ""))
    except CaseError as exc:
        db().rollback()
        flash(str(exc), "error")
        return redirect(url_for("portal.cases.case", case_id=case_id))
    db().commit()
    flash(_("Case closed."), "ok")
    return redirect(url_for("portal.cases.queue"))
