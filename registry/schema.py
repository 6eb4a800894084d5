"""The registry's tables (SQLAlchemy Core). Alembic migrations in ``migrations/`` create them.

Nothing is ever deleted: status history, scopes and keys are appended or dated, rows change state.
Personal data: ID numbers only as keyed digests (``id_digest``) and their masked form.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

counters = Table(
    "counters",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("value", BigInteger, nullable=False),
)

serials = Table(
    "serials",
    metadata,
    Column("institution_code", String(13), primary_key=True),
    Column("year2", Integer, primary_key=True),
    Column("level", Integer, primary_key=True),
    Column("value", Integer, nullable=False),
)

institutions = Table(
    "institutions",
    metadata,
    Column("code", String(13), primary_key=True),
    Column("name", Text, nullable=False),
    Column("uscc", String(18), nullable=False),
    Column("category", String(1), nullable=False),
    Column("national_code", String(4), nullable=False),
    Column("province", String(2), nullable=False),
    Column("site", String(6), nullable=False),
    Column("created_at", BigInteger, nullable=False),
)

institution_statuses = Table(
    "institution_statuses",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("institution_code", String(13), ForeignKey("institutions.code"), nullable=False, index=True),
    Column("status", String(16), nullable=False),
    Column("effective", Date, nullable=False),
    Column("recorded", BigInteger, nullable=False),
    Column("reason", Text, nullable=False),
)

scopes = Table(
    "scopes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("institution_code", String(13), ForeignKey("institutions.code"), nullable=False, index=True),
    Column("occupation_code", String(10), nullable=False),
    Column("occupation_name", Text, nullable=False),
    Column("levels", Text, nullable=False),
    Column("work_types", Text, nullable=False),
    Column("valid_from", Date, nullable=False),
    Column("valid_until", Date, nullable=True),
    Column("recorded", BigInteger, nullable=False),
)

institution_keys = Table(
    "institution_keys",
    metadata,
    Column("kid", String(16), primary_key=True),
    Column("institution_code", String(13), ForeignKey("institutions.code"), nullable=False, index=True),
    Column("public_key", String(64), nullable=False, unique=True),
    Column("valid_from", Date, nullable=False),
    Column("valid_until", Date, nullable=True),
    Column("retired", Date, nullable=True),
    Column("revoked", Date, nullable=True),
    Column("revoke_reason", Text, nullable=False, default=""),
    Column("recorded", BigInteger, nullable=False),
)

tokens = Table(
    "tokens",
    metadata,
    Column("digest", String(64), primary_key=True),
    Column("role", String(16), nullable=False),
    Column("institution_code", String(13), ForeignKey("institutions.code"), nullable=True),
    Column("created_at", BigInteger, nullable=False),
    Column("expires_at", BigInteger, nullable=True),
)

# A revoked token stays in ``tokens``; its revocation is a row here (never deleted).
token_revocations = Table(
    "token_revocations",
    metadata,
    Column("digest", String(64), ForeignKey("tokens.digest"), primary_key=True),
    Column("revoked_at", BigInteger, nullable=False),
    Column("reason", Text, nullable=False),
)

batches = Table(
    "batches",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("institution_code", String(13), ForeignKey("institutions.code"), nullable=False),
    Column("batch_id", String(64), nullable=False, index=True),
    Column("body_sha256", String(64), nullable=False),
    Column("state", String(16), nullable=False),
    Column("submitted_at", BigInteger, nullable=False),
    UniqueConstraint("institution_code", "batch_id"),
)

# One row of a batch; once approved it is a certificate (number, issue date, status reference).
rows = Table(
    "rows",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("batch_pk", Integer, ForeignKey("batches.id"), nullable=False),
    Column("row_no", Integer, nullable=False),
    Column("state", String(16), nullable=False),
    Column("problems", Text, nullable=False),
    Column("reason", Text, nullable=True),
    Column("holder_name", Text, nullable=False),
    Column("id_type", Text, nullable=False),
    Column("id_digest", String(64), nullable=False),
    Column("id_length", Integer, nullable=False),
    Column("id_suffix", String(8), nullable=False),
    Column("occupation_code", String(10), nullable=False),
    Column("occupation_name", Text, nullable=False),
    Column("work_type", Text, nullable=False),
    Column("level", Integer, nullable=False),
    Column("assessment_date", Date, nullable=True),
    Column("certificate_number", String(22), nullable=True, unique=True),
    Column("issue_date", Date, nullable=True),
    Column("status_list", Integer, nullable=True),
    Column("status_index", Integer, nullable=True),
    Column("status", String(16), nullable=False),
    Column("status_reason", Text, nullable=True),  # the institution's free text: never published
    Column("status_category", String(32), nullable=True),  # schemas.vocabulary.STATUS_REASON_CATEGORIES
    Column("status_date", Date, nullable=True),  # the registry's day the current status took effect
    Column("credential", LargeBinary, nullable=True),
    Column("credential_sha256", String(64), nullable=True),
    Column("published_at", BigInteger, nullable=True),
    UniqueConstraint("batch_pk", "row_no"),
    UniqueConstraint("status_list", "status_index"),
    Index("ix_rows_holder", "id_digest", "occupation_code", "level"),
)

status_lists = Table(
    "status_lists",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("allocated", Integer, nullable=False),
    Column("version", BigInteger, nullable=False),
)

# Every index ever handed out, so that none is reused even if a row were to change.
status_allocations = Table(
    "status_allocations",
    metadata,
    Column("list_id", Integer, primary_key=True, autoincrement=False),
    Column("idx", Integer, primary_key=True, autoincrement=False),
)

audit_events = Table(
    "audit_events",
    metadata,
    Column("idx", BigInteger, primary_key=True, autoincrement=False),
    Column("data", LargeBinary, nullable=False),
    Column("leaf_hash", LargeBinary, nullable=False),
)

audit_checkpoints = Table(
    "audit_checkpoints",
    metadata,
    Column("size", BigInteger, primary_key=True, autoincrement=False),
    Column("root", LargeBinary, nullable=False),
    Column("time", BigInteger, nullable=False),
    Column("signature", LargeBinary, nullable=False),
)
