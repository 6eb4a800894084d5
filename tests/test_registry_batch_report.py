"""The batch report built from plain tuples (registry.batch_report) is, member for member and in the
same order, the report built row by row through ``CertificateClaims`` (``batches.certificate_json``,
which the single-certificate answers keep using), for every kind of row a report shows."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlalchemy import select
from test_registry_support import roster_row, running_registry

from registry.batches import certificate_json, find_batch
from registry.db import Database
from registry.schema import institutions, rows
from registry.tokens import ADMIN, Principal

CODE = "Y000011000001"


def _reference(database_url: str, batch_id: str) -> dict[str, Any]:
    """The report as built before the tuple path: every column read, claims built per row."""
    db = Database(database_url)
    try:
        with db.read() as conn:
            batch = find_batch(conn, batch_id, Principal(ADMIN, None, "test"), CODE)
            name = conn.execute(select(institutions.c.name).where(institutions.c.code == CODE)).scalar_one()
            found = conn.execute(rows.select().where(rows.c.batch_pk == batch.id).order_by(rows.c.row_no))
            report = []
            for row in found:
                problems = json.loads(row.problems)
                item: dict[str, Any] = {"row": row.row_no, "state": row.state, "problems": problems}
                if row.reason is not None:
                    item["reason"] = row.reason
                if row.certificate_number is not None:
                    item["certificate"] = certificate_json(row, CODE, name)
                    item["certificate_status"] = row.status
                report.append(item)
            return {
                "batch_id": batch.batch_id,
                "institution_code": CODE,
                "state": batch.state,
                "submitted_at": batch.submitted_at,
                "rows": report,
            }
    finally:
        db.dispose()


def _ordered(value: Any) -> Any:
    """A JSON value with every object as a list of pairs, so that member order is compared too."""
    if isinstance(value, dict):
        return [(k, _ordered(v)) for k, v in value.items()]
    if isinstance(value, list):
        return [_ordered(v) for v in value]
    return value


def test_the_report_is_the_one_built_through_the_claims(database_url: str, tmp_path: Path) -> None:
    """Approved (two levels, so two issue-number ranges), rejected with a reason, invalid by the
    schema, by scope, as a duplicate in the batch and as a non-object; then one certificate revoked."""
    with running_registry(database_url, tmp_path) as api:
        api.add_institution(CODE)
        submitted = [
            roster_row(1),
            roster_row(2, level=4),
            roster_row(3),
            roster_row(4, holder_name=""),
            roster_row(5, occupation_name="焊工"),
            roster_row(1),
            "not a row",
            roster_row(6, level=5, work_type="--"),
        ]
        body = {"batch_id": "R", "institution_code": CODE, "rows": submitted}
        _compare(database_url, api.ok("POST", "/api/v1/batches", CODE, json=body))
        decisions = [
            {"row": 1, "approve": True},
            {"row": 2, "approve": True},
            {"row": 3, "approve": False, "reason": "评价记录不全 / incomplete record"},
            {"row": 8, "approve": True},
        ]
        review = {"decisions": decisions}
        _compare(database_url, api.ok("POST", "/api/v1/batches/R/review", "reviewer", json=review))
        number = api.ok("GET", "/api/v1/batches/R", CODE)["rows"][0]["certificate"]["certificate_number"]
        change = {"action": "revoke", "reason": "错误 / wrong", "category": "issued_in_error"}
        api.ok("POST", f"/api/v1/certificates/{number}/status", CODE, json=change)
        _compare(database_url, api.ok("GET", "/api/v1/batches/R", CODE))


def _compare(database_url: str, answer: dict[str, Any]) -> None:
    assert _ordered(answer) == _ordered(_reference(database_url, "R"))
