"""Review on the day of issue: a scope that ended after submission refuses the row at review, and
status-list indices stay unique and free of database errors as a small list fills up."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from harness.records import institution_record
from test_registry_support import Api, roster_row, running_registry

CODE = "Y000011000001"


def _submit(api: Api, batch_id: str, rows: list[dict[str, Any]]) -> None:
    api.ok(
        "POST", "/api/v1/batches", CODE, json={"batch_id": batch_id, "institution_code": CODE, "rows": rows}
    )


def _approve_all(api: Api, batch_id: str) -> list[dict[str, Any]]:
    body = {"approve_all_valid": True}
    report: list[dict[str, Any]] = api.ok(
        "POST", f"/api/v1/batches/{batch_id}/review", "reviewer", json=body
    )["rows"]
    return report


def test_a_scope_ending_between_submission_and_review_refuses_the_row(
    database_url: str, tmp_path: Path
) -> None:
    """Submitted while the scope held (assessed inside it), reviewed the day after it ended: the
    certificate would be dated outside the scope, so review marks the row invalid and numbers nothing."""
    with running_registry(database_url, tmp_path) as api:
        record = institution_record(CODE)
        record["scopes"][0]["valid_until"] = "2026-06-20"  # the clock starts on 2026-06-15 in Beijing
        api.ok("POST", "/api/v1/institutions", "admin", json=record)
        api.tokens[CODE] = api.new_token("institution", CODE)
        _submit(api, "last-day", [roster_row(1)])
        _submit(api, "too-late", [roster_row(2)])
        api.clock.advance(days=5)  # 2026-06-20, the scope's last day
        [on_last_day] = _approve_all(api, "last-day")
        assert on_last_day["state"] == "approved"
        assert on_last_day["certificate"]["issue_date"] == "2026-06-20"
        api.clock.advance(days=1)  # 2026-06-21: the scope has ended
        [refused] = _approve_all(api, "too-late")
        assert refused["state"] == "invalid"
        assert [p["code"] for p in refused["problems"]] == ["out_of_scope_at_issue"]
        assert refused.get("certificate") is None
        batch = api.ok("GET", "/api/v1/batches/too-late", "reviewer")
        assert batch["state"] == "reviewed" and batch["rows"][0]["state"] == "invalid"


def test_a_nearly_full_status_list_never_hands_out_a_taken_index(database_url: str, tmp_path: Path) -> None:
    """A 16-entry list taking 15: each approval draws at random among ever fewer free indices, so a
    draw that ignored the taken ones would collide (a database error) almost surely by the end."""
    size, fill, count = 16, 15, 18
    with running_registry(database_url, tmp_path, status_list_size=size, status_list_fill=fill) as api:
        api.add_institution(CODE)
        _submit(api, "B", [roster_row(i) for i in range(1, count + 1)])
        allocated: list[tuple[int, int]] = []
        for row in range(1, count + 1):
            review = api.call(
                "POST",
                "/api/v1/batches/B/review",
                "reviewer",
                json={"decisions": [{"row": row, "approve": True}]},
            )
            assert review.status_code == 200, (row, review.status_code, review.text)
            status = review.json()["rows"][row - 1]["certificate"]["status"]
            allocated.append((status["list"], status["index"]))
        assert len(set(allocated)) == count
        assert all(0 <= index < size for _, index in allocated)
        assert [list_id for list_id, _ in allocated] == [0] * fill + [1] * (count - fill)
