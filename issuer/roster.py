"""Roster import: the assessment office's spreadsheet (XLSX, CSV or JSON) as normalised roster rows.

Offices keep their own spreadsheets, so we meet them where they are: headers in Chinese or English, in any
case and spacing, after an optional title row; levels written ``3``, ``三级``, ``三级/高级工`` or ``高级工``;
dates as real date cells or typed as ``2025-03-15``, ``2025/3/15`` or ``2025年3月15日``. Each row becomes the
field names of the roster-row schema (``schemas/roster_row.schema.json``) with values in schema
form; a cell we cannot read (a level like ``高级``) is kept as typed and named in ``RosterRow.unparsed`` so
validation can say exactly what to fix. Whole-file problems (empty, not a spreadsheet, wrong encoding,
missing column) raise ``RosterError``.

Rows stream: XLSX through openpyxl's read-only mode, CSV line by line, so a 100,000-row roster is never held in
memory. CSV must be UTF-8 (with or without BOM) or GB18030 (what Excel on Chinese Windows writes); we try
UTF-8 strictly over the whole file first, then GB18030, and refuse anything else rather than guess.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import itertools
import json
import re
import unicodedata
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Final

from openpyxl import load_workbook
from openpyxl.utils.datetime import from_excel

from common.errors import SkillpassError
from issuer.progress import Progress
from schemas import normalise_name
from schemas.vocabulary import NO_WORK_TYPE

MAX_ROWS: Final = 1_000_000
_HEADER_SCAN_ROWS: Final = 10
_CHUNK: Final = 1 << 20

#: field -> (Chinese header, English header, further accepted spellings). The first two name the column in
#: messages; matching ignores case, spaces, ``_ - * :`` and a bracketed note such as ``（必填）``.
COLUMNS: Final[dict[str, tuple[str, str, tuple[str, ...]]]] = {
    "holder_name": ("姓名", "name", ("持证人姓名", "holder name", "full name")),
    "id_type": ("证件类型", "id type", ("document type",)),
    "id_number": ("证件号码", "id number", ("证件号", "身份证号", "身份证号码", "id no", "document number")),
    "occupation_code": ("职业编码", "occupation code", ("职业代码",)),
    "occupation_name": ("职业名称", "occupation name", ("职业", "occupation")),
    "work_type": ("工种/职业方向", "work type", ("工种", "职业方向", "工种职业方向")),
    "level": ("职业技能等级", "level", ("等级", "技能等级", "skill level")),
    "assessment_date": ("评价日期", "assessment date", ("考核日期", "鉴定日期", "date")),
    "photo": ("照片", "photo", ("照片路径", "photo path")),
}
OPTIONAL_COLUMNS: Final = frozenset({"work_type", "photo"})

_NO_WORK_TYPE_SPELLINGS: Final = frozenset({"", "-", "--", "—", "——", "无", "/"})
_LEVEL_DIGITS: Final = {"1": 1, "2": 2, "3": 3, "4": 4, "5": 5, "一": 1, "二": 2, "三": 3, "四": 4, "五": 5}
_LEVEL_TITLES: Final = {"高级技师": 1, "技师": 2, "高级工": 3, "中级工": 4, "初级工": 5}
_LEVEL_TEXT: Final = re.compile(r"(?:level)?([1-5一二三四五])级?(?:/(高级技师|技师|高级工|中级工|初级工))?")
_DATE_TEXT: Final = re.compile(
    r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?|(\d{4})(\d{2})(\d{2})"
)
_EXCEL_SERIAL_RANGE: Final = (1, 2_958_465)
_ID_DIGITS_EXCEL_KEEPS: Final = 15


class RosterError(SkillpassError):
    """The roster as a whole cannot be read; ``code`` is stable, messages are in Chinese and English."""


@dataclass(frozen=True)
class RosterRow:
    """One data row: ``number`` is the row as the office sees it (spreadsheet row, or position in JSON).

    ``fields`` uses roster-row schema names; ``unparsed`` names fields whose cell could not be converted
    (the typed value is kept); ``headers`` maps each field to the office's own column header.
    """

    number: int
    fields: dict[str, object]
    unparsed: frozenset[str] = frozenset()
    headers: Mapping[str, str] = field(default_factory=dict, compare=False, repr=False)

    def column(self, field_name: str) -> str:
        """The office's header for a field, or the field name when the roster had none (JSON)."""
        return self.headers.get(field_name, field_name)


def column_label(field_name: str) -> tuple[str, str]:
    """The Chinese and English header of a field, for messages."""
    zh, en, _ = COLUMNS[field_name]
    return zh, en


