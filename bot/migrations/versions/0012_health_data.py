"""health data at rest: the conversation state is sealed in contacts.state_enc

A state written before this revision stays readable in contacts.state until the person's next
turn seals it, or the retention job does (workers.retention).

Health events written in clear before this revision (crisis flags, screening results, crisis and
screening replies) cannot be sealed here, where no key is at hand, so they are kept out instead:
each becomes the unlinked aggregate the retention job makes of a sealed one past its time (its
action and the instrument, band or content id only; no score, no rule, no person; the day only).

Revision ID: 0012_health_data
Revises: 0011_error_kind
"""

from datetime import datetime

import sqlalchemy as sa
from alembic import op

revision = "0012_health_data"
down_revision = "0011_error_kind"
branch_labels = None
depends_on = None

HEALTH_PREFIXES = ("crisis", "screening", "safety")
AGGREGATE_KEYS = ("instrument", "band", "content", "kind")
BATCH = 5000

audit = sa.table(
    "audit_events",
    sa.column("id", sa.Integer()),
    sa.column("action", sa.String()),
    sa.column("contact_id", sa.Integer()),
    sa.column("detail", sa.JSON()),
    sa.column("created_at", sa.DateTime(timezone=True)),
)


def _is_health(action: str, detail: dict) -> bool:
    content = str(detail.get("content") or "")
    return action.startswith(HEALTH_PREFIXES) or content.startswith(HEALTH_PREFIXES) or detail.get("kind") == "crisis"


def _day(value: object) -> object:
    if isinstance(value, datetime):
        return value.replace(hour=0, minute=0, second=0, microsecond=0)
    return value


def upgrade() -> None:
    with op.batch_alter_table("contacts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("state_enc", sa.LargeBinary(), nullable=True))
    conn = op.get_bind()
    wanted = sa.or_(audit.c.action == "reply.composed", *(audit.c.action.like(f"{p}%") for p in HEALTH_PREFIXES))
    after = 0
    while True:
        rows = conn.execute(
            sa.select(audit.c.id, audit.c.action, audit.c.detail, audit.c.created_at)
            .where(audit.c.id > after, audit.c.contact_id.is_not(None), wanted)
            .order_by(audit.c.id).limit(BATCH)
        ).all()
        for row in rows:
            detail = row.detail or {}
            if _is_health(row.action, detail):
                conn.execute(
                    audit.update().where(audit.c.id == row.id).values(
                        contact_id=None, created_at=_day(row.created_at),
                        detail={k: detail[k] for k in AGGREGATE_KEYS if k in detail},
                    )
                )
        if len(rows) < BATCH:
            break
        after = rows[-1].id


def downgrade() -> None:
    with op.batch_alter_table("contacts", schema=None) as batch_op:
        batch_op.drop_column("state_enc")
