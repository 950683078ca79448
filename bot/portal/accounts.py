"""Creating staff accounts and checking passwords.

Kept apart from the web views so the CLI (the first admin is created there) and the
portal share one set of rules: emails are unique and compared case-insensitively,
passwords have a minimum length, and a wrong email costs as much time as a wrong
password, so response times do not reveal which accounts exist.
"""

from __future__ import annotations

from functools import lru_cache

from flask import current_app, has_app_context
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from bot.portal.errors import AccountError, LoginRefused, UnknownRole
from bot.portal.models import User, utcnow
from bot.portal.roles import ROLES

MIN_PASSWORD_LENGTH = 10
# scrypt at OWASP's current parameters (N=2**17, r=8, p=1: 128 MiB, about half a second).
# PORTAL_PASSWORD_HASH may name a cheaper method for tests.
DEFAULT_HASH_METHOD = "scrypt:131072:8:1"


def _method() -> str:
    method = current_app.config.get("PORTAL_PASSWORD_HASH", DEFAULT_HASH_METHOD) if has_app_context() else None
    return method or DEFAULT_HASH_METHOD


def _hash(password: str) -> str:
    return generate_password_hash(password, method=_method())


def rehash_if_outdated(user: User, password: str) -> bool:
    """After a correct password: store it again under the current method if it was hashed under an older one."""
    if user.password_hash.split("$", 1)[0] == _method():
        return False
    user.password_hash = _hash(password)
    return True


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    """A hash checked when the email is unknown, so both paths cost the same (made on first use)."""
    return _hash("tumaini-no-such-account-3f9c1e")


def normalise_email(email: str) -> str:
    return email.strip().lower()


def check_password_strength(password: str) -> None:
    """Refuse passwords too short to resist guessing (length matters more than symbols)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(_("The password must be at least %(n)d characters long.", n=MIN_PASSWORD_LENGTH))


def find_user(session: Session, email: str) -> User | None:
    return session.scalars(select(User).where(func.lower(User.email) == normalise_email(email))).first()


def create_user(session: Session, email: str, password: str, role: str, name: str = "", locale: str = "en") -> User:
    """A new active account; raises AccountError for a duplicate email or a weak password."""
    email = normalise_email(email)
    if "@" not in email or len(email) > 254:
        raise AccountError(_("Give a valid email address."))
    if role not in ROLES:
        raise UnknownRole(_("The role must be one of: %(roles)s.", roles=", ".join(ROLES)))
    check_password_strength(password)
    if find_user(session, email) is not None:
        raise AccountError(_("An account for %(email)s already exists.", email=email))
    user = User(
        email=email,
        name=name.strip(),
        password_hash=_hash(password),
        role=role,
        locale=locale,
        active=True,
        session_epoch=0,
    )
    session.add(user)
    session.flush()
    return user


def authenticate(session: Session, email: str, password: str) -> User:
    """The active user with this email and password; LoginRefused otherwise."""
    user = find_user(session, email)
    if user is None:
        check_password_hash(_dummy_hash(), password)
        raise LoginRefused(_("Wrong email or password."))
    if not check_password_hash(user.password_hash, password) or not user.active:
        raise LoginRefused(_("Wrong email or password."))
    user.last_login_at = utcnow()
    return user


def set_password(session: Session, user: User, password: str) -> None:
    """Change a password and sign the user out of every other session."""
    check_password_strength(password)
    user.password_hash = _hash(password)
    user.session_epoch += 1


def set_role(user: User, role: str) -> None:
    if role not in ROLES:
        raise UnknownRole(_("The role must be one of: %(roles)s.", roles=", ".join(ROLES)))
    user.role = role
    user.session_epoch += 1


def deactivate(user: User) -> None:
    """Block the account and end its sessions; its id stays in the records it appears in."""
    user.active = False
    user.session_epoch += 1
