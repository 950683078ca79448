"""Account administration for admins: list, add, change role, deactivate.

The first admin is created on the command line (``flask --app bot users create``);
after that, admins manage accounts here. Every change is audited.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from bot.portal import accounts
from bot.portal.errors import AccountError
from bot.portal.models import User
from bot.portal.roles import USERS_MANAGE
from bot.portal.web import audit, current_user, db, require

bp = Blueprint("users", __name__, url_prefix="/users")


@bp.get("/")
@require(USERS_MANAGE)
def index() -> Any:
    users = list(db().scalars(select(User).order_by(User.active.desc(), User.email)))
    return render_template("portal/users.html", users=users)


@bp.post("/")
@require(USERS_MANAGE)
def create() -> Any:
    form = request.form
    try:
        user = accounts.create_user(
            db(),
            form.get("email", ""),
            form.get("password", ""),
            form.get("role", ""),
            name=form.get("name", ""),
            locale=form.get("locale", "en"),
        )
    except AccountError as exc:
        db().rollback()
        flash(str(exc), "error")
    else:
        audit("user.created", user_id=user.id, role=user.role)
        db().commit()
        flash(_("Account created."), "ok")
    return redirect(url_for("portal.users.index"))


@bp.post("/<int:user_id>")
@require(USERS_MANAGE)
def change(user_id: int) -> Any:
    user = db().get(User, user_id)
    if user is None:
        abort(404)
    if user.id == current_user().id:
        flash(_("Ask another admin to change your own account."), "error")
        return redirect(url_for("portal.users.index"))
    try:
        if request.form.get("action") == "deactivate":
            accounts.deactivate(user)
            audit("user.deactivated", user_id=user.id)
        else:
            accounts.set_role(user, request.form.get("role", ""))
            audit("user.role_changed", user_id=user.id, role=user.role)
    except AccountError as exc:
        db().rollback()
        flash(str(exc), "error")
    else:
        db().commit()
        flash(_("Account updated."), "ok")
    return redirect(url_for("portal.users.index"))
