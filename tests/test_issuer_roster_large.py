"""A 100,000-row roster is validated while streaming, with a progress bar, in bounded memory."""

from __future__ import annotations

import datetime as dt
import io
import resource
from pathlib import Path

from issuer.progress import Progress
from issuer.roster import read_roster
from issuer.roster_validation import validate_rows
from schemas import resident_id_check_char

ROWS = 100_000
BAD_EVERY = 10_000
HEADER = "姓名,证件类型,证件号码,职业编码,职业名称,工种/职业方向,职业技能等级,评价日期\r\n"


def _write_roster(path: Path) -> None:
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        f.write(HEADER)
        for i in range(ROWS):
            born = dt.date(1960, 1, 1) + dt.timedelta(days=i // 1000)
            first17 = f"110105{born:%Y%m%d}{i % 1000:03d}"
            check = resident_id_check_char(first17)
            if i % BAD_EVERY == 0:
                check = "0" if check != "0" else "1"  # a wrong check character every 10,000 rows
            f.write(f"张伟,居民身份证,{first17}{check},6-31-01-03,电工,,{3 + i % 3},2025-06-18\r\n")


def test_hundred_thousand_rows_stream_in_bounded_memory(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    _write_roster(path)
    stream = io.StringIO()
    progress = Progress("校验 validate", stream=stream, force=True)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    problems = validate_rows(read_roster(path, progress=progress))
    progress.close()
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert [(p.row, p.code) for p in problems] == [
        (2 + i, "id_check_char") for i in range(0, ROWS, BAD_EVERY)
    ]
    assert progress.done == ROWS and progress.total == ROWS
    assert f"{ROWS}/{ROWS} rows 100%" in stream.getvalue()
    assert grown_mb < 200, f"peak memory grew by {grown_mb:.0f} MB"
