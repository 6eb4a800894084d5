"""Who placed each certificate status change (registry.status_authority), append-only.

Revision ID: 0005_status_authority
Revises: 0004_console
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_status_authority"
down_revision = "0004_console"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "certificate_status_changes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("row_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("authority", sa.String(length=16), nullable=False),
        sa.Column("recorded", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["row_id"], ["rows.id"], name=op.f("fk_certificate_status_changes_row_id_rows")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_certificate_status_changes")),
    )
    op.create_index(
        op.f("ix_certificate_status_changes_row_id"), "certificate_status_changes", ["row_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_certificate_status_changes_row_id"), table_name="certificate_status_changes")
    op.drop_table("certificate_status_changes")
