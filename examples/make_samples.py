"""Write the sample rosters ``roster-sample.xlsx`` and ``roster-sample.csv`` next to this script.

Deterministic: the rows below, with resident ID check characters computed by ``schemas.checks``.
The XLSX is what an assessment office keeps (a title row above Chinese headers, levels as "三级/高级工",
real date cells); the CSV is the same roster saved as "CSV UTF-8" (BOM, digits for levels, typed dates).
``SCOPES`` is the filed scope the samples are meant to be validated against. README.md lists the rows that
are invalid on purpose. Run: ``.venv/bin/python examples/make_samples.py``.
"""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path
from typing import Final

from openpyxl import Workbook

from credential.directory import Scope
from schemas import LEVEL_NAMES, resident_id_check_char

HERE: Final = Path(__file__).resolve().parent
XLSX: Final = HERE / "roster-sample.xlsx"
CSV: Final = HERE / "roster-sample.csv"
FIXED: Final = HERE / "roster-sample-fixed.xlsx"
TITLE: Final = "示例职业技能评价中心 2025 年第 3 批职业技能等级认定结果名册"
HEADERS: Final = (
    "序号",
    "姓名",
    "证件类型",
    "证件号码",
    "职业编码",
    "职业名称",
    "工种/职业方向",
    "职业技能等级",
    "评价日期",
)
_FILED: Final = dt.date(2024, 1, 1)
SCOPES: Final = (
    Scope("6-31-01-03", "电工", (3, 4, 5), _FILED),
    Scope("6-18-02-04", "焊工", (3, 4, 5), _FILED),
    Scope("6-18-01-01", "车工", (3, 4, 5), _FILED),
)
ELECTRICIAN, WELDER, TURNER = ("6-31-01-03", "电工"), ("6-18-02-04", "焊工"), ("6-18-01-01", "车工")

# (name, first 17 ID digits, occupation, level, assessment date)
_ROWS: Final = (
    ("张伟", "11010519850312001", ELECTRICIAN, 3, dt.date(2025, 6, 18)),
    ("王芳", "11010819900705002", ELECTRICIAN, 4, dt.date(2025, 6, 18)),
    ("李娜", "31010419921120004", ELECTRICIAN, 5, dt.date(2025, 6, 18)),
    ("刘洋", "44030519880214003", ELECTRICIAN, 3, dt.date(2025, 6, 18)),
    ("陈静", "51010719950901006", ELECTRICIAN, 4, dt.date(2025, 6, 18)),
    ("杨磊", "32010219870630005", ELECTRICIAN, 5, dt.date(2025, 6, 19)),
    ("赵勇", "42010619830418007", ELECTRICIAN, 3, dt.date(2025, 6, 19)),
    ("买买提·艾力", "65010219910212001", WELDER, 4, dt.date(2025, 6, 20)),
    ("黄敏", "11010519960125008", WELDER, 5, dt.date(2025, 6, 20)),
    ("周强", "31010419891009003", WELDER, 3, dt.date(2025, 6, 20)),
    ("吴秀英", "44030519780606002", WELDER, 4, dt.date(2025, 6, 20)),
    ("徐军", "51010719841231009", WELDER, 5, dt.date(2025, 6, 20)),
    ("孙丽", "32010219930317004", WELDER, 3, dt.date(2025, 6, 21)),
    ("马超", "42010619970822001", TURNER, 4, dt.date(2025, 6, 21)),
    ("朱桂英", "11010819810511006", TURNER, 5, dt.date(2025, 6, 21)),
    ("胡斌", "31010419860728005", TURNER, 3, dt.date(2025, 6, 21)),
    ("郭晓燕", "44030519940403008", TURNER, 4, dt.date(2025, 6, 21)),
    ("林〇", "51010719990919001", TURNER, 5, dt.date(2025, 6, 22)),
    ("何建国", "32010219760101003", TURNER, 3, dt.date(2025, 6, 22)),
    ("高鹏", "42010619921111007", ELECTRICIAN, 4, dt.date(2025, 6, 22)),
)

#: Data rows (spreadsheet row numbers of the XLSX, where data starts at row 3) that are invalid on purpose.
INVALID_ROWS: Final = {
    23: "id_check_char",
    24: "level_out_of_scope",
    25: "duplicate_row",
    26: "occupation_out_of_scope",
}


def _id(first17: str) -> str:
    return first17 + resident_id_check_char(first17)


def _wrong_check(first17: str) -> str:
    right = resident_id_check_char(first17)
    return first17 + ("0" if right != "0" else "1")


def rows() -> list[tuple[str, str, str, str, str, str, int, dt.date]]:
    """Every data row: name, ID type, ID number, occupation code and name, work type, level, date."""
    out = [("".join(n), "居民身份证", _id(i), occ[0], occ[1], "--", lv, d) for n, i, occ, lv, d in _ROWS]
    out += [
        (
            "郑海涛",
            "居民身份证",
            _wrong_check("11010519800808001"),
            *ELECTRICIAN,
            "--",
            3,
            dt.date(2025, 6, 22),
        ),
        ("谢丹", "居民身份证", _id("31010419900228002"), *ELECTRICIAN, "--", 2, dt.date(2025, 6, 22)),
        out[1],
        (
            "韩梅",
            "居民身份证",
            _id("44030519870707004"),
            "4-03-02-01",
            "中式烹调师",
            "--",
            4,
            dt.date(2025, 6, 22),
        ),
    ]
    return out


def fixed_rows() -> list[tuple[str, str, str, str, str, str, int, dt.date]]:
    """The roster after the office fixed what validation reported: 郑海涛's ID number corrected, 谢丹's
    level corrected to 三级, the repeated 王芳 row deleted, 韩梅 (an occupation outside the scope) left out."""
    out = rows()[:22]
    name, id_type, number, *rest = out[20]
    out[20] = (name, id_type, _id(number[:17]), *rest)  # type: ignore[assignment]
    out[21] = (*out[21][:6], 3, out[21][7])
    return out


def write_xlsx(
    path: Path = XLSX, data: list[tuple[str, str, str, str, str, str, int, dt.date]] | None = None
) -> None:
    """The roster as the office keeps it in Excel."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "名册"
    sheet.append([TITLE])
    sheet.append(list(HEADERS))
    for n, (name, id_type, number, code, occ, work, level, day) in enumerate(data or rows(), start=1):
        sheet.append([n, name, id_type, number, code, occ, work, LEVEL_NAMES[level], day])
        sheet.cell(row=sheet.max_row, column=9).number_format = "yyyy-mm-dd"
    stamp = dt.datetime(2025, 6, 23, 9, 0, 0)
    book.properties.created = stamp
    book.properties.modified = stamp
    book.save(path)


def write_csv(path: Path = CSV) -> None:
    """The same roster saved from Excel as "CSV UTF-8": BOM, levels as digits, dates typed with slashes."""
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(HEADERS)
        for n, (name, id_type, number, code, occ, work, level, day) in enumerate(rows(), start=1):
            writer.writerow([n, name, id_type, number, code, occ, work, level, day.strftime("%Y/%m/%d")])


if __name__ == "__main__":
    write_xlsx()
    write_csv()
    write_xlsx(FIXED, fixed_rows())
