"""Portal request hygiene: CSRF tokens, idle sign-out and security headers.

A CSRF token lives in the signed session and goes into every form (and the preview
fetch's header); a POST without it is refused, so another site cannot make a signed-in
health worker send a message or approve content. Sessions end after
``PORTAL_IDLE_TIMEOUT_S`` (30 min) without a request and ``PORTAL_MAX_SESSION_S``
(12 h) after sign-in, because portal pages show people's conversations on shared
devices. Headers forbid framing, sniffing and inline script, and keep pages out of caches.
"""

from __future__ import annotations

import hmac
import secrets
import time

from flask import Response, current_app, request, session

from bot.portal.errors import CsrfFailed

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


def start_session(user_id: int, epoch: int) -> None:
    """A fresh session for a user who just signed in (the old one is dropped whole)."""
    lang = session.get("lang")
    session.clear()
    now = int(time.time())
    session.update({"uid": user_id, "epoch": epoch, "since": now, "seen": now, CSRF_FIELD: secrets.token_urlsafe(32)})
    if lang:
        session["lang"] = lang


def end_session() -> None:
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang


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
