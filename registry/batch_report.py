"""The batch report: every row's state, problems, decision and certificate.

An issuance of 10,000 rows reads its report three times (the answers to submission and to review, then
the issuer taking the decisions), so the report is built from plain tuples of only the columns it shows:
no ``CertificateClaims`` per row (``batches.certificate_json``, kept for the single-certificate answers,
builds the same document through it), no stored credential read, the institution's name read once and
each issue day formatted once. ``tests/test_registry_batch_report.py`` holds the two to the same JSON.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date
from typing import Any, Final

from sqlalchemy import Connection, Row, select

from credential import MaskedId
from registry.schema import institutions, rows
from schemas.vocabulary import LEVEL_NAMES

# The columns the report shows, in the order ``_row_json`` unpacks them.
_COLUMNS: Final = (
    rows.c.row_no,
    rows.c.state,
    rows.c.problems,
    rows.c.reason,
    rows.c.certificate_number,
    rows.c.status,
    rows.c.holder_name,
    rows.c.id_type,
    rows.c.id_length,
    rows.c.id_suffix,
    rows.c.occupation_code,
    rows.c.level,
    rows.c.work_type,
    rows.c.issue_date,
    rows.c.status_list,
    rows.c.status_index,
    rows.c.occupation_name,
)


def batch_json(conn: Connection, batch: Row[Any]) -> dict[str, Any]:
    """The batch report: every row's state, problems, decision and certificate."""
    code = batch.institution_code
    name = conn.execute(select(institutions.c.name).where(institutions.c.code == code)).scalar_one()
    query = select(*_COLUMNS).where(rows.c.batch_pk == batch.id).order_by(rows.c.row_no)
    found = conn.execute(query).all()  # fetched at once: iterating would fetch row by row
    report = _Report(code, name)
    return {
        "batch_id": batch.batch_id,
        "institution_code": code,
        "state": batch.state,
        "submitted_at": batch.submitted_at,
        "rows": [report.row_json(row) for row in found],
    }


class _Report:
    """What every row of one report shares: the institution, and the ISO form of each issue day."""

    def __init__(self, institution_code: str, institution_name: str) -> None:
        self.institution_code = institution_code
        self.institution_name = institution_name
        self.days: dict[date, str] = {}

    def row_json(self, row: Sequence[Any]) -> dict[str, Any]:
        """One row of the report (the same members, in the same order, as ``batches.certificate_json``)."""
        row_no, state, problems, reason, number, status = row[:6]
        item: dict[str, Any] = {"row": row_no, "state": state, "problems": stored_problems(problems)}
        if reason is not None:
            item["reason"] = reason
        if number is not None:
            item["certificate"] = self.certificate(number, row)
            item["certificate_status"] = status
        return item

    def certificate(self, number: str, row: Sequence[Any]) -> dict[str, Any]:
        """``batches.certificate_json`` of an approved row, without building its claims."""
        (holder_name, id_type, id_length, id_suffix, occupation_code, level, work_type, issue_date,
         status_list, status_index, occupation_name) = row[6:]  # fmt: skip
        day = self.days.get(issue_date)
        if day is None:
            day = self.days[issue_date] = issue_date.isoformat()
        return {
            "certificate_number": number,
            "holder_name": holder_name,
            "id_type": id_type,
            "id_number_masked": MaskedId(id_length, id_suffix).display(),
            "occupation_code": occupation_code,
            "level": level,
            "level_name": LEVEL_NAMES[level],
            "work_type": work_type,
            "issue_date": day,
            "status": {"list": status_list, "index": status_index},
            "occupation_name": occupation_name,
            "institution_code": self.institution_code,
            "institution_name": self.institution_name,
        }


def stored_problems(stored: str) -> list[Any]:
    """A row's stored findings; most rows have none, so "[]" is not parsed each time."""
    return [] if stored == "[]" else list(json.loads(stored))
