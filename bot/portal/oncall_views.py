"""On call: who answers each region's alerts now and next, the rota, and staff numbers."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from bot.portal import rota
from bot.portal.errors import RotaError
from bot.portal.models import User
from bot.portal.roles import CASES_ACT, CASES_VIEW, USERS_MANAGE, can
from bot.portal.web import current_user, db, require, services
from content.errors import ContentMissing
from core.oncall.rota import RUNG_NAMES, ladder
from core.tables import OncallShift, utcnow

bp = Blueprint("oncall", __name__, url_prefix="/oncall")


def _regions() -> list[Any]:
    return list(services().library.regions())


def _zone(region_id: str) -> ZoneInfo:
    try:
        return ZoneInfo(services().library.region(region_id).time_zone)
    except (ContentMissing, ValueError, KeyError):
        return ZoneInfo(services().config.DEFAULT_TIMEZONE)


@bp.get("/")
@require(CASES_VIEW)
def page() -> Any:
    now = utcnow()
    regions = []
    for region in _regions():
        tz = _zone(region.id)
        rungs = ladder(db(), services(), region.id, now)
        regions.append(
            {
                "region": region,
                "zone": tz.key,
                "now": {RUNG_NAMES[r]: people for r, people in rungs.items()},
                "shifts": rota.upcoming(db(), region.id, tz, now),
            }
        )
    staff = [
        u
        for u in db().scalars(select(User).where(User.active.is_(True)).order_by(User.name, User.email))
        if can(u.role, CASES_ACT)
    ]
    names = {u.id: u.display_name for u in staff}
    return render_template(
        "portal/oncall.html",
        regions=regions,
        staff=staff,
        names=names,
        phones={u.id: rota.masked_phone(services(), u) for u in staff},
        fallback=len(services().config.ONCALL_NUMBERS),
        staffed_hours=services().config.STAFFED_HOURS,
        may_edit=can(current_user().role, USERS_MANAGE),
    )


@bp.post("/shifts")
@require(USERS_MANAGE)
def add_shift() -> Any:
    region = request.form.get("region", "")
    if region not in {r.id for r in _regions()}:
        abort(400)
    try:
        rota.add_shift(db(), region, _zone(region), dict(request.form), current_user())
    except RotaError as exc:
        db().rollback()
        flash(str(exc), "error")
    else:
        db().commit()
        flash(_("Shift added."), "ok")
    return redirect(url_for("portal.oncall.page"))


@bp.post("/shifts/<int:shift_id>/delete")
@require(USERS_MANAGE)
def delete_shift(shift_id: int) -> Any:
    shift = db().get(OncallShift, shift_id)
    if shift is None:
        abort(404)
    db().delete(shift)
    from bot.portal.web import audit

    audit("rota.shift_removed", shift_id=shift_id, region=shift.region)
    db().commit()
    flash(_("Shift removed."), "ok")
    return redirect(url_for("portal.oncall.page"))


@bp.post("/phone/<int:user_id>")
@require(CASES_ACT)
def set_phone(user_id: int) -> Any:
    """Staff set their own alert number; admins set anyone's."""
    me = current_user()
    if user_id != me.id and not can(me.role, USERS_MANAGE):
        abort(403)
    user = db().get(User, user_id)
    if user is None:
        abort(404)
    try:
        rota.set_phone(db(), services(), user, request.form.get("phone", ""), me)
    except RotaError as exc:
        db().rollback()
        flash(str(exc), "error")
    else:
        db().commit()
        flash(_("Alert number saved."), "ok")
    return redirect(url_for("portal.oncall.page"))