def read_roster(
    path: Path, *, progress: Progress | None = None, max_rows: int = MAX_ROWS
) -> Iterator[RosterRow]:
    """Stream the rows of a roster file; whole-file problems raise ``RosterError`` before the first row.

    XLSX, CSV or JSON is told from the content, not the name. Blank rows are skipped.
    """
    if not path.is_file():
        raise RosterError("roster_not_found", f"找不到名册文件 {path}", f"roster file {path} not found")
    with path.open("rb") as f:
        head = f.read(8)
    if not head.strip():
        raise _empty(path)
    headers, rows = _open_rows(path, head, progress)
    first = next(rows, None)
    if first is None:
        raise _empty(path)
    return _counted(itertools.chain([first], rows), headers, progress, max_rows)


def _empty(path: Path) -> RosterError:
    return RosterError("roster_empty", f"名册 {path.name} 没有数据行", f"roster {path.name} has no data rows")


_Raw = tuple[int, Mapping[str, object]]


def _open_rows(path: Path, head: bytes, progress: Progress | None) -> tuple[dict[str, str], Iterator[_Raw]]:
    if head.startswith(b"PK\x03\x04"):
        return _xlsx_rows(path, progress)
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise RosterError(
            "roster_xls_unsupported",
            "不支持旧版 Excel .xls 文件，请在 Excel 中另存为 .xlsx",
            "old Excel .xls files are not supported; save the sheet as .xlsx in Excel",
        )
    if path.suffix.lower() in (".xlsx", ".xlsm", ".xls"):
        raise _not_spreadsheet(path)
    if head.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] in (b"[", b"{"):
        return _json_rows(path, progress)
    return _csv_rows(path, progress)


def _not_spreadsheet(path: Path) -> RosterError:
    return RosterError(
        "roster_not_spreadsheet",
        f"{path.name} 不是可读取的 Excel（.xlsx）、CSV 或 JSON 名册",
        f"{path.name} is not a readable Excel (.xlsx), CSV or JSON roster",
    )


def _counted(
    rows: Iterable[_Raw], headers: dict[str, str], progress: Progress | None, max_rows: int
) -> Iterator[RosterRow]:
    for count, (number, cells) in enumerate(rows, start=1):
        if count > max_rows:
            raise RosterError(
                "roster_too_large",
                f"名册超过 {max_rows} 行，请拆分成多个文件",
                f"the roster has more than {max_rows} rows; split it into several files",
            )
        yield _normalise(number, cells, headers)
        if progress is not None:
            progress.advance()


# --- headers ---------------------------------------------------------------------------------------------


def _header_key(text: object) -> str:
    s = unicodedata.normalize("NFKC", str(text or "")).casefold()
    s = re.sub(r"\(.*?\)|\[.*?\]", "", s)
    return re.sub(r"[\s_\-*:]", "", s)


_ALIASES: Final[dict[str, str]] = {
    _header_key(alias): name for name, (zh, en, more) in COLUMNS.items() for alias in (name, zh, en, *more)
}


def _match_headers(cells: Iterable[object]) -> dict[int, str]:
    """Column index -> field for every recognised header in a row."""
    return {i: _ALIASES[key] for i, cell in enumerate(cells) if (key := _header_key(cell)) in _ALIASES}


def _find_header(
    path: Path, rows: Iterator[tuple[int, list[object]]]
) -> tuple[dict[int, str], dict[str, str]]:
    """Locate the header row among the first rows (a title row may sit above it) and check the columns."""
    best: tuple[dict[int, str], list[object]] = ({}, [])
    blank = True
    for _number, cells in itertools.islice(rows, _HEADER_SCAN_ROWS):
        blank = blank and not _has_content(cells)
        found = _match_headers(cells)
        if len(found) > len(best[0]):
            best = (found, cells)
        if len(set(found.values())) >= len(COLUMNS) - len(OPTIONAL_COLUMNS):
            break
    if blank:
        raise _empty(path)
    by_index, cells = best
    _check_columns(by_index, cells)
    return by_index, {name: str(cells[i]).strip() for i, name in by_index.items()}


def _check_columns(by_index: dict[int, str], cells: list[object]) -> None:
    seen: dict[str, int] = {}
    for i, name in by_index.items():
        if name in seen:
            zh, en = column_label(name)
            raise RosterError(
                "roster_duplicate_column",
                f"“{cells[seen[name]]}”和“{cells[i]}”两列都是{zh}，请删除其中一列",
                f"columns “{cells[seen[name]]}” and “{cells[i]}” both hold the {en}; delete one",
            )
        seen[name] = i
    missing = [name for name in COLUMNS if name not in seen and name not in OPTIONAL_COLUMNS]
    if missing:
        labels = [column_label(name) for name in missing]
        raise RosterError(
            "roster_missing_column",
            "缺少必填列：" + "、".join(f"“{zh}”" for zh, _ in labels),
            "missing required column(s): " + ", ".join(f"“{en}”" for _, en in labels),
        )


