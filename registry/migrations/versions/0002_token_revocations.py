"""Token revocations (append-only); roster photos are no longer stored.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "token_revocations",
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("revoked_at", sa.BigInteger(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["digest"], ["tokens.digest"], name=op.f("fk_token_revocations_digest_tokens")
        ),
        sa.PrimaryKeyConstraint("digest", name=op.f("pk_token_revocations")),
    )
    with op.batch_alter_table("rows", schema=None) as batch_op:
        batch_op.drop_column("photo")


def downgrade() -> None:
    with op.batch_alter_table("rows", schema=None) as batch_op:
        batch_op.add_column(sa.Column("photo", sa.Text(), nullable=True))
    op.drop_table("token_revocations")
