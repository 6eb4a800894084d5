"""Row validation: schema issues at the office's column, scope at the assessment date, duplicates, glyphs the
print font lacks, photos, and the report the office opens in Excel."""

from __future__ import annotations

import csv
import datetime as dt
import importlib.util
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from credential.directory import Scope
from issuer.fonts import font_has_glyphs
from issuer.report import REPORT_HEADER, format_report, write_report_csv
from issuer.roster import RosterRow, read_roster
from issuer.roster_validation import RowProblem, validate_rows
from schemas import resident_id_check_char, validate_roster_row

REPO = Path(__file__).resolve().parents[1]
HEADERS = {
    "holder_name": "姓名",
    "id_number": "证件号码",
    "level": "职业技能等级",
    "occupation_code": "职业编码",
}
SCOPES = (
    Scope("6-31-01-03", "电工", (3, 4, 5), dt.date(2024, 1, 1)),
    Scope("6-18-02-04", "焊工", (4, 5), dt.date(2024, 1, 1), dt.date(2025, 12, 31)),
    Scope("6-18-01-01", "车工", (3,), dt.date(2024, 1, 1), work_types=("数控车工",)),
)


def resident_id(first17: str) -> str:
    return first17 + resident_id_check_char(first17)


def fields(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "holder_name": "张伟",
        "id_type": "居民身份证",
        "id_number": resident_id("11010519850312001"),
        "occupation_code": "6-31-01-03",
        "occupation_name": "电工",
        "work_type": "--",
        "level": 3,
        "assessment_date": "2025-06-18",
    }
    base.update(changes)
    return {k: v for k, v in base.items() if v is not None}


def row(number: int = 2, unparsed: frozenset[str] = frozenset(), **changes: Any) -> RosterRow:
    return RosterRow(number, fields(**changes), unparsed, HEADERS)


def codes(problems: list[RowProblem]) -> list[tuple[int, str, str]]:
    return [(p.row, p.column, p.code) for p in problems]


def test_valid_row_has_no_problem() -> None:
    assert validate_rows([row()], scopes=SCOPES, font_check=font_has_glyphs) == []


def test_wrong_check_character_is_reported_at_the_office_column() -> None:
    number = resident_id("11010519850312001")
    wrong = number[:17] + ("0" if number[17] != "0" else "1")
    (problem,) = validate_rows([row(id_number=wrong)])
    assert (problem.row, problem.column, problem.code) == (2, "证件号码", "id_check_char")
    assert problem.message_zh == "身份证校验位错误" and problem.message_en == "wrong check character"


def test_several_problems_in_one_row_all_reported() -> None:
    problems = validate_rows([row(holder_name="张3", level=9, id_type=None)])
    assert codes(problems) == [
        (2, "姓名", "name_invalid"),
        (2, "id_type", "required"),
        (2, "职业技能等级", "maximum"),
    ]


def test_occupation_out_of_scope() -> None:
    problems = validate_rows([row(occupation_code="4-03-02-01", occupation_name="中式烹调师")], scopes=SCOPES)
    assert codes(problems) == [(2, "职业编码", "occupation_out_of_scope")]
    assert "4-03-02-01" in problems[0].message_zh


def test_level_the_institution_may_not_certify() -> None:
    (problem,) = validate_rows([row(level=2)], scopes=SCOPES)
    assert (problem.column, problem.code) == ("职业技能等级", "level_out_of_scope")
    assert "二级/技师" in problem.message_zh and "Level 2 / Technician" in problem.message_en
    assert "三级/高级工" in problem.message_zh


def test_scope_window_is_judged_at_the_assessment_date() -> None:
    welder: dict[str, Any] = {"occupation_code": "6-18-02-04", "occupation_name": "焊工", "level": 4}
    assert validate_rows([row(**welder, assessment_date="2025-12-31")], scopes=SCOPES) == []
    problems = validate_rows([row(**welder, assessment_date="2026-01-01")], scopes=SCOPES)
    assert [p.code for p in problems] == ["scope_not_in_force"]


