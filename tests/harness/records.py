"""The test institution every integration test, the deployment test and the benchmarks file:
electricians (6-31-01-03) with one open-ended scope. One builder, so a change to the filing
format is made once."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from schemas import uscc_check_char


def uscc(seed: int) -> str:
    """A unified social credit code with a valid GB 32100 check character, distinct per seed."""
    first17 = f"91110000{seed:09d}"
    return first17 + uscc_check_char(first17)


def institution_record(
    code: str = "Y000011000001",
    name: str = "中国国家铁路集团有限公司",
    *,
    levels: Sequence[int] = (3, 4, 5),
    valid_from: str = "2024-01-01",
) -> dict[str, Any]:
    """A valid filing whose parts agree with ``code`` (category, national code, province, site)."""
    return {
        "code": code,
        "name": name,
        "uscc": uscc(int(code[-6:])),
        "category": code[0],
        "national_code": code[1:5],
        "province": code[5:7],
        "site": code[7:13],
        "scopes": [
            {
                "occupation_code": "6-31-01-03",
                "occupation_name": "电工",
                "work_types": ["--"],
                "levels": list(levels),
                "valid_from": valid_from,
            }
        ],
    }
