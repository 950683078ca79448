"""Signing in and out, the portal-wide request hook, and the home page.

Every portal request passes ``before_portal_request``: the CSRF check for forms, then
the session (expired sessions end; a deactivated account or a changed password ends all
of its sessions through ``session_epoch``; a signed-out session's row is gone), then a
redirect to sign-in for anyone not signed in.

Signing in is one step for curators and reviewers and two for admins and health
workers: the password, then a one-time code (``bot.portal.twofactor``), enrolling an
authenticator at their first sign-in. Between the two steps the session holds only
``pending`` (the user id, the epoch and when the password was given), which expires
after five minutes and signs nobody in.
"""

from __future__ import annotations

import time
from typing import Any

from flask import Blueprint, flash, g, jsonify, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from sqlalchemy import func, select

from bot.portal import security, twofactor
from bot.portal.accounts import authenticate, rehash_if_outdated
from bot.portal.errors import LoginRefused
from bot.portal.i18n import LANGUAGES
from bot.portal.models import User
from bot.portal.ratelimit import LoginLimiter
from bot.portal.roles import CASES_VIEW, CONTENT_VIEW
from bot.portal.web import audit, db, safe_next, services, user_can
from content.db import ContentVersion
from core.tables import Escalation

bp = Blueprint("auth", __name__)
PUBLIC_ENDPOINTS = frozenset({"portal.auth.login", "portal.auth.second_step", "portal.auth.language",
                              "portal.static"})
PENDING_S = 300
KNOWN_MAX = 10


def limiter() -> LoginLimiter:
    s = services()
    return LoginLimiter(lambda: s.redis, s.pseudonymise)


def before_portal_request() -> Any:
    g.portal_user = None
    security.check_csrf()
    if session.get("uid") is not None:
        if security.session_expired():
            security.end_session()
            flash(_("You were signed out after a period of inactivity."), "info")
        else:
            user = security.signed_in_user()
            if user is not None:
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
    wait = limits.blocked_for(email, address, known_browser=_known(email))
    if wait:
        return _too_many(wait, next_url, email)
    try:
        user = authenticate(db(), email, password)
    except LoginRefused:
        db().rollback()
        limits.failed(email, address)
        return render_template(
            "portal/login.html", next_url=next_url, email=email, error=_("Wrong email or password.")
        ), 401
    rehash_if_outdated(user, password)
    if twofactor.required(user):
        db().commit()
        session["pending"] = {"uid": user.id, "epoch": user.session_epoch, "at": int(time.time()),
                              "next": next_url}
        return redirect(url_for("portal.auth.second_step"))
    return _signed_in(user, next_url)


def _known(email: str) -> bool:
    return services().pseudonymise("known|" + email.strip().lower())[:16] in session.get("known", [])


def _too_many(wait: int, next_url: str, email: str) -> Any:
    minutes = max(1, (wait + 59) // 60)
    message = _("Too many failed attempts. Try again in %(minutes)d minutes.", minutes=minutes)
    response = render_template("portal/login.html", next_url=next_url, email=email, error=message)
    return response, 429, {"Retry-After": str(wait)}


def _signed_in(user: User, next_url: str) -> Any:
    limiter().succeeded(user.email, request.remote_addr or "unknown")
    mark = services().pseudonymise("known|" + user.email)[:16]
    session["known"] = [mark] + [k for k in session.get("known", []) if k != mark][: KNOWN_MAX - 1]
    security.start_session(user.id, user.session_epoch)
    g.portal_user = user
    audit("portal.login")
    db().commit()
    return redirect(safe_next(next_url, url_for("portal.auth.home")))


@bp.route("/login/code", methods=["GET", "POST"])
def second_step() -> Any:
    """The one-time code after the password; at the first sign-in, enrolling an authenticator first."""
    pending = session.get("pending") or {}
    user = db().get(User, pending.get("uid", 0)) if pending else None
    if (user is None or not user.active or user.session_epoch != pending.get("epoch")
            or time.time() - pending.get("at", 0) > PENDING_S):
        session.pop("pending", None)
        flash(_("Sign in again."), "info")
        return redirect(url_for("portal.auth.login"))
    enrolling = not twofactor.enrolled(user)
    cipher = services().cipher
    secret = twofactor.pending_secret(user, cipher) if enrolling else ""
    db().commit()
    context = {"enrolling": enrolling, "secret": secret,
               "link": twofactor.link(secret, user.email) if enrolling else ""}
    if request.method == "GET":
        return render_template("portal/login_code.html", **context)
    address = request.remote_addr or "unknown"
    limits = limiter()
    wait = limits.blocked_for(user.email, address, known_browser=_known(user.email))
    if wait:
        return _too_many(wait, "", user.email)
    if not twofactor.verify(user, request.form.get("code", ""), cipher):
        db().commit()
        limits.failed(user.email, address)
        return render_template("portal/login_code.html", error=_("That code is not right. Try the newest one."),
                               **context), 401
    if enrolling:
        db().add(_audit_for(user, "portal.two_factor_enrolled"))
    session.pop("pending", None)
    return _signed_in(user, pending.get("next", ""))


def _audit_for(user: User, action: str) -> Any:
    from core.tables import AuditEvent

    return AuditEvent(actor=str(user.id), action=action, contact_id=None, detail={})


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
