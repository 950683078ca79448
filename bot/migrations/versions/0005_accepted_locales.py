"""conversation: the locales each person accepted, most recent first

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("contacts") as batch:
        batch.add_column(sa.Column("accepted_locales", sa.String(length=100), nullable=True))
    # Until now a stored locale was always one the person chose or consented in.
    op.execute("UPDATE contacts SET accepted_locales = locale WHERE locale IS NOT NULL")


def downgrade() -> None:
    with op.batch_alter_table("contacts") as batch:
        batch.drop_column("accepted_locales")
