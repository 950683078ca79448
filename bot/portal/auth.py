"""Signing in and out, the portal-wide request hook, and the home page.

Every portal request passes ``before_portal_request``: the CSRF check for forms, then
the session (expired sessions end; a deactivated account or a changed password ends all
of its sessions through ``session_epoch``), then a redirect to sign-in for anyone
not signed in.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, g, jsonify, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from sqlalchemy import func, select

from bot.portal import security
from bot.portal.accounts import authenticate
from bot.portal.errors import LoginRefused
from bot.portal.i18n import LANGUAGES
from bot.portal.models import User
from bot.portal.ratelimit import LoginLimiter
from bot.portal.roles import CASES_VIEW, CONTENT_VIEW
from bot.portal.web import audit, db, safe_next, services, user_can
from content.db import ContentVersion
from core.tables import Escalation

bp = Blueprint("auth", __name__)
PUBLIC_ENDPOINTS = frozenset({"portal.auth.login", "portal.auth.language", "portal.static"})


def limiter() -> LoginLimiter:
    s = services()
    return LoginLimiter(lambda: s.redis, s.pseudonymise)


def before_portal_request() -> Any:
    g.portal_user = None
    security.check_csrf()
    uid = session.get("uid")
    if uid is not None:
        if security.session_expired():
            security.end_session()
            flash(_("You were signed out after a period of inactivity."), "info")
        else:
            user = db().get(User, uid)
            if user is not None and user.active and user.session_epoch == session.get("epoch"):
                g.portal_user = user
                security.touch_session()
            else:
                security.end_session()
    if g.portal_user is None and request.endpoint not in PUBLIC_ENDPOINTS:
        if request.accept_mimetypes.best == "application/json" or request.is_json:
            return jsonify(error="sign in first"), 401
        return redirect(url_for("portal.auth.login", next=request.full_path.rstrip("?")))
    return None


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    if g.portal_user is not None:
        return redirect(url_for("portal.auth.home"))
    next_url = request.values.get("next", "")
    if request.method == "GET":
        return render_template("portal/login.html", next_url=next_url, email="")
    email = request.form.get("email", "").strip()
    password = request.form.get("password", "")
    address = request.remote_addr or "unknown"
    limits = limiter()
    wait = limits.blocked_for(email, address)
    if wait:
        minutes = max(1, (wait + 59) // 60)
        message = _("Too many failed attempts. Try again in %(minutes)d minutes.", minutes=minutes)
        response = render_template("portal/login.html", next_url=next_url, email=email, error=message)
        return response, 429, {"Retry-After": str(wait)}
    try:
        user = authenticate(db(), email, password)
    except LoginRefused:
        db().rollback()
        limits.failed(email, address)
        return render_template(
            "portal/login.html", next_url=next_url, email=email, error=_("Wrong email or password.")
        ), 401
    limits.succeeded(email, address)
    security.start_session(user.id, user.session_epoch)
    g.portal_user = user
    audit("portal.login")
    db().commit()
    return redirect(safe_next(next_url, url_for("portal.auth.home")))


@bp.post("/logout")
def logout() -> Any:
    security.end_session()
    flash(_("You are signed out."), "info")
    return redirect(url_for("portal.auth.login"))


@bp.post("/language")
def language() -> Any:
    """Change the portal's language (stored on the account when signed in)."""
    lang = request.form.get("lang", "")
    if lang in LANGUAGES:
        session["lang"] = lang
        if g.portal_user is not None:
            g.portal_user.locale = lang
            db().commit()
    return redirect(safe_next(request.form.get("next"), url_for("portal.auth.home")))


@bp.get("/")
def home() -> Any:
    open_cases: dict[str, int] = {}
    if user_can(CASES_VIEW):
        rows = (
            db()
            .execute(
                select(Escalation.severity, func.count())
                .where(Escalation.status == "open")
                .group_by(Escalation.severity)
            )
            .all()
        )
        open_cases = {severity: count for severity, count in rows}
    in_review = 0
    if user_can(CONTENT_VIEW):
        in_review = (
            db().scalar(select(func.count()).select_from(ContentVersion).where(ContentVersion.status == "in_review"))
            or 0
        )
    return render_template("portal/home.html", open_cases=open_cases, in_review=in_review)
