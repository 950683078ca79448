"""scheduling: course enrolments, per-person send time and zone, scheduled outbox rows

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "course_enrollments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("course_id", sa.String(length=64), nullable=False),
        sa.Column("course_version", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("anchor_date", sa.Date(), nullable=False),
        sa.Column("step", sa.Integer(), nullable=False),
        sa.Column("next_due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["contact_id"], ["contacts.id"],
                                name=op.f("fk_course_enrollments_contact_id_contacts"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_course_enrollments")),
    )
    op.create_index("ix_course_enrollments_contact_id", "course_enrollments", ["contact_id"])
    op.create_index("ix_course_enrollments_due", "course_enrollments", ["status", "next_due_at"])

    with op.batch_alter_table("contacts") as batch:
        batch.add_column(sa.Column("time_zone", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("send_minute", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("reminders_paused", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("sms_fallback", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("schedule_event_id", sa.Integer(), nullable=True))

    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("enrollment_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("course_step", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("not_after", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("template_sid", sa.String(length=64), nullable=True))
        batch.create_foreign_key(op.f("fk_outbox_enrollment_id_course_enrollments"), "course_enrollments",
                                 ["enrollment_id"], ["id"], ondelete="CASCADE")
    # Exactly once: one outbox row per (enrolment, step), however many schedulers race.
    op.create_index("uq_outbox_enrollment_step", "outbox", ["enrollment_id", "course_step"], unique=True)


def downgrade() -> None:
    op.drop_index("uq_outbox_enrollment_step", table_name="outbox")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_constraint(op.f("fk_outbox_enrollment_id_course_enrollments"), type_="foreignkey")
        batch.drop_column("template_sid")
        batch.drop_column("not_after")
        batch.drop_column("course_step")
        batch.drop_column("enrollment_id")
    with op.batch_alter_table("contacts") as batch:
        batch.drop_column("schedule_event_id")
        batch.drop_column("sms_fallback")
        batch.drop_column("reminders_paused")
        batch.drop_column("send_minute")
        batch.drop_column("time_zone")
    op.drop_index("ix_course_enrollments_due", table_name="course_enrollments")
    op.drop_index("ix_course_enrollments_contact_id", table_name="course_enrollments")
    op.drop_table("course_enrollments")
