"""Roster import: XLSX, CSV (UTF-8, UTF-8 with BOM, GB18030) and JSON, Chinese or English headers, and
every whole-file failure as a clear ``RosterError``."""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import importlib.util
import io
import json
import random
import zipfile
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from openpyxl import Workbook

from issuer.progress import Progress
from issuer.roster import RosterError, RosterRow, parse_date, parse_level, read_roster
from schemas import resident_id_check_char

REPO = Path(__file__).resolve().parents[1]
ZH = ["姓名", "证件类型", "证件号码", "职业编码", "职业名称", "工种/职业方向", "职业技能等级", "评价日期"]
EN = [
    "Name",
    "ID Type",
    "id_number",
    "Occupation Code",
    "OCCUPATION NAME",
    "work type",
    "Level",
    "Assessment Date",
]
ID1 = "11010519850312001" + resident_id_check_char("11010519850312001")
ID2 = "31010419921120004" + resident_id_check_char("31010419921120004")
ROWS = [
    ["张伟", "居民身份证", ID1, "6-31-01-03", "电工", "", "三级/高级工", "2025-06-18"],
    ["买买提•艾力", "居民身份证", ID2.lower(), "6-18-02-04", "焊工", "--", "4", "2025年6月9日"],
]
EXPECTED = [
    {
        "holder_name": "张伟",
        "id_type": "居民身份证",
        "id_number": ID1,
        "occupation_code": "6-31-01-03",
        "occupation_name": "电工",
        "work_type": "--",
        "level": 3,
        "assessment_date": "2025-06-18",
    },
    {
        "holder_name": "买买提·艾力",  # the bullet typed for the middle dot is normalised to U+00B7
        "id_type": "居民身份证",
        "id_number": ID2,  # lower-case x is upper-cased (here the check char is a digit: unchanged)
        "occupation_code": "6-18-02-04",
        "occupation_name": "焊工",
        "work_type": "--",
        "level": 4,
        "assessment_date": "2025-06-09",
    },
]


def write_csv(path: Path, header: list[str], rows: list[list[str]], encoding: str) -> Path:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    path.write_bytes(buffer.getvalue().encode(encoding))
    return path


def write_xlsx(path: Path, rows: list[list[Any]], *, title: str | None = None) -> Path:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    if title:
        sheet.append([title])
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


def error_code(path: Path) -> str:
    with pytest.raises(RosterError) as caught:
        list(read_roster(path))
    assert caught.value.message_zh and caught.value.message_en
    return caught.value.code


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
@pytest.mark.parametrize("header", [ZH, EN], ids=["zh", "en"])
def test_csv_in_every_accepted_encoding(tmp_path: Path, encoding: str, header: list[str]) -> None:
    rows = list(read_roster(write_csv(tmp_path / "r.csv", header, ROWS, encoding)))
    assert [r.fields for r in rows] == EXPECTED
    assert [r.number for r in rows] == [2, 3]
    assert rows[0].column("id_number") == header[2]
    assert rows[0].unparsed == frozenset()


def test_xlsx_with_title_row_date_cells_and_numeric_levels(tmp_path: Path) -> None:
    data: list[list[Any]] = [
        ["序号", *ZH, "备注"],
        [1, "张伟", "居民身份证", ID1, "6-31-01-03", "电工", None, 3, dt.datetime(2025, 6, 18)],
        [None] * 9,  # a blank row in the middle is skipped
        [2, "李娜", "居民身份证", ID2, "6-18-02-04", "焊工", "无", "五级", dt.date(2025, 6, 9), "补考"],
    ]
    rows = list(read_roster(write_xlsx(tmp_path / "r.xlsx", data, title="2025 年第 3 批名册")))
    assert [r.number for r in rows] == [3, 5]
    assert rows[0].fields["level"] == 3 and rows[0].fields["assessment_date"] == "2025-06-18"
    assert rows[0].fields["work_type"] == "--"
    assert rows[1].fields["level"] == 5 and rows[1].fields["work_type"] == "--"
    assert "备注" not in rows[1].fields and "序号" not in rows[1].fields
    assert rows[1].column("level") == "职业技能等级"


