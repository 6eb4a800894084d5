"""Employer accounts with a daily lookup quota (issue 12, point 8).

Revision ID: 0007_employer_accounts
Revises: 0006_status_reason
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_employer_accounts"
down_revision = "0006_status_reason"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "employer_accounts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("uscc", sa.String(length=18), nullable=False),
        sa.Column("daily_quota", sa.Integer(), nullable=False),
        sa.Column("token_id", sa.String(length=12), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_employer_accounts")),
        sa.UniqueConstraint("token_id", name=op.f("uq_employer_accounts_token_id")),
    )
    op.create_table(
        "employer_usage",
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("used", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["employer_accounts.id"],
            name=op.f("fk_employer_usage_account_id_employer_accounts"),
        ),
        sa.PrimaryKeyConstraint("account_id", "day", name=op.f("pk_employer_usage")),
    )


def downgrade() -> None:
    op.drop_table("employer_usage")
    op.drop_table("employer_accounts")
