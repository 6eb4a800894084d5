"""What one institution has issued: its certificates with their current status, newest number last.

One query serves the appraisal console's "发证情况" page and ``GET /api/v1/institutions/{code}/certificates``
(the institution console's list), so both show the same rows. The ID number is only ever masked.
"""

from __future__ import annotations

from typing import Any, Final

from sqlalchemy import Connection, Row, select

from credential.claims import MaskedId
from registry.batches import CERTIFIED_STATES
from registry.schema import batches, rows

LIST_LIMIT: Final = 500


def issued_rows(conn: Connection, code: str, limit: int = LIST_LIMIT) -> list[Row[Any]]:
    """The institution's approved and published rows (at most ``limit``), by certificate number."""
    return list(
        conn.execute(
            select(rows, batches.c.batch_id)
            .join(batches, batches.c.id == rows.c.batch_pk)
            .where(batches.c.institution_code == code, rows.c.state.in_(CERTIFIED_STATES))
            .order_by(rows.c.certificate_number)
            .limit(limit)
        ).all()
    )


def issued_json(row: Row[Any]) -> dict[str, Any]:
    """One certificate as the API lists it (the ID number masked)."""
    return {
        "certificate_number": row.certificate_number,
        "batch_id": row.batch_id,
        "row": row.row_no,
        "holder_name": row.holder_name,
        "id_number_masked": MaskedId(row.id_length, row.id_suffix).display(),
        "occupation_code": row.occupation_code,
        "occupation_name": row.occupation_name,
        "level": row.level,
        "issue_date": row.issue_date.isoformat() if row.issue_date else None,
        "state": row.state,
        "status": row.status,
    }