def _has_content(cells: Iterable[object]) -> bool:
    return any(c is not None and str(c).strip() for c in cells)


def _cells_to_mapping(rows: Iterator[tuple[int, list[object]]], by_index: dict[int, str]) -> Iterator[_Raw]:
    for number, cells in rows:
        if _has_content(cells):
            yield number, {name: cells[i] if i < len(cells) else None for i, name in by_index.items()}


# --- XLSX ------------------------------------------------------------------------------------------------


def _xlsx_rows(path: Path, progress: Progress | None) -> tuple[dict[str, str], Iterator[_Raw]]:
    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as e:  # zipfile, XML and openpyxl's own errors all mean the same thing to a clerk
        raise _not_spreadsheet(path) from e
    sheet = book.worksheets[0] if book.worksheets else None
    if sheet is None:
        book.close()
        raise _empty(path)
    rows = ((n, list(values)) for n, values in enumerate(sheet.iter_rows(values_only=True), start=1))
    try:
        by_index, headers = _find_header(path, rows)
    except RosterError:
        book.close()
        raise
    except Exception as e:
        book.close()
        raise _not_spreadsheet(path) from e
    if progress is not None and sheet.max_row:
        progress.set_total(max(sheet.max_row - 1, 0))
    return headers, _closing(_cells_to_mapping(rows, by_index), book, path)


def _closing(rows: Iterator[_Raw], book: Any, path: Path) -> Iterator[_Raw]:
    try:
        yield from rows
    except Exception as e:  # a damaged sheet part shows only while streaming
        raise _not_spreadsheet(path) from e
    finally:
        book.close()


# --- CSV -------------------------------------------------------------------------------------------------


def _csv_rows(path: Path, progress: Progress | None) -> tuple[dict[str, str], Iterator[_Raw]]:
    encoding, lines = _detect_encoding(path)
    if progress is not None:
        progress.set_total(max(lines - 1, 0))
    handle = path.open(encoding=encoding, newline="")
    try:
        rows = ((n, list[object](r)) for n, r in enumerate(csv.reader(handle), start=1))
        by_index, headers = _find_header(path, rows)
    except csv.Error as e:
        handle.close()
        raise _not_spreadsheet(path) from e
    except RosterError:
        handle.close()
        raise
    return headers, _csv_closing(_cells_to_mapping(rows, by_index), handle, path)


def _csv_closing(rows: Iterator[_Raw], handle: IO[str], path: Path) -> Iterator[_Raw]:
    try:
        yield from rows
    except csv.Error as e:
        raise _not_spreadsheet(path) from e
    finally:
        handle.close()


def _encoding_error(path: Path, detail_zh: str, detail_en: str) -> RosterError:
    return RosterError(
        "roster_encoding",
        f"{path.name} 的文字编码无法识别（{detail_zh}）。请在 Excel 中另存为“CSV UTF-8（逗号分隔）”，或直接提交 .xlsx",
        f"cannot read the text encoding of {path.name} ({detail_en}). In Excel use Save As “CSV UTF-8 "
        "(Comma delimited)”, or submit the .xlsx",
    )


def _detect_encoding(path: Path) -> tuple[str, int]:
    """``utf-8-sig`` or ``gb18030`` (whichever decodes the whole file strictly), and the line count."""
    with path.open("rb") as f:
        head = f.read(4)
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise _encoding_error(path, "UTF-16", "UTF-16")
    for encoding in ("utf-8-sig", "gb18030"):
        lines = _decodes(path, encoding)
        if lines is not None:
            return encoding, lines
    raise _encoding_error(path, "既不是 UTF-8 也不是 GB18030", "neither UTF-8 nor GB18030")


def _decodes(path: Path, encoding: str) -> int | None:
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    lines, last = 0, b"\n"
    with path.open("rb") as f:
        try:
            while chunk := f.read(_CHUNK):
                text = decoder.decode(chunk)
                if "\x00" in text or (encoding == "gb18030" and _has_private_use(text)):
                    return None
                lines += chunk.count(b"\n")
                last = chunk[-1:]
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return None
    return lines + (last != b"\n")


def _has_private_use(text: str) -> bool:
    # GB18030's user-defined areas decode to the Private Use Area; real rosters never contain it, but
    # Latin-1 or other junk read as GB18030 often lands there.
    return any("\ue000" <= c <= "\uf8ff" for c in text)


# --- JSON ------------------------------------------------------------------------------------------------


