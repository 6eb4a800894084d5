"""``skillpass registry admin create-employer`` and ``skillpass lookup``: a hiring list of numbers
and names, without QR codes, looked up under an employer account (issue 12, point 8)."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

from harness.records import uscc
from openpyxl import Workbook, load_workbook
from test_registry_employers import MISSING, _published
from test_registry_support import running_registry

SKILLPASS = str(Path(sys.executable).parent / "skillpass")


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([SKILLPASS, *args], capture_output=True, text=True, timeout=120, check=False)


def _write_csv(path: Path, rows: list[tuple[str, str]]) -> Path:
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["序号", "证书编号", "姓名"])
        writer.writerows([(i, number, name) for i, (number, name) in enumerate(rows, start=1)])
    return path


def test_a_list_is_looked_up_under_an_employer_account(tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path / 'registry.sqlite3'}"
    with running_registry(database, tmp_path) as api:
        numbers = _published(api)
        credentials = tmp_path / "employer.json"
        made = _run("registry", "admin", "create-employer", "--data-dir", str(api.data_dir), "--database-url",
                    database, "--name", "甲公司", "--uscc", uscc(1), "--daily-quota", "6", "--public-url", api.url,
                    "--out", str(credentials))  # fmt: skip
        assert made.returncode == 0, made.stderr
        assert credentials.stat().st_mode & 0o777 == 0o600
        assert json.loads(credentials.read_text())["registry"] == api.url
        rows = [(numbers[0], "张三丰"), (numbers[1], "张三丰"), (numbers[2], "张三丰"), (MISSING, "李四")]
        listed = _write_csv(tmp_path / "hiring.csv", rows)
        report = tmp_path / "report.xlsx"
        answer = _run("lookup", str(listed), "--credentials", str(credentials), "--report", str(report))
        assert answer.returncode == 8, answer.stderr
        assert "有效 / Valid [valid]" in answer.stdout and "已撤销 / Revoked [revoked]" in answer.stdout
        assert (
            "原因类别：发现舞弊或造假" in answer.stdout and "未查到 / Not found [not_found]" in answer.stdout
        )
        sheet = load_workbook(report).active
        cells = [[str(c or "") for c in row] for row in sheet.iter_rows(values_only=True)]
        assert len(cells) == 5
        assert [row[1] for row in cells[1:]] == [
            "有效 Valid",
            "已撤销 Revoked",
            "已暂停 Suspended",
            "未查到 Not found",
        ]
        assert [row[3] for row in cells[1:]] == [n for n, _ in rows]
        assert all(row[5] for row in cells[1:4])  # the institution's name
        valid_only = _write_csv(tmp_path / "one.csv", [(numbers[0], "张三丰")])
        assert _run("lookup", str(valid_only), "--credentials", str(credentials)).returncode == 0
        over = _run("lookup", str(listed), "--credentials", str(credentials))  # 4 asked, 1 left
        assert over.returncode == 3 and "quota_exceeded" in over.stderr
        assert (
            api.ok("GET", "/api/v1/employers/me", json.loads(credentials.read_text())["token"])["used_today"]
            == 5
        )


def test_bad_lists_and_credentials_are_usage_errors(tmp_path: Path) -> None:
    book = Workbook()
    book.active.append(["编号", "名字"])
    book.active.append(["Y000011000001263000001", "张三丰"])
    wrong_columns = tmp_path / "wrong.xlsx"
    book.save(wrong_columns)
    credentials = tmp_path / "employer.json"
    credentials.write_text('{"registry": "http://127.0.0.1:9", "token": "skp_x"}')
    good = _write_csv(tmp_path / "good.csv", [("Y000011000001263000001", "张三丰")])
    cases = [
        (
            _run("lookup", str(tmp_path / "missing.csv"), "--credentials", str(credentials)),
            2,
            "list_unreadable",
        ),
        (_run("lookup", str(wrong_columns), "--credentials", str(credentials)), 2, "list_columns"),
        (_run("lookup", str(good), "--credentials", str(tmp_path / "none.json")), 2, "credentials_invalid"),
        (_run("lookup", str(good), "--credentials", str(credentials)), 3, "registry_unreachable"),
    ]
    for answer, code, error in cases:
        assert (answer.returncode, error in answer.stderr) == (code, True), answer.stderr
