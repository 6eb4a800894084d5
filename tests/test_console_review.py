"""The appraisal console over real HTTP on SQLite and PostgreSQL: signing in, the review queue with
each row's checks, per-row decisions with a reason and "approve all valid", numbers allocated on
approval, every decision in the audit log under the reviewer's name, and the password change."""

from __future__ import annotations

import json
from pathlib import Path

from console_support import PASSWORDS, Console, add_staff
from test_registry_support import Api, roster_row, running_registry

CODE = "Y000011000001"


def _submit(api: Api, batch_id: str) -> None:
    rows = [
        roster_row(1),
        roster_row(2, holder_name="李四"),
        roster_row(3, level=9),
        roster_row(4, holder_name="王五"),
    ]
    api.ok(
        "POST", "/api/v1/batches", CODE, json={"batch_id": batch_id, "institution_code": CODE, "rows": rows}
    )


def _audit(api: Api) -> list[dict[str, object]]:
    size = api.ok("GET", "/api/v1/audit/checkpoint")["size"]
    entries = api.ok("GET", "/api/v1/audit/entries", params={"start": 0, "end": size})["entries"]
    return [json.loads(e["data"]) for e in entries]


def _batch_pk(console: Console, batch_id: str) -> str:
    page = console.get("/console/review").text
    marker = page.index(f">{batch_id}</a>")
    start = page.rindex('href="/console/review/', 0, marker) + len('href="/console/review/')
    return page[start : page.index('"', start)]


def test_reviewer_reviews_a_batch_row_by_row(database_url: str, tmp_path: Path) -> None:
    with running_registry(database_url, tmp_path) as api:
        api.add_institution(CODE)
        _submit(api, "B-1")
        add_staff(api, "wang.reviewer", "reviewer")
        console = Console(api)
        assert console.sign_in("wang.reviewer", PASSWORDS["reviewer"]).status_code == 303
        queue = console.get("/console/review")
        assert queue.status_code == 200 and "B-1" in queue.text and "中国国家铁路集团有限公司" in queue.text
        pk = _batch_pk(console, "B-1")
        batch = console.get(f"/console/review/{pk}").text
        assert "校验未通过" in batch and "/level" in batch  # row 3's level 9 is shown as a failed check
        assert "张三丰" in batch and "110105" not in batch  # ID numbers only masked
        refused = console.post(f"/console/review/{pk}/rows/2", {"decision": "reject", "reason": " "})
        assert refused.status_code == 422 and "原因" not in refused.headers.get("location", "")
        assert console.post(f"/console/review/{pk}/rows/1", {"decision": "approve"}).status_code == 303
        assert (
            console.post(
                f"/console/review/{pk}/rows/2", {"decision": "reject", "reason": "照片不清晰"}
            ).status_code
            == 303
        )
        again = console.post(f"/console/review/{pk}/rows/2", {"decision": "approve"})
        assert again.status_code == 409 and "该行不是待审核状态" in again.text
        assert console.post(f"/console/review/{pk}/approve-all").status_code == 303
        report = api.ok("GET", "/api/v1/batches/B-1", "admin")
        states = {r["row"]: r["state"] for r in report["rows"]}
        assert states == {1: "approved", 2: "rejected", 3: "invalid", 4: "approved"}
        assert report["state"] == "reviewed"
        numbers = [r["certificate"]["certificate_number"] for r in report["rows"] if r["state"] == "approved"]
        assert len(numbers) == 2 and all(n.startswith(CODE + "26") for n in numbers)
        assert all(n in console.get(f"/console/review/{pk}").text for n in numbers)
        reviews = [e for e in _audit(api) if e["action"] == "batch.review"]
        assert [e["actor"] for e in reviews] == ["console:wang.reviewer"] * 3
        assert "照片不清晰" not in json.dumps(_audit(api), ensure_ascii=False)
        assert "B-1" not in console.get("/console/review").text  # reviewed batches leave the queue
        console.close()


def test_sign_in_is_audited_and_a_wrong_password_is_refused(database_url: str, tmp_path: Path) -> None:
    with running_registry(database_url, tmp_path) as api:
        add_staff(api, "li.admin", "admin")
        console = Console(api)
        wrong = console.sign_in("li.admin", "not-the-password")
        assert wrong.status_code == 401 and "用户名或密码不正确" in wrong.text
        unknown = console.sign_in("nobody", "not-the-password")
        assert unknown.status_code == 401 and unknown.text.count("用户名或密码不正确") == wrong.text.count(
            "用户名或密码不正确"
        )
        assert console.get("/console/").status_code == 303
        assert console.sign_in("li.admin", PASSWORDS["admin"]).status_code == 303
        assert "li.admin" in console.get("/console/").text
        actions = [
            (e["action"], e["subject"]) for e in _audit(api) if str(e["action"]).startswith("console.sign")
        ]
        assert actions == [("console.sign_in_failed", "li.admin"), ("console.sign_in", "li.admin")]
        assert console.post("/console/logout").status_code == 303
        assert console.get("/console/").status_code == 303
        console.close()


def test_password_change_ends_other_sessions(database_url: str, tmp_path: Path) -> None:
    with running_registry(database_url, tmp_path) as api:
        add_staff(api, "zhao.reviewer", "reviewer")
        first, second = Console(api), Console(api)
        assert first.sign_in("zhao.reviewer", PASSWORDS["reviewer"]).status_code == 303
        assert second.sign_in("zhao.reviewer", PASSWORDS["reviewer"]).status_code == 303
        new = "a-brand-new-password"
        mismatch = first.post(
            "/console/password", {"current": PASSWORDS["reviewer"], "new": new, "repeat": new + "x"}
        )
        assert mismatch.status_code == 422
        short = first.post(
            "/console/password", {"current": PASSWORDS["reviewer"], "new": "short", "repeat": "short"}
        )
        assert short.status_code == 422
        wrong = first.post("/console/password", {"current": "wrong-current-pw", "new": new, "repeat": new})
        assert wrong.status_code == 403
        done = first.post("/console/password", {"current": PASSWORDS["reviewer"], "new": new, "repeat": new})
        assert done.status_code == 303
        assert first.get("/console/").status_code == 200
        assert second.get("/console/").status_code == 303  # the other session ended
        third = Console(api)
        assert third.sign_in("zhao.reviewer", PASSWORDS["reviewer"]).status_code == 401
        assert third.sign_in("zhao.reviewer", new).status_code == 303
        assert any(
            e["action"] == "console.password_change" and e["actor"] == "console:zhao.reviewer"
            for e in _audit(api)
        )
        for c in (first, second, third):
            c.close()
