"""Portal accounts: the staff who edit content, review it and look after people.

Passwords are stored as salted, slow hashes (werkzeug's scrypt). Accounts are
deactivated, never deleted, so the user ids recorded in audit events, reviews and
closed cases keep naming the same person. ``session_epoch`` is bumped to sign a user
out everywhere (deactivation, password change): sessions carry the epoch they began in.

Admins and health workers, who can read decrypted conversations, also sign in with a
one-time code (TOTP); the shared secret is stored encrypted. Every signed-in session has
a row in ``portal_sessions``: signing out deletes it, so a copied cookie stops working.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

import core.tables  # noqa: F401  (registers the users key first)
from core.db import Base


def utcnow() -> datetime:
    return datetime.now(UTC)


class User(Base):
    __tablename__ = "users"
    __table_args__ = {"extend_existing": True}  # the core registers the key cases point at

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(120), default="")
    password_hash: Mapped[str] = mapped_column(String(256))
    role: Mapped[str] = mapped_column(String(16))
    locale: Mapped[str] = mapped_column(String(16), default="en")  # the portal's language for this person
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    session_epoch: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    totp_secret_enc: Mapped[bytes | None] = mapped_column(LargeBinary)  # set once the person enrolled
    totp_last_step: Mapped[int | None] = mapped_column(Integer)  # a code is accepted once
    # The number on-call alerts go to, and that an acknowledgement by SMS comes from:
    # sealed like every number (context b"phone"), with a keyed HMAC to recognise replies.
    phone_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    phone_enc: Mapped[bytes | None] = mapped_column(LargeBinary)

    @property
    def display_name(self) -> str:
        return self.name or self.email


class PortalSession(Base):
    """One signed-in browser. The cookie holds a random token; only its hash is stored here."""

    __tablename__ = "portal_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
