"""The bulk verification report: one row per certificate found, as CSV or XLSX.

The CLI (``skillpass verify FILE... --report out.xlsx``) and the page's download both build it
here from batch results (verdict JSON plus ``source``), so the two files an HR clerk may receive
have the same columns and the same words.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any, Final

from verifier.messages import OUTCOME_LABELS

__all__ = ["COLUMNS", "report_csv", "report_rows", "report_xlsx", "where"]

#: (heading, how to read it from a result) in report order; headings in Chinese and English.
COLUMNS: Final[tuple[str, ...]] = (
    "序号 No.",
    "结果 Outcome",
    "代码 Code",
    "证书编号 Certificate number",
    "姓名 Name",
    "发证机构 Institution",
    "等级 Level",
    "职业 Occupation",
    "原因 Reason",
    "来源 Found in",
    "SHA-256",
)


def where(source: dict[str, Any]) -> str:
    """Where in the upload a certificate was found: ``file › member · 第 3 页 · 第 2 个 · 第 5 行``."""
    parts = [str(source.get("file", ""))]
    if source.get("member"):
        parts[0] += f" › {source['member']}"
    if source.get("page"):
        parts.append(f"第 {source['page']} 页 page {source['page']}")
    if source.get("index"):
        parts.append(f"第 {source['index']} 个 code {source['index']}")
    if source.get("row"):
        parts.append(f"第 {source['row']} 行 row {source['row']}")
    return " · ".join(parts)


def report_rows(results: Iterable[dict[str, Any]]) -> list[list[str]]:
    """One list of cells per result, in ``COLUMNS`` order."""
    rows = []
    for number, result in enumerate(results, start=1):
        credential = result.get("credential") or {}
        institution = result.get("institution") or {}
        label = result.get("outcome_label") or {}  # an outcome of another kind (a registry lookup)
        zh, en = OUTCOME_LABELS.get(
            str(result.get("outcome")), (label.get("zh", result.get("outcome")), label.get("en", ""))
        )
        occupation = " ".join(
            str(part)
            for part in (credential.get("occupation_code"), credential.get("occupation_name"))
            if part
        )
        rows.append(
            [
                str(number),
                f"{zh} {en}".strip(),
                str(result.get("code", "")),
                str(credential.get("certificate_number", "")),
                str(credential.get("holder_name", "")),
                str(institution.get("name", "")),
                str(credential.get("level_name", "")),
                occupation,
                "" if result.get("outcome") == "valid" else f"{result.get('message_zh', '')}",
                where(result.get("source") or {}),
                str(result.get("sha256", "")),
            ]
        )
    return rows


def report_csv(results: Sequence[dict[str, Any]]) -> bytes:
    """UTF-8 with a byte order mark, so that Excel opens the Chinese correctly."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for row in report_rows(results):
        writer.writerow([_no_formula(cell) for cell in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def report_xlsx(results: Sequence[dict[str, Any]]) -> bytes:
    """One sheet, headings bold and frozen, the outcome column first after the row number."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    sheet.title = "核验结果 results"
    sheet.append(list(COLUMNS))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in report_rows(results):
        sheet.append([_no_formula(cell) for cell in row])
    sheet.freeze_panes = "A2"
    for letter, width in zip("ABCDEFGHIJK", (6, 22, 18, 26, 10, 28, 16, 20, 50, 36, 66), strict=True):
        sheet.column_dimensions[letter].width = width
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _no_formula(cell: str) -> str:
    """A cell an uploader controls (a file name, a QR text) must never run as a spreadsheet formula."""
    return "'" + cell if cell[:1] in ("=", "+", "-", "@", "\t", "\r") else cell
