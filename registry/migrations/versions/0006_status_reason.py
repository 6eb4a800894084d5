"""Certificate status carries a reason category and the day it took effect (issue 12); each recorded
status change (certificate_status_changes) names its category beside its authority.

Revision ID: 0006_status_reason
Revises: 0005_status_authority
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_status_reason"
down_revision = "0005_status_authority"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("rows", schema=None) as batch_op:
        batch_op.add_column(sa.Column("status_category", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("status_date", sa.Date(), nullable=True))
    with op.batch_alter_table("certificate_status_changes", schema=None) as batch_op:
        batch_op.add_column(sa.Column("category", sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("certificate_status_changes", schema=None) as batch_op:
        batch_op.drop_column("category")
    with op.batch_alter_table("rows", schema=None) as batch_op:
        batch_op.drop_column("status_date")
        batch_op.drop_column("status_category")
