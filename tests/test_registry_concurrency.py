"""Concurrent approvals through two registry replicas on one database (real threads, real HTTP):
certificate numbers and status indices are never duplicated, serials have no gaps.

All eight reviews run under one reviewer token, so the per-token bound on heavy writes in flight
(429 ``too_busy``, tested in test_registry_write_lock.py) is raised to let them all race."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

from harness.servers import serve_app
from test_registry_support import Api, roster_row, running_registry

from registry.app import create_app

CODE = "Y000011000001"
BATCHES, ROWS = 8, 15


def test_concurrent_approvals_never_duplicate(database_url: str, tmp_path: Path) -> None:
    with running_registry(database_url, tmp_path, max_in_flight_per_token=BATCHES) as api:
        api.add_institution(CODE)
        for b in range(BATCHES):
            rows = [roster_row(b * 100 + i, level=3 + (i % 2)) for i in range(ROWS)]
            api.ok(
                "POST",
                "/api/v1/batches",
                CODE,
                json={"batch_id": f"B{b}", "institution_code": CODE, "rows": rows},
            )
        assert api.settings is not None
        second_app = create_app(replace(api.settings))
        try:
            with serve_app(second_app) as second_url:
                replicas = [api, Api(second_url, api.clock, api.data_dir, api.tokens)]

                def approve(b: int) -> dict[str, object]:
                    replica = replicas[b % 2]
                    return replica.ok(  # type: ignore[no-any-return]
                        "POST", f"/api/v1/batches/B{b}/review", "reviewer", json={"approve_all_valid": True}
                    )

                with ThreadPoolExecutor(BATCHES) as pool:
                    reports = list(pool.map(approve, range(BATCHES)))
        finally:
            second_app.state.registry.db.dispose()
        certificates = [r["certificate"] for report in reports for r in report["rows"]]  # type: ignore[attr-defined]
        assert len(certificates) == BATCHES * ROWS
        numbers = [c["certificate_number"] for c in certificates]
        assert len(set(numbers)) == len(numbers)
        for level in (3, 4):
            serials = sorted(int(n[-6:]) for n in numbers if n[15] == str(level))
            assert serials == list(range(1, len(serials) + 1))
        references = {(c["status"]["list"], c["status"]["index"]) for c in certificates}
        assert len(references) == len(certificates)
