"""retention: index the columns that point at inbound messages

Deleting an inbound message sets ``outbox.inbound_id`` and ``escalations.inbound_id``
to NULL wherever they point at it. Without an index, PostgreSQL scans the whole outbox
for every deleted message, so the daily purge of a large backlog took hours. On
PostgreSQL the indexes are built CONCURRENTLY, so sending is not blocked meanwhile.

Revision ID: 0006
Revises: 0005
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

INDEXES = (("ix_outbox_inbound_id", "outbox"), ("ix_escalations_inbound_id", "escalations"))


def upgrade() -> None:
    if op.get_context().dialect.name == "postgresql":
        with op.get_context().autocommit_block():
            for name, table in INDEXES:
                op.create_index(name, table, ["inbound_id"], postgresql_concurrently=True, if_not_exists=True)
        return
    for name, table in INDEXES:
        op.create_index(name, table, ["inbound_id"])


def downgrade() -> None:
    for name, table in INDEXES:
        op.drop_index(name, table_name=table)
