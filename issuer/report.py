"""The validation report: a CSV the assessment office opens in Excel, and the same list for the terminal.

The CSV is UTF-8 *with* a byte-order mark: without it Excel on Chinese Windows reads UTF-8 as GBK and shows
mojibake. Rows are sorted by row number so the office can walk its spreadsheet top to bottom.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Final

from issuer.roster_validation import RowProblem

REPORT_HEADER: Final = ("行/row", "列/column", "代码/code", "问题", "problem")
_TERMINAL_LIMIT: Final = 50


def _ordered(problems: Sequence[RowProblem]) -> list[RowProblem]:
    return sorted(problems, key=lambda p: p.row)


def write_report_csv(problems: Sequence[RowProblem], path: Path) -> None:
    """Write the report (header row even when there are no problems), atomically."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with tmp.open("w", encoding="utf-8-sig", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(REPORT_HEADER)
        for p in _ordered(problems):
            writer.writerow((p.row, p.column, p.code, p.message_zh, p.message_en))
    tmp.replace(path)


def format_report(problems: Sequence[RowProblem], *, limit: int = _TERMINAL_LIMIT) -> str:
    """A short bilingual summary and the first ``limit`` problems, one per line."""
    if not problems:
        return "名册校验通过，没有发现问题。 / The roster passed validation: no problems found."
    rows = len({p.row for p in problems})
    lines = [
        f"名册有 {len(problems)} 处问题，涉及 {rows} 行。 / {len(problems)} problem(s) in {rows} row(s)."
    ]
    for p in _ordered(problems)[:limit]:
        where = f"第 {p.row} 行" + (f"「{p.column}」" if p.column else "")
        lines.append(f"  {where} [{p.code}] {p.message_zh} / {p.message_en}")
    if len(problems) > limit:
        rest = len(problems) - limit
        lines.append(f"  …… 另有 {rest} 处，见报告 CSV。 / … and {rest} more, see the report CSV.")
    return "\n".join(lines)
