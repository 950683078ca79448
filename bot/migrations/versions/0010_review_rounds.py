"""co-design: review rounds per locale, threaded comments and sign-offs

Comments gain a parent (a reply), a round, and the name of a participant without an
account; existing comments get an empty name and the portal as their source.

Revision ID: 0010
Revises: 0009_erasure
Create Date: 2026-12-07 06:23:39.484832
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009_erasure"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "review_rounds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("locale", sa.String(length=16), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("opened_by", sa.Integer(), nullable=True),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_by", sa.Integer(), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_rounds")),
    )
    with op.batch_alter_table("review_rounds", schema=None) as batch_op:
        batch_op.create_index("ix_review_rounds_locale_status", ["locale", "status"], unique=False)

    op.create_table(
        "content_signoffs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("signer", sa.String(length=200), nullable=False),
        sa.Column("recorded_by", sa.Integer(), nullable=True),
        sa.Column("round_id", sa.Integer(), nullable=True),
        sa.Column("text_digest", sa.String(length=64), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["round_id"],
            ["review_rounds.id"],
            name=op.f("fk_content_signoffs_round_id_review_rounds"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["content_versions.id"],
            name=op.f("fk_content_signoffs_version_id_content_versions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_content_signoffs")),
        sa.UniqueConstraint("version_id", "kind", "signer", name="uq_content_signoffs_version_kind_signer"),
    )
    with op.batch_alter_table("content_signoffs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_content_signoffs_version_id"), ["version_id"], unique=False)

    with op.batch_alter_table("content_review_comments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("parent_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("round_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("author_name", sa.String(length=200), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("source", sa.String(length=16), nullable=False, server_default="portal"))
        batch_op.create_index(batch_op.f("ix_content_review_comments_round_id"), ["round_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_content_review_comments_parent_id_content_review_comments"),
            "content_review_comments",
            ["parent_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_content_review_comments_round_id_review_rounds"),
            "review_rounds",
            ["round_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade() -> None:
    with op.batch_alter_table("content_review_comments", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_content_review_comments_round_id_review_rounds"), type_="foreignkey")
        batch_op.drop_constraint(
            batch_op.f("fk_content_review_comments_parent_id_content_review_comments"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_content_review_comments_round_id"))
        batch_op.drop_column("source")
        batch_op.drop_column("author_name")
        batch_op.drop_column("round_id")
        batch_op.drop_column("parent_id")

    with op.batch_alter_table("content_signoffs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_content_signoffs_version_id"))

    op.drop_table("content_signoffs")
    with op.batch_alter_table("review_rounds", schema=None) as batch_op:
        batch_op.drop_index("ix_review_rounds_locale_status")

    op.drop_table("review_rounds")
