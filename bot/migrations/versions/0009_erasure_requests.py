"""erasure: a person's DELETE is a row first, finished by a worker or the sweeper

Revision ID: 0009_erasure
Revises: 0008_oncall
"""

import sqlalchemy as sa
from alembic import op

revision = "0009_erasure"
down_revision = "0008_oncall"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "erasure_requests",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("contact_id", sa.Integer(), sa.ForeignKey("contacts.id", ondelete="SET NULL"), nullable=True),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("provider_sids", sa.JSON(), nullable=False),
        sa.Column("twilio_done_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("removed", sa.JSON(), nullable=False),
    )
    op.create_index("ix_erasure_requests_contact_id", "erasure_requests", ["contact_id"])
    op.create_index("ix_erasure_requests_open", "erasure_requests", ["done_at", "due_at"])


def downgrade() -> None:
    op.drop_index("ix_erasure_requests_open", table_name="erasure_requests")
    op.drop_index("ix_erasure_requests_contact_id", table_name="erasure_requests")
    op.drop_table("erasure_requests")
