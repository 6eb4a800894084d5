"""Initial schema: directory, tokens, batches and certificates, status lists, audit log.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audit_checkpoints",
        sa.Column("size", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("root", sa.LargeBinary(), nullable=False),
        sa.Column("time", sa.BigInteger(), nullable=False),
        sa.Column("signature", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("size", name=op.f("pk_audit_checkpoints")),
    )
    op.create_table(
        "audit_events",
        sa.Column("idx", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("leaf_hash", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("idx", name=op.f("pk_audit_events")),
    )
    op.create_table(
        "counters",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_counters")),
    )
    op.create_table(
        "institutions",
        sa.Column("code", sa.String(length=13), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("uscc", sa.String(length=18), nullable=False),
        sa.Column("category", sa.String(length=1), nullable=False),
        sa.Column("national_code", sa.String(length=4), nullable=False),
        sa.Column("province", sa.String(length=2), nullable=False),
        sa.Column("site", sa.String(length=6), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_institutions")),
    )
    op.create_table(
        "serials",
        sa.Column("institution_code", sa.String(length=13), nullable=False),
        sa.Column("year2", sa.Integer(), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("value", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("institution_code", "year2", "level", name=op.f("pk_serials")),
    )
    op.create_table(
        "status_allocations",
        sa.Column("list_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("idx", sa.Integer(), autoincrement=False, nullable=False),
        sa.PrimaryKeyConstraint("list_id", "idx", name=op.f("pk_status_allocations")),
    )
    op.create_table(
        "status_lists",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("allocated", sa.Integer(), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_status_lists")),
    )
    op.create_table(
        "batches",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("institution_code", sa.String(length=13), nullable=False),
        sa.Column("batch_id", sa.String(length=64), nullable=False),
        sa.Column("body_sha256", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("submitted_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["institution_code"], ["institutions.code"], name=op.f("fk_batches_institution_code_institutions")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_batches")),
        sa.UniqueConstraint("institution_code", "batch_id", name=op.f("uq_batches_institution_code")),
    )
    with op.batch_alter_table("batches", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_batches_batch_id"), ["batch_id"], unique=False)

    op.create_table(
        "institution_keys",
        sa.Column("kid", sa.String(length=16), nullable=False),
        sa.Column("institution_code", sa.String(length=13), nullable=False),
        sa.Column("public_key", sa.String(length=64), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=True),
        sa.Column("retired", sa.Date(), nullable=True),
        sa.Column("revoked", sa.Date(), nullable=True),
        sa.Column("revoke_reason", sa.Text(), nullable=False),
        sa.Column("recorded", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["institution_code"],
            ["institutions.code"],
            name=op.f("fk_institution_keys_institution_code_institutions"),
        ),
        sa.PrimaryKeyConstraint("kid", name=op.f("pk_institution_keys")),
        sa.UniqueConstraint("public_key", name=op.f("uq_institution_keys_public_key")),
    )
    with op.batch_alter_table("institution_keys", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_institution_keys_institution_code"), ["institution_code"], unique=False
        )

    op.create_table(
        "institution_statuses",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("institution_code", sa.String(length=13), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("effective", sa.Date(), nullable=False),
        sa.Column("recorded", sa.BigInteger(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["institution_code"],
            ["institutions.code"],
            name=op.f("fk_institution_statuses_institution_code_institutions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_institution_statuses")),
    )
    with op.batch_alter_table("institution_statuses", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_institution_statuses_institution_code"), ["institution_code"], unique=False
        )

    op.create_table(
        "scopes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("institution_code", sa.String(length=13), nullable=False),
        sa.Column("occupation_code", sa.String(length=10), nullable=False),
        sa.Column("occupation_name", sa.Text(), nullable=False),
        sa.Column("levels", sa.Text(), nullable=False),
        sa.Column("work_types", sa.Text(), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=True),
        sa.Column("recorded", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["institution_code"], ["institutions.code"], name=op.f("fk_scopes_institution_code_institutions")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scopes")),
    )
    with op.batch_alter_table("scopes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_scopes_institution_code"), ["institution_code"], unique=False)

    op.create_table(
        "tokens",
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("institution_code", sa.String(length=13), nullable=True),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("expires_at", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["institution_code"], ["institutions.code"], name=op.f("fk_tokens_institution_code_institutions")
        ),
        sa.PrimaryKeyConstraint("digest", name=op.f("pk_tokens")),
    )
    op.create_table(
        "rows",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("batch_pk", sa.Integer(), nullable=False),
        sa.Column("row_no", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("problems", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("holder_name", sa.Text(), nullable=False),
        sa.Column("id_type", sa.Text(), nullable=False),
        sa.Column("id_digest", sa.String(length=64), nullable=False),
        sa.Column("id_length", sa.Integer(), nullable=False),
        sa.Column("id_suffix", sa.String(length=8), nullable=False),
        sa.Column("occupation_code", sa.String(length=10), nullable=False),
        sa.Column("occupation_name", sa.Text(), nullable=False),
        sa.Column("work_type", sa.Text(), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("assessment_date", sa.Date(), nullable=True),
        sa.Column("photo", sa.Text(), nullable=True),
        sa.Column("certificate_number", sa.String(length=22), nullable=True),
        sa.Column("issue_date", sa.Date(), nullable=True),
        sa.Column("status_list", sa.Integer(), nullable=True),
        sa.Column("status_index", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("status_reason", sa.Text(), nullable=True),
        sa.Column("credential", sa.LargeBinary(), nullable=True),
        sa.Column("credential_sha256", sa.String(length=64), nullable=True),
        sa.Column("published_at", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(["batch_pk"], ["batches.id"], name=op.f("fk_rows_batch_pk_batches")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rows")),
        sa.UniqueConstraint("batch_pk", "row_no", name=op.f("uq_rows_batch_pk")),
        sa.UniqueConstraint("certificate_number", name=op.f("uq_rows_certificate_number")),
        sa.UniqueConstraint("status_list", "status_index", name=op.f("uq_rows_status_list")),
    )
    with op.batch_alter_table("rows", schema=None) as batch_op:
        batch_op.create_index("ix_rows_holder", ["id_digest", "occupation_code", "level"], unique=False)
    counters = sa.table("counters", sa.column("name", sa.String), sa.column("value", sa.BigInteger))
    op.bulk_insert(counters, [{"name": "audit_size", "value": 0}, {"name": "directory_seq", "value": 0}])


def downgrade() -> None:
    with op.batch_alter_table("rows", schema=None) as batch_op:
        batch_op.drop_index("ix_rows_holder")

    op.drop_table("rows")
    op.drop_table("tokens")
    with op.batch_alter_table("scopes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_scopes_institution_code"))

    op.drop_table("scopes")
    with op.batch_alter_table("institution_statuses", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_institution_statuses_institution_code"))

    op.drop_table("institution_statuses")
    with op.batch_alter_table("institution_keys", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_institution_keys_institution_code"))

    op.drop_table("institution_keys")
    with op.batch_alter_table("batches", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_batches_batch_id"))

    op.drop_table("batches")
    op.drop_table("status_lists")
    op.drop_table("status_allocations")
    op.drop_table("serials")
    op.drop_table("institutions")
    op.drop_table("counters")
    op.drop_table("audit_events")
    op.drop_table("audit_checkpoints")
