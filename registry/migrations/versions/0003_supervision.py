"""Supervision: complaints (steps, evidence), credit file, quality supervision records and rules.

Revision ID: 0003_supervision
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_supervision"
down_revision = "0002"
branch_labels = None
depends_on = None


def _institution_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["institution_code"], ["institutions.code"], name=op.f(f"fk_{table}_institution_code_institutions")
    )


def _complaint_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["complaint_id"], ["complaints.id"], name=op.f(f"fk_{table}_complaint_id_complaints")
    )


def upgrade() -> None:
    op.create_table(
        "complaints",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("tracking", sa.String(length=16), nullable=False),
        sa.Column("secret_digest", sa.String(length=64), nullable=False),
        sa.Column("institution_code", sa.String(length=13), nullable=False),
        sa.Column("certificate_number", sa.String(length=22), nullable=True),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("contact", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("public_finding", sa.Text(), nullable=True),
        sa.Column("filed_at", sa.BigInteger(), nullable=False),
        _institution_fk("complaints"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_complaints")),
        sa.UniqueConstraint("tracking", name=op.f("uq_complaints_tracking")),
    )
    op.create_index(op.f("ix_complaints_institution_code"), "complaints", ["institution_code"])
    op.create_table(
        "complaint_steps",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("complaint_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("actor", sa.String(length=80), nullable=False),
        sa.Column("at", sa.BigInteger(), nullable=False),
        _complaint_fk("complaint_steps"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_complaint_steps")),
    )
    op.create_index(op.f("ix_complaint_steps_complaint_id"), "complaint_steps", ["complaint_id"])
    op.create_table(
        "complaint_evidence",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("complaint_id", sa.Integer(), nullable=False),
        sa.Column("filename", sa.Text(), nullable=False),
        sa.Column("media_type", sa.String(length=32), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        _complaint_fk("complaint_evidence"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_complaint_evidence")),
    )
    op.create_index(op.f("ix_complaint_evidence_complaint_id"), "complaint_evidence", ["complaint_id"])
    op.create_table(
        "credit_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("institution_code", sa.String(length=13), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("reference", sa.Text(), nullable=False),
        sa.Column("links", sa.Text(), nullable=False),
        sa.Column("actor", sa.String(length=80), nullable=False),
        sa.Column("recorded", sa.BigInteger(), nullable=False),
        _institution_fk("credit_events"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credit_events")),
    )
    op.create_index(op.f("ix_credit_events_institution_code"), "credit_events", ["institution_code"])
    op.create_table(
        "supervision_records",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("institution_code", sa.String(length=13), nullable=False),
        sa.Column("batch_id", sa.String(length=64), nullable=True),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("site", sa.Text(), nullable=False),
        sa.Column("findings", sa.Text(), nullable=False),
        sa.Column("rating", sa.String(length=16), nullable=False),
        sa.Column("actor", sa.String(length=80), nullable=False),
        sa.Column("recorded", sa.BigInteger(), nullable=False),
        _institution_fk("supervision_records"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_supervision_records")),
    )
    op.create_index(
        op.f("ix_supervision_records_institution_code"), "supervision_records", ["institution_code"]
    )
    op.create_table(
        "supervision_rules",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("institution_code", sa.String(length=13), nullable=False),
        sa.Column("batch_needs_record", sa.Integer(), nullable=False),
        sa.Column("actor", sa.String(length=80), nullable=False),
        sa.Column("recorded", sa.BigInteger(), nullable=False),
        _institution_fk("supervision_rules"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_supervision_rules")),
    )
    op.create_index(op.f("ix_supervision_rules_institution_code"), "supervision_rules", ["institution_code"])


def downgrade() -> None:
    for table in (
        "supervision_rules",
        "supervision_records",
        "credit_events",
        "complaint_evidence",
        "complaint_steps",
        "complaints",
    ):
        op.drop_table(table)
