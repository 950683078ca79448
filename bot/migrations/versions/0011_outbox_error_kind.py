"""outbox: why a send failed, as a kind stored with the row

Revision ID: 0011_error_kind
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0011_error_kind"
down_revision = "0010"
branch_labels = None
depends_on = None

outbox = sa.table(
    "outbox",
    sa.column("error", sa.String),
    sa.column("error_code", sa.Integer),
    sa.column("error_kind", sa.String),
    sa.column("status", sa.String),
)


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("error_kind", sa.String(24), nullable=True))
    # Rows that failed before the column existed: the kind their error text described.
    unknown = sa.or_(outbox.c.error.like("%outcome of an interrupted send unknown%"),
                     outbox.c.error.like("%twilio read timeout%"), outbox.c.error.like("%twilio timeout%"))
    failed = outbox.c.error.is_not(None) | outbox.c.error_code.is_not(None)
    for kind, where in (
        ("opted_out", outbox.c.error_code == 21610),
        ("outside_window", outbox.c.error_code == 63016),
        ("outcome_unknown", unknown),
        ("undelivered", outbox.c.status == "undelivered"),
        ("retryable", outbox.c.error.like("gave up:%")),
        ("permanent", failed),
    ):
        op.execute(outbox.update().where(where, outbox.c.error_kind.is_(None)).values(error_kind=kind))


def downgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("error_kind")
