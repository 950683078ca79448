"""What every portal view shares: the signed-in user, permission checks, services, audit."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar
from urllib.parse import urlparse

from flask import current_app, g
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from bot.db import get_session
from bot.portal.errors import NotPermitted
from bot.portal.models import User
from bot.portal.roles import can
from core.tables import AuditEvent

F = TypeVar("F", bound=Callable[..., Any])


def current_user() -> User:
    """The signed-in user (every view but sign-in runs after the user was loaded)."""
    user = g.get("portal_user")
    if user is None:
        raise NotPermitted(_("Sign in first."))
    return user


def user_can(permission: str) -> bool:
    user = g.get("portal_user")
    return user is not None and can(user.role, permission)


def require(permission: str) -> Callable[[F], F]:
    """Refuse the view (403) unless the user's role holds ``permission``."""

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not can(current_user().role, permission):
                raise NotPermitted(_("Your role does not allow this."))
            return view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorator


def services() -> Any:
    return current_app.extensions["tumaini.services"]


def db() -> Session:
    return get_session()


def audit(action: str, contact_id: int | None = None, **detail: Any) -> None:
    """Record what a staff member did (added to the request's transaction; commit follows)."""
    db().add(AuditEvent(actor=str(current_user().id), action=action, contact_id=contact_id, detail=detail))


def safe_next(target: str | None, default: str) -> str:
    """Only redirect back inside the portal, never to another site."""
    if not target:
        return default
    parsed = urlparse(target)
    if parsed.scheme or parsed.netloc or not parsed.path.startswith("/portal/") or target.startswith("//"):
        return default
    return target
