"""Portal request hygiene: CSRF tokens, idle sign-out and security headers.

A CSRF token lives in the signed session and goes into every form (and the preview
fetch's header); a POST without it is refused, so another site cannot make a signed-in
health worker send a message or approve content. Sessions end after
``PORTAL_IDLE_TIMEOUT_S`` (30 min) without a request and ``PORTAL_MAX_SESSION_S``
(12 h) after sign-in, because portal pages show people's conversations on shared
devices. Headers forbid framing, sniffing and inline script, and keep pages out of caches.

The signed cookie alone does not make a session: it carries a random token whose hash
must still be in ``portal_sessions``. Signing out deletes that row, so a copied cookie
is worthless afterwards.

Why not Flask-Login and Flask-WTF: Flask-Login keeps the session in the same signed
cookie and has no server-side revocation, which is the part that matters here, and its
remember-me cookie would have to be turned off; CSRFProtect's tokens expire after an hour
by default and it would guard the Twilio webhooks unless exempted. The few lines below do
exactly what both would (a session-bound token compared in constant time) and are tested
through the portal.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from datetime import timedelta
from typing import Any

from flask import Response, current_app, request, session
from sqlalchemy import delete, select

from bot.db import get_session
from bot.portal.errors import CsrfFailed
from bot.portal.models import PortalSession, User, utcnow

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
DEFAULT_IDLE_TIMEOUT_S = 30 * 60
DEFAULT_MAX_SESSION_S = 12 * 3600

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def csrf_token() -> str:
    """This session's token, created on first use (templates call it for every form)."""
    token = session.get(CSRF_FIELD)
    if not token:
        token = secrets.token_urlsafe(32)
        session[CSRF_FIELD] = token
    return token


def check_csrf() -> None:
    """Refuse a state-changing request that does not carry this session's token."""
    if request.method in SAFE_METHODS:
        return
    expected = session.get(CSRF_FIELD, "")
    sent = request.form.get(CSRF_FIELD) or request.headers.get(CSRF_HEADER, "")
    if not expected or not hmac.compare_digest(str(sent), str(expected)):
        raise CsrfFailed("form without this session's CSRF token")


# Kept across sign-out: the portal's language and the accounts this browser has signed in to.
KEPT = ("lang", "known")
TOUCH_EVERY_S = 60


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _keep() -> dict[str, Any]:
    return {k: session[k] for k in KEPT if k in session}


def start_session(user_id: int, epoch: int) -> None:
    """A fresh session for a user who just signed in (the old one is dropped whole).

    Adds the session's row to the request's database session; the caller commits.
    """
    kept = _keep()
    old = session.get("sid")
    session.clear()
    db = get_session()
    if old:
        db.execute(delete(PortalSession).where(PortalSession.token_hash == _token_hash(old)))
    longest = int(current_app.config.get("PORTAL_MAX_SESSION_S", DEFAULT_MAX_SESSION_S))
    db.execute(delete(PortalSession).where(PortalSession.user_id == user_id,
                                           PortalSession.created_at < utcnow() - timedelta(seconds=longest)))
    token = secrets.token_urlsafe(32)
    db.add(PortalSession(token_hash=_token_hash(token), user_id=user_id))
    now = int(time.time())
    session.update({"uid": user_id, "epoch": epoch, "since": now, "seen": now, "sid": token,
                    CSRF_FIELD: secrets.token_urlsafe(32), **kept})


def end_session() -> None:
    """Sign out: the server forgets the session, so the cookie is useless even if copied."""
    token = session.get("sid")
    kept = _keep()
    session.clear()
    session.update(kept)
    if token:
        db = get_session()
        db.execute(delete(PortalSession).where(PortalSession.token_hash == _token_hash(token)))
        db.commit()


def signed_in_user() -> User | None:
    """The user this request's cookie signs in, if its server-side session is still open."""
    uid, token = session.get("uid"), session.get("sid")
    if uid is None or not token or session_expired():
        return None
    db = get_session()
    row = db.scalars(select(PortalSession).where(PortalSession.token_hash == _token_hash(str(token)))).first()
    if row is None or row.user_id != uid:
        return None
    user = db.get(User, uid)
    if user is None or not user.active or user.session_epoch != session.get("epoch"):
        return None
    if int(time.time()) - int(session.get("seen", 0)) >= TOUCH_EVERY_S:
        row.last_seen_at = utcnow()
        db.commit()
    return user


def session_expired() -> bool:
    """True when the signed-in session has been idle, or alive, for too long."""
    now = time.time()
    idle = int(current_app.config.get("PORTAL_IDLE_TIMEOUT_S", DEFAULT_IDLE_TIMEOUT_S))
    longest = int(current_app.config.get("PORTAL_MAX_SESSION_S", DEFAULT_MAX_SESSION_S))
    return now - session.get("seen", 0) > idle or now - session.get("since", 0) > longest


def touch_session() -> None:
    session["seen"] = int(time.time())


def add_security_headers(response: Response) -> Response:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    if request.endpoint and not request.endpoint.endswith(".static"):
        response.headers["Cache-Control"] = "no-store"
    return response