def test_xlsx_numeric_id_is_flagged_not_trusted(tmp_path: Path) -> None:
    data: list[list[Any]] = [
        ZH,
        ["张伟", "居民身份证", 110105198503120012, "6-31-01-03", "电工", "", 3, "2025/06/18"],
    ]
    (row,) = read_roster(write_xlsx(tmp_path / "r.xlsx", data))
    assert row.unparsed == frozenset({"id_number"})
    assert row.fields["assessment_date"] == "2025-06-18"


@pytest.mark.parametrize("shape", ["list", "rows"])
def test_json_list_or_rows_object(tmp_path: Path, shape: str) -> None:
    docs: list[dict[str, Any]] = [dict(zip(ZH, r, strict=True)) for r in ROWS]
    docs[1] = {**EXPECTED[1], "holder_name": "买买提•艾力", "level": "4"}
    path = tmp_path / "r.json"
    path.write_text(json.dumps(docs if shape == "list" else {"rows": docs}, ensure_ascii=False), "utf-8")
    rows = list(read_roster(path))
    assert [r.fields for r in rows] == EXPECTED
    assert [r.number for r in rows] == [1, 2]


def test_unrecognised_cells_are_kept_and_named(tmp_path: Path) -> None:
    bad = [["张伟", "居民身份证", ID1, "6-31-01-03", "电工", "", "高级", "去年六月"]]
    (row,) = read_roster(write_csv(tmp_path / "r.csv", ZH, bad, "utf-8"))
    assert row.unparsed == frozenset({"level", "assessment_date"})
    assert row.fields["level"] == "高级" and row.fields["assessment_date"] == "去年六月"


@pytest.mark.parametrize(
    ("raw", "level"),
    [(3, 3), (4.0, 4), ("5", 5), ("三级", 3), ("三级/高级工", 3), ("三级／高级工", 3), ("高级工", 3),
     ("一级/高级技师", 1), ("技师", 2), ("Level 2", 2), ("3级", 3), ("7", 7),
     ("三级/技师", None), ("高级", None), (3.5, None), (True, None)],
)  # fmt: skip
def test_level_spellings(raw: object, level: int | None) -> None:
    assert parse_level(raw) == level


@pytest.mark.parametrize(
    ("raw", "iso"),
    [("2025-06-18", "2025-06-18"), ("2025/6/8", "2025-06-08"), ("2025年06月18日", "2025-06-18"),
     ("2025.6.18", "2025-06-18"), ("20250618", "2025-06-18"), (dt.date(2025, 6, 18), "2025-06-18"),
     (45826, "2025-06-18"), ("2025-02-30", "2025-02-30"), ("18/06/2025", None), ("六月", None)],
)  # fmt: skip
def test_date_spellings(raw: object, iso: str | None) -> None:
    assert parse_date(raw) == iso


