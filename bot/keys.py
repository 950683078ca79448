"""Key rotation for data at rest: ``flask --app bot keys rotate``.

Rotation is two steps, so no process ever meets a ciphertext it cannot open:
1. put the new key first in ENCRYPTION_KEYS, keeping the old ones after it, and
   restart (new data is sealed with the new key, old data still opens);
2. run ``keys rotate``: every ciphertext still under an old key is re-sealed
   with the new one, in batches; then the old key can be removed.
"""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import select, update

from core import health
from core.crypto import Cipher, new_key
from core.tables import AuditEvent, Contact, InboundMessage, OutboxMessage

keys_cli = AppGroup("keys", help="Encryption keys for data at rest.")

# (table, id column, ciphertext column, context the ciphertext is bound to)
ENCRYPTED = (
    (Contact, Contact.id, Contact.phone_enc, b"phone"),
    (Contact, Contact.id, Contact.state_enc, b"state"),
    (InboundMessage, InboundMessage.id, InboundMessage.from_enc, b"phone"),
    (InboundMessage, InboundMessage.id, InboundMessage.body_enc, b"body"),
    (OutboxMessage, OutboxMessage.id, OutboxMessage.body_enc, b"body"),
)


def rotate(database, cipher: Cipher, batch: int = 500) -> dict[str, int]:
    """Re-seal every ciphertext not under the current key; return counts per column."""
    counts: dict[str, int] = {}
    for model, id_col, column, context in ENCRYPTED:
        name = f"{model.__tablename__}.{column.key}"
        counts[name] = 0
        last_id = 0
        while True:
            with database.session() as session:
                rows = session.execute(
                    select(id_col, column).where(id_col > last_id, column.is_not(None)).order_by(id_col).limit(batch)
                ).all()
                if not rows:
                    break
                for row_id, blob in rows:
                    if cipher.needs_rotation(blob):
                        sealed = cipher.encrypt(cipher.decrypt(blob, context), context)
                        session.execute(update(model).where(id_col == row_id).values({column.key: sealed}))
                        counts[name] += 1
                last_id = rows[-1][0]
    counts["audit_events.detail"] = _rotate_health_events(database, cipher, batch)
    return counts


def _rotate_health_events(database, cipher: Cipher, batch: int) -> int:
    """Sealed health events (core.health) live inside a JSON detail: re-seal those under an old key."""
    done, last_id = 0, 0
    while True:
        with database.session() as session:
            events = session.scalars(select(AuditEvent).where(AuditEvent.id > last_id,
                                                              AuditEvent.action == health.HEALTH)
                                     .order_by(AuditEvent.id).limit(batch)).all()
            if not events:
                return done
            for event in events:
                if health.needs_rotation(cipher, event.detail):
                    action, detail = health.open_event(cipher, event.action, event.detail)
                    event.detail = health.event(cipher, event.actor, action, event.contact_id, detail).detail
                    done += 1
            last_id = events[-1].id


@keys_cli.command("rotate")
@click.option("--batch", default=500, show_default=True)
def rotate_command(batch: int) -> None:
    """Re-encrypt all data under the first key in ENCRYPTION_KEYS."""
    services = current_app.extensions["tumaini.services"]
    counts = rotate(services.db, services.cipher, batch)
    for name, count in counts.items():
        click.echo(f"{name}: {count} re-encrypted")
    click.echo(f"all data is now under key {services.cipher.current_key_id}; older keys can be removed")


@keys_cli.command("new")
def new_command() -> None:
    """Print a fresh key to put first in ENCRYPTION_KEYS."""
    click.echo(new_key())