def test_work_type_and_filed_name() -> None:
    turner: dict[str, Any] = {"occupation_code": "6-18-01-01", "occupation_name": "车工"}
    assert validate_rows([row(**turner, work_type="数控车工")], scopes=SCOPES) == []
    assert [p.code for p in validate_rows([row(**turner)], scopes=SCOPES)] == ["work_type_out_of_scope"]
    problems = validate_rows([row(occupation_name="电工（低压）")], scopes=SCOPES)
    assert [p.code for p in problems] == ["occupation_name_mismatch"]


def test_duplicates_within_the_file_name_the_first_row() -> None:
    rows = [row(2), row(3, level=4), row(4), row(5, holder_name="张伟伟")]
    problems = validate_rows(rows)
    assert codes(problems) == [(4, "证件号码", "duplicate_row"), (5, "证件号码", "duplicate_row")]
    assert "第 2 行" in problems[0].message_zh and "row 2" in problems[0].message_en


def test_unparsed_cells_get_their_own_code_not_a_cascade() -> None:
    bad = row(level="高级", assessment_date="去年", unparsed=frozenset({"level", "assessment_date"}))
    problems = validate_rows([bad], scopes=SCOPES)
    assert [p.code for p in problems] == ["date_unrecognised", "level_unrecognised"]
    assert "高级" in problems[1].message_zh


def test_numeric_id_from_excel() -> None:
    bad = row(id_number="1.10105198503e+17", unparsed=frozenset({"id_number"}))
    assert [p.code for p in validate_rows([bad])] == ["id_number_numeric"]


def test_name_glyph_missing_with_the_real_font() -> None:
    lacking = "\U00030000"  # CJK Extension G: a letter the schema accepts, absent from Noto Sans CJK
    assert font_has_glyphs("张𠮷") and not font_has_glyphs(lacking)
    assert validate_roster_row(fields(holder_name="张" + lacking)) == []
    (problem,) = validate_rows([row(holder_name="张" + lacking)], font_check=font_has_glyphs)
    assert (problem.column, problem.code) == ("姓名", "name_glyph_missing")
    assert "U+30000" in problem.message_zh
    assert validate_rows([row(holder_name="张𠮷")], font_check=font_has_glyphs) == []


def test_future_assessment_date() -> None:
    problems = validate_rows([row(assessment_date="2025-06-19")], today=dt.date(2025, 6, 18))
    assert [p.code for p in problems] == ["assessment_date_future"]


def test_report_csv_opens_in_excel(tmp_path: Path) -> None:
    problems = validate_rows([row(3, level=2), row(2, holder_name="张3")], scopes=SCOPES)
    path = tmp_path / "report.csv"
    write_report_csv(problems, path)
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    with path.open(encoding="utf-8-sig", newline="") as f:
        table = list(csv.reader(f))
    assert tuple(table[0]) == REPORT_HEADER
    assert [(r[0], r[1], r[2]) for r in table[1:]] == [
        ("2", "姓名", "name_invalid"),
        ("3", "职业技能等级", "level_out_of_scope"),
    ]
    assert "二级/技师" in table[2][3] and "Technician" in table[2][4]


def test_terminal_report() -> None:
    assert "没有发现问题" in format_report([])
    problems = [RowProblem(n, "姓名", "name_invalid", "错", "wrong") for n in range(2, 8)]
    text = format_report(problems, limit=3)
    assert text.splitlines()[0].startswith("名册有 6 处问题，涉及 6 行")
    assert "第 2 行「姓名」 [name_invalid] 错 / wrong" in text
    assert "另有 3 处" in text and "3 more" in text


def _samples() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_samples", REPO / "examples" / "make_samples.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(("name", "offset"), [("roster-sample.xlsx", 0), ("roster-sample.csv", -1)])
def test_sample_rosters_fail_exactly_as_documented(name: str, offset: int) -> None:
    samples = _samples()
    rows = read_roster(REPO / "examples" / name)
    problems = validate_rows(rows, scopes=samples.SCOPES, font_check=font_has_glyphs)
    assert {p.row: p.code for p in problems} == {n + offset: c for n, c in samples.INVALID_ROWS.items()}
    assert len(problems) == len(samples.INVALID_ROWS)