def test_wrong_encoding_utf16(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_bytes(
        codecs.BOM_UTF16_LE + "\n".join([",".join(ZH)] + [",".join(r) for r in ROWS]).encode("utf-16-le")
    )
    assert error_code(path) == "roster_encoding"


def test_wrong_encoding_utf16_without_bom(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_bytes(",".join(EN).encode("utf-16-le"))
    assert error_code(path) == "roster_encoding"


def test_wrong_encoding_latin1(tmp_path: Path) -> None:
    rows = [["José Müller", "Passport", "E1234567", "6-31-01-03", "Électricien", "", "3", "2025-06-18"]]
    assert error_code(write_csv(tmp_path / "r.csv", EN, rows, "latin-1")) == "roster_encoding"


def test_missing_required_column_names_it_in_both_languages(tmp_path: Path) -> None:
    header = [h for h in ZH if h != "证件号码"]
    rows = [[c for i, c in enumerate(r) if i != 2] for r in ROWS]
    with pytest.raises(RosterError) as caught:
        read_roster(write_csv(tmp_path / "r.csv", header, rows, "utf-8"))
    assert caught.value.code == "roster_missing_column"
    assert "证件号码" in caught.value.message_zh and "id number" in caught.value.message_en


def test_duplicate_column(tmp_path: Path) -> None:
    assert error_code(write_csv(tmp_path / "r.csv", [*ZH, "姓名"], [], "utf-8")) == "roster_duplicate_column"


@pytest.mark.parametrize("content", [b"", b"  \r\n", b"\xef\xbb\xbf"])
def test_empty_file(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "r.csv"
    path.write_bytes(content)
    assert error_code(path) == "roster_empty"


def test_header_without_rows_is_empty(tmp_path: Path) -> None:
    assert error_code(write_csv(tmp_path / "r.csv", ZH, [], "utf-8")) == "roster_empty"
    assert error_code(write_xlsx(tmp_path / "r.xlsx", [ZH])) == "roster_empty"


def test_random_bytes_named_xlsx(tmp_path: Path) -> None:
    path = tmp_path / "r.xlsx"
    path.write_bytes(random.Random(4).randbytes(5000))
    assert error_code(path) == "roster_not_spreadsheet"


def test_zip_that_is_not_a_workbook(tmp_path: Path) -> None:
    path = tmp_path / "r.xlsx"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("hello.txt", "not a workbook")
    assert error_code(path) == "roster_not_spreadsheet"


def test_truncated_xlsx(tmp_path: Path) -> None:
    good = write_xlsx(tmp_path / "good.xlsx", [ZH, ROWS[0]]).read_bytes()
    path = tmp_path / "r.xlsx"
    path.write_bytes(good[: len(good) // 2])
    assert error_code(path) == "roster_not_spreadsheet"


def test_legacy_xls(tmp_path: Path) -> None:
    path = tmp_path / "r.xls"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(500))
    assert error_code(path) == "roster_xls_unsupported"


def test_random_bytes_named_csv(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_bytes(random.Random(4).randbytes(5000))
    assert error_code(path) == "roster_encoding"


@pytest.mark.parametrize("doc", ['{"rows": 3}', "[1, 2]", "[{", '{"a": 1}'])
def test_bad_json(tmp_path: Path, doc: str) -> None:
    path = tmp_path / "r.json"
    path.write_text(doc, "utf-8")
    assert error_code(path) in {"roster_json_shape", "roster_json_invalid"}


def test_missing_file(tmp_path: Path) -> None:
    assert error_code(tmp_path / "nope.csv") == "roster_not_found"


def test_too_many_rows(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "r.csv", ZH, ROWS * 3, "utf-8")
    with pytest.raises(RosterError) as caught:
        list(read_roster(path, max_rows=5))
    assert caught.value.code == "roster_too_large"


def test_progress_gets_total_and_count(tmp_path: Path) -> None:
    stream = io.StringIO()
    progress = Progress("校验 validate", stream=stream, force=True, interval=0)
    rows = list(read_roster(write_csv(tmp_path / "r.csv", ZH, ROWS * 5, "utf-8"), progress=progress))
    progress.close()
    assert len(rows) == 10 and progress.total == 10 and progress.done == 10
    assert "10/10 rows 100%" in stream.getvalue()


def test_progress_is_silent_when_not_a_terminal() -> None:
    stream = io.StringIO()
    with Progress("x", 3, stream=stream) as progress:
        progress.advance(3)
    assert stream.getvalue() == ""


def test_progress_eta_from_the_clock() -> None:
    ticks = iter([0.0, 10.0])
    progress = Progress("render", 100, unit="certs", stream=io.StringIO(), clock=lambda: next(ticks))
    progress.done = 25
    assert progress.render_line() == "render [######------------------] 25/100 certs 25% ETA 0:00:30"


def _samples_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_samples", REPO / "examples" / "make_samples.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(("name", "first_row"), [("roster-sample.xlsx", 3), ("roster-sample.csv", 2)])
def test_committed_samples_match_the_script(name: str, first_row: int) -> None:
    samples = _samples_module()
    rows: list[RosterRow] = list(read_roster(REPO / "examples" / name))
    expected = samples.rows()
    assert [r.number for r in rows] == list(range(first_row, first_row + len(expected)))
    got = [
        (f["holder_name"], f["id_type"], f["id_number"], f["occupation_code"], f["occupation_name"],
         f["work_type"], f["level"], f["assessment_date"])
        for f in (r.fields for r in rows)
    ]  # fmt: skip
    assert got == [(*e[:7], e[7].isoformat()) for e in expected]
