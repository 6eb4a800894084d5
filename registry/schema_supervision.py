"""Tables of supervision (on the shared MetaData): complaints with their handling steps and evidence,
the append-only credit file of each institution, quality supervision records and the per-institution
rule that a batch needs a supervision record before approval. Migration 0003 creates them.

Nothing is deleted or edited in place except a complaint's current ``state`` (its history is the
steps table). Contact details and evidence stay here, never in the audit log or a public answer.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Date, ForeignKey, Integer, LargeBinary, String, Table, Text

from registry.schema import metadata

complaints = Table(
    "complaints",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("tracking", String(16), nullable=False, unique=True),
    Column("secret_digest", String(64), nullable=False),
    Column("institution_code", String(13), ForeignKey("institutions.code"), nullable=False, index=True),
    Column("certificate_number", String(22), nullable=True),
    Column("category", String(32), nullable=False),
    Column("description", Text, nullable=False),
    Column("contact", Text, nullable=False),
    Column("state", String(16), nullable=False),
    Column("public_finding", Text, nullable=True),
    Column("filed_at", BigInteger, nullable=False),
)

complaint_steps = Table(
    "complaint_steps",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("complaint_id", Integer, ForeignKey("complaints.id"), nullable=False, index=True),
    Column("state", String(16), nullable=False),
    Column("reason", Text, nullable=False),
    Column("actor", String(80), nullable=False),
    Column("at", BigInteger, nullable=False),
)

complaint_evidence = Table(
    "complaint_evidence",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("complaint_id", Integer, ForeignKey("complaints.id"), nullable=False, index=True),
    Column("filename", Text, nullable=False),
    Column("media_type", String(32), nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("data", LargeBinary, nullable=False),
)

credit_events = Table(
    "credit_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("institution_code", String(13), ForeignKey("institutions.code"), nullable=False, index=True),
    Column("kind", String(24), nullable=False),
    Column("day", Date, nullable=False),
    Column("reason", Text, nullable=False),
    Column("reference", Text, nullable=False),
    Column("links", Text, nullable=False),  # JSON list of the credit event ids this one rests on
    Column("actor", String(80), nullable=False),
    Column("recorded", BigInteger, nullable=False),
)

supervision_records = Table(
    "supervision_records",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("institution_code", String(13), ForeignKey("institutions.code"), nullable=False, index=True),
    Column("batch_id", String(64), nullable=True),
    Column("day", Date, nullable=False),
    Column("site", Text, nullable=False),
    Column("findings", Text, nullable=False),
    Column("rating", String(16), nullable=False),
    Column("actor", String(80), nullable=False),
    Column("recorded", BigInteger, nullable=False),
)

# Append-only: the newest row for an institution is its current rule.
supervision_rules = Table(
    "supervision_rules",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("institution_code", String(13), ForeignKey("institutions.code"), nullable=False, index=True),
    Column("batch_needs_record", Integer, nullable=False),
    Column("actor", String(80), nullable=False),
    Column("recorded", BigInteger, nullable=False),
)
