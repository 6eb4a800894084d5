"""``skillpass registry review`` as a script would use it: list the queue, show a batch, reject and
approve rows as a console user (password on stdin), audited under that user's name; a wrong password
or a supervisor is refused and changes nothing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from test_registry_support import roster_row, running_registry

CODE = "Y000011000001"
SKILLPASS = str(Path(sys.executable).with_name("skillpass"))


def _run(data_dir: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    argv = [SKILLPASS, "registry", *args[:2], "--data-dir", str(data_dir), *args[2:]]
    return subprocess.run(
        argv, input=stdin, text=True, capture_output=True, check=False, env=dict(os.environ)
    )


def test_review_from_the_command_line(tmp_path: Path) -> None:
    with running_registry(f"sqlite:///{tmp_path / 'r.sqlite3'}", tmp_path) as api:
        data_dir = tmp_path / "registry"
        api.add_institution(CODE)
        rows = [roster_row(1), roster_row(2, holder_name="李四"), roster_row(3, holder_name="王五")]
        api.ok(
            "POST", "/api/v1/batches", CODE, json={"batch_id": "B-3", "institution_code": CODE, "rows": rows}
        )
        for user, role in (("wang.reviewer", "reviewer"), ("zhou.supervisor", "supervisor")):
            made = _run(
                data_dir,
                "admin",
                "create-user",
                "--username",
                user,
                "--role",
                role,
                stdin="a-long-password-1\n",
            )
            assert made.returncode == 0, made.stderr
        listed = _run(data_dir, "review", "list", "--json")
        assert listed.returncode == 0, listed.stderr
        assert [(b["batch_id"], b["pending"]) for b in json.loads(listed.stdout)] == [("B-3", 3)]
        shown = _run(data_dir, "review", "show", "B-3", "--json")
        assert [r["state"] for r in json.loads(shown.stdout)["rows"]] == ["pending"] * 3
        wrong = _run(
            data_dir,
            "review",
            "decide",
            "B-3",
            "--username",
            "wang.reviewer",
            "--approve-all",
            stdin="nope\n",
        )
        assert wrong.returncode == 1 and "sign_in_failed" in wrong.stderr
        supervisor = _run(
            data_dir,
            "review",
            "decide",
            "B-3",
            "--username",
            "zhou.supervisor",
            "--approve-all",
            stdin="a-long-password-1\n",
        )
        assert supervisor.returncode == 2 and "forbidden" in supervisor.stderr
        no_reason = _run(
            data_dir,
            "review",
            "decide",
            "B-3",
            "--username",
            "wang.reviewer",
            "--reject",
            "2",
            stdin="a-long-password-1\n",
        )
        assert no_reason.returncode == 2 and "invalid_request" in no_reason.stderr
        assert [r["state"] for r in api.ok("GET", "/api/v1/batches/B-3", "admin")["rows"]] == ["pending"] * 3
        rejected = _run(
            data_dir,
            "review",
            "decide",
            "B-3",
            "--username",
            "wang.reviewer",
            "--reject",
            "2",
            "--reason",
            "材料不全",
            stdin="a-long-password-1\n",
        )
        assert rejected.returncode == 0, rejected.stderr
        approved = _run(
            data_dir,
            "review",
            "decide",
            "B-3",
            "--username",
            "wang.reviewer",
            "--approve-all",
            "--json",
            stdin="a-long-password-1\n",
        )
        assert approved.returncode == 0, approved.stderr
        assert [r["state"] for r in json.loads(approved.stdout)["rows"]] == [
            "approved",
            "rejected",
            "approved",
        ]
        size = api.ok("GET", "/api/v1/audit/checkpoint")["size"]
        events = [
            json.loads(e["data"])
            for e in api.ok("GET", "/api/v1/audit/entries", params={"start": 0, "end": size})["entries"]
        ]
        assert [e["actor"] for e in events if e["action"] == "batch.review"] == ["console:wang.reviewer"] * 2
        assert _run(data_dir, "review", "list", "--json").stdout.strip() == "[]"
