"""The portal blueprint: /portal/..., with one child blueprint per feature.

Hooks on the parent apply to every child: sign-in and CSRF before each request, and
error pages in the user's language. Security headers are added app-wide for every path
under /portal (see ``bot.portal.init_app``), so even a 404 there carries them.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, g, render_template, request
from flask_babel import format_timedelta
from flask_babel import gettext as _

from bot.portal import (
    auth,
    cases_views,
    content_views,
    editor_views,
    failures_views,
    oncall_views,
    reports_views,
    roles,
    rounds_views,
    security,
    users_views,
)
from bot.portal.errors import CsrfFailed, NotPermitted
from bot.portal.i18n import LANGUAGES, current_language, direction

portal = Blueprint("portal", __name__, url_prefix="/portal", template_folder="templates", static_folder="static")
for child in (
    auth.bp,
    content_views.bp,
    editor_views.bp,
    cases_views.bp,
    reports_views.bp,
    users_views.bp,
    failures_views.bp,
    oncall_views.bp,
    rounds_views.bp,
):
    portal.register_blueprint(child)

portal.before_request(auth.before_portal_request)


@portal.context_processor
def template_globals() -> dict[str, Any]:
    user = g.get("portal_user")
    lang = current_language()
    return {
        "user": user,
        "can": lambda permission: user is not None and roles.can(user.role, permission),
        "roles": roles,
        "csrf_token": security.csrf_token,
        "lang": lang,
        "text_direction": direction(lang),
        # The direction of a text in its own language (Arabic right to left, whatever the page's).
        "text_dir": direction,
        "languages": LANGUAGES,
        "here": request.full_path.rstrip("?"),
        "ago": ago,
    }


def ago(value: datetime) -> str:
    """How long ago, in the reader's language ("3 hours ago"): a queue is read by age."""
    moment = value if value.tzinfo else value.replace(tzinfo=UTC)
    return format_timedelta(moment - datetime.now(UTC), add_direction=True)


def _error_page(status: int, message: str) -> Any:
    return render_template("portal/error.html", status=status, message=message), status


@portal.errorhandler(NotPermitted)
def not_permitted(_exc: NotPermitted) -> Any:
    return _error_page(403, _("Your role does not allow this. Ask an admin if you need it."))


@portal.errorhandler(CsrfFailed)
def csrf_failed(_exc: CsrfFailed) -> Any:
    return _error_page(400, _("This form has expired. Go back, reload the page and try again."))


@portal.errorhandler(404)
def not_found(_exc: Exception) -> Any:
    return _error_page(404, _("There is nothing here."))