def _json_rows(path: Path, progress: Progress | None) -> tuple[dict[str, str], Iterator[_Raw]]:
    try:
        doc = json.loads(path.read_bytes().decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise RosterError(
            "roster_json_invalid",
            f"{path.name} 不是有效的 UTF-8 JSON：{e}",
            f"{path.name} is not valid UTF-8 JSON: {e}",
        ) from e
    rows = doc.get("rows") if isinstance(doc, dict) else doc
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        raise RosterError(
            "roster_json_shape",
            'JSON 名册应为行对象的列表，或 {"rows": [...]}',
            'a JSON roster must be a list of row objects, or {"rows": [...]}',
        )
    if progress is not None:
        progress.set_total(len(rows))
    return {}, _json_mapped(rows)


def _json_mapped(rows: list[dict[str, Any]]) -> Iterator[_Raw]:
    for number, row in enumerate(rows, start=1):
        mapped: dict[str, object] = {}
        for key, value in row.items():
            mapped[_ALIASES.get(_header_key(key), key)] = value
        yield number, mapped


# --- cell values -----------------------------------------------------------------------------------------


def _normalise(number: int, cells: Mapping[str, object], headers: Mapping[str, str]) -> RosterRow:
    fields: dict[str, object] = {}
    unparsed: set[str] = set()
    for name, raw in cells.items():
        if name not in COLUMNS:
            fields[name] = raw  # an unknown JSON key: the schema reports it
            continue
        value, ok = _CONVERTERS[name](raw)
        if not ok:
            unparsed.add(name)
        if value is not None:
            fields[name] = value
    if "work_type" not in fields:
        fields["work_type"] = NO_WORK_TYPE
    return RosterRow(number, fields, frozenset(unparsed), headers)


def _text(raw: object) -> str | None:
    if raw is None:
        return None
    s = str(raw).strip()
    return s or None


def _plain(raw: object) -> tuple[object, bool]:
    return _text(raw), True


def _name(raw: object) -> tuple[object, bool]:
    s = _text(raw)
    return (normalise_name(s) if s is not None else None), True


def _code(raw: object) -> tuple[object, bool]:
    s = _text(raw)
    return (unicodedata.normalize("NFKC", s).replace(" ", "") if s is not None else None), True


def _id_number(raw: object) -> tuple[object, bool]:
    if isinstance(raw, float) or (isinstance(raw, int) and len(str(raw)) > _ID_DIGITS_EXCEL_KEEPS):
        # Excel keeps 15 significant digits: an 18-digit ID stored as a number has already lost its end.
        return str(raw), False
    s = _text(raw)
    if s is None:
        return None, True
    return re.sub(r"\s", "", unicodedata.normalize("NFKC", s)).upper(), True


def _work_type(raw: object) -> tuple[object, bool]:
    s = _text(raw)
    return (NO_WORK_TYPE if s is None or s in _NO_WORK_TYPE_SPELLINGS else s), True


def parse_level(raw: object) -> int | None:
    """A level written as 3, 3.0, "3", "三级", "三级/高级工" or "高级工"; ``None`` when not recognisable.

    A whole number outside 1–5 is returned as is, so the schema reports it as out of range.
    """
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        return raw
    if isinstance(raw, float):
        return int(raw) if raw.is_integer() else None
    s = re.sub(r"\s", "", unicodedata.normalize("NFKC", str(raw))).casefold()
    if s.isdigit():
        return int(s)
    if s in _LEVEL_TITLES:
        return _LEVEL_TITLES[s]
    m = _LEVEL_TEXT.fullmatch(s)
    if m is None:
        return None
    level = _LEVEL_DIGITS[m.group(1)]
    title = m.group(2)
    return level if title is None or _LEVEL_TITLES[title] == level else None


def _level(raw: object) -> tuple[object, bool]:
    if _text(raw) is None:
        return None, True
    level = parse_level(raw)
    return (level, True) if level is not None else (str(raw).strip(), False)


def parse_date(raw: object) -> str | None:
    """A date cell, Excel serial number or typed date as ``YYYY-MM-DD``; ``None`` when not recognisable.

    Typed dates are only re-spelled, not checked: ``2025-02-30`` comes back as is for the schema to refuse.
    """
    if isinstance(raw, dt.datetime):
        return raw.date().isoformat()
    if isinstance(raw, dt.date):
        return raw.isoformat()
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        low, high = _EXCEL_SERIAL_RANGE
        return from_excel(raw).date().isoformat() if low <= raw <= high else None
    m = _DATE_TEXT.fullmatch(unicodedata.normalize("NFKC", str(raw)).strip())
    if m is None:
        return None
    year, month, day = (g for g in m.groups() if g is not None)
    return f"{year}-{int(month):02d}-{int(day):02d}"


def _date(raw: object) -> tuple[object, bool]:
    if _text(raw) is None:
        return None, True
    value = parse_date(raw)
    return (value, True) if value is not None else (str(raw).strip(), False)


_CONVERTERS: Final = {
    "holder_name": _name,
    "id_type": _plain,
    "id_number": _id_number,
    "occupation_code": _code,
    "occupation_name": _plain,
    "work_type": _work_type,
    "level": _level,
    "assessment_date": _date,
    "photo": _plain,
}
