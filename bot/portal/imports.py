"""``flask --app bot content import --approved-by EMAIL``: an admin imports statuses as written.

Without it an import cannot approve anything (content.import_review). With it, the email must
be an active admin's account, and the import is audited under that account before the files
are written, so the audit trail says who let which file's approvals in.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import current_app
from sqlalchemy import func, select

from bot.portal.models import User
from content.errors import ImportRejected
from core.tables import AuditEvent

IMPORTED_AS_WRITTEN = "content.imported_as_written"


def approver(email: str) -> Callable[[dict[str, Any]], None]:
    """Check that ``email`` is an active admin; return the function that audits the import."""
    services = current_app.extensions["tumaini.services"]
    with services.db.session() as session:
        user = session.scalars(select(User).where(func.lower(User.email) == email.strip().lower())).first()
        if user is None or not user.active or user.role != "admin":
            raise ImportRejected(f"--approved-by {email}: not an active admin account; nothing was written")
        user_id = user.id

    def record(detail: dict[str, Any]) -> None:
        with services.db.session() as session:
            session.add(AuditEvent(actor=str(user_id), action=IMPORTED_AS_WRITTEN, contact_id=None, detail=detail))

    return record
