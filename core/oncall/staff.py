"""Staff accounts as the on-call code reads them: id, name, language, number.

The accounts table belongs to the portal; the core reads the few columns it needs through
a light table clause, so workers never load the portal (or Flask) to alert someone.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Boolean, Integer, LargeBinary, String, column, select, table
from sqlalchemy.orm import Session

USERS = table(
    "users",
    column("id", Integer),
    column("email", String),
    column("name", String),
    column("locale", String),
    column("active", Boolean),
    column("phone_hash", String),
    column("phone_enc", LargeBinary),
)


@dataclass(frozen=True)
class StaffMember:
    id: int
    name: str
    locale: str | None
    active: bool
    phone_hash: str | None
    phone_enc: bytes | None


def _one(session: Session, condition: object) -> StaffMember | None:
    row = session.execute(
        select(
            USERS.c.id,
            USERS.c.email,
            USERS.c.name,
            USERS.c.locale,
            USERS.c.active,
            USERS.c.phone_hash,
            USERS.c.phone_enc,
        ).where(condition)  # type: ignore[arg-type]
    ).first()
    if row is None:
        return None
    return StaffMember(row.id, row.name or row.email, row.locale, bool(row.active), row.phone_hash, row.phone_enc)


def by_id(session: Session, user_id: int) -> StaffMember | None:
    return _one(session, USERS.c.id == user_id)


def by_phone_hash(session: Session, phone_hash: str) -> StaffMember | None:
    return _one(session, USERS.c.phone_hash == phone_hash)
