"""on call: rota shifts, case alerts, case owners, staff numbers, staff-addressed outbox rows

Revision ID: 0008_oncall
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008_oncall"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("phone_hash", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("phone_enc", sa.LargeBinary(), nullable=True))
        batch.create_unique_constraint("uq_users_phone_hash", ["phone_hash"])
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("to_enc", sa.LargeBinary(), nullable=True))
    with op.batch_alter_table("escalations") as batch:
        batch.add_column(sa.Column("kind", sa.String(length=16), nullable=False, server_default="crisis"))
        batch.add_column(sa.Column("category", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("region", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("owner_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("acknowledged_via", sa.String(length=16), nullable=True))
        batch.add_column(sa.Column("alert_tier", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("next_alert_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("ack_due_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("first_reply_at", sa.DateTime(timezone=True), nullable=True))
        batch.create_foreign_key("fk_escalations_owner_id_users", "users", ["owner_id"], ["id"], ondelete="SET NULL")
        batch.create_index("ix_escalations_owner_id", ["owner_id"])
        batch.create_index("ix_escalations_next_alert", ["status", "next_alert_at"])
    op.create_table(
        "oncall_shifts",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("region", sa.String(length=32), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("oncall_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("backup_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=True),
        sa.Column("supervisor_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=True),
        sa.Column("created_by", sa.Integer(), sa.ForeignKey("users.id"), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_oncall_shifts_region_time", "oncall_shifts", ["region", "starts_at", "ends_at"])
    op.create_table(
        "case_alerts",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("escalation_id", sa.Integer(), sa.ForeignKey("escalations.id", ondelete="CASCADE"), nullable=False),
        sa.Column("tier", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("recipient_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="SET NULL"), nullable=True),
        sa.Column("outbox_id", sa.Integer(), sa.ForeignKey("outbox.id", ondelete="SET NULL"), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("error", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("escalation_id", "tier", "channel", "recipient_hash", name="uq_case_alerts_once"),
    )
    op.create_index("ix_case_alerts_escalation_id", "case_alerts", ["escalation_id"])
    op.create_index("ix_case_alerts_status", "case_alerts", ["channel", "status"])


def downgrade() -> None:
    op.drop_table("case_alerts")
    op.drop_table("oncall_shifts")
    with op.batch_alter_table("escalations") as batch:
        batch.drop_index("ix_escalations_next_alert")
        batch.drop_index("ix_escalations_owner_id")
        batch.drop_constraint("fk_escalations_owner_id_users", type_="foreignkey")
        for column in (
            "first_reply_at",
            "ack_due_at",
            "next_alert_at",
            "alert_tier",
            "acknowledged_via",
            "acknowledged_at",
            "owner_id",
            "region",
            "category",
            "kind",
        ):
            batch.drop_column(column)
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("to_enc")
    with op.batch_alter_table("users") as batch:
        batch.drop_constraint("uq_users_phone_hash", type_="unique")
        batch.drop_column("phone_enc")
        batch.drop_column("phone_hash")
