"""The demo's directory: the notice's eighteen first-batch pilot enterprises as category ``Y``
evaluation institutions, with scopes limited to occupations whose national classification codes we
can cite, and a sample roster for each of the first few.

The enterprises are real; their unified social credit codes here are NOT their real ones: they are
generated with a valid GB 32100 check character so the demo never presents made-up data as fact.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from schemas.checks import resident_id_check_char, uscc_check_char

# The first-batch pilot enterprises, exactly as the annex (附件) of notice 人社厅发〔2018〕148号 lists them
# (docs/sources/notice-2018-148.txt), in its order; tests/test_demo_pilots.py checks this list against it.
PILOT_ENTERPRISES: tuple[str, ...] = (
    "中国国家铁路集团有限公司",
    "中国核工业集团有限公司",
    "中国航天科技集团有限公司",
    "中国航天科工集团有限公司",
    "中国航空工业集团有限公司",
    "中国船舶工业集团有限公司",
    "中国船舶重工集团有限公司",
    "中国兵器工业集团有限公司",
    "中国兵器装备集团有限公司",
    "中国石油天然气集团有限公司",
    "中国石油化工集团有限公司",
    "中国海洋石油集团有限公司",
    "中国建筑集团有限公司",
    "中国中车集团有限公司",
    "中国铁路通信信号集团有限公司",
    "中国中铁股份有限公司",
    "中国铁道建筑有限公司",
    "中国交通建设集团有限公司",
)

# 职业分类大典 (2022) codes: 电工, 焊工, 车工.
OCCUPATIONS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("6-31-01-03", "电工", ("--",)),
    ("6-18-02-04", "焊工", ("--",)),
    ("6-18-01-01", "车工", ("--",)),
)
PROVINCE_BEIJING = "11"
SITE = "000001"

_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
_GIVEN = ("建国", "秀英", "志强", "丽娟", "海涛", "晓明", "春燕", "伟", "静", "磊", "𠮷祥", "国庆")


@dataclass(frozen=True)
class Pilot:
    """One demo institution."""

    index: int
    name: str

    @property
    def national_code(self) -> str:
        return f"{self.index:04d}"

    @property
    def code(self) -> str:
        return f"Y{self.national_code}{PROVINCE_BEIJING}{SITE}"

    @property
    def uscc(self) -> str:
        first17 = f"91110000{700000000 + self.index * 7919:09d}"
        return first17 + uscc_check_char(first17)

    def record(self, valid_from: date) -> dict[str, Any]:
        """The institution record the registry's admin files."""
        return {
            "code": self.code,
            "name": self.name,
            "uscc": self.uscc,
            "category": "Y",
            "national_code": self.national_code,
            "province": PROVINCE_BEIJING,
            "site": SITE,
            "scopes": [
                {
                    "occupation_code": code,
                    "occupation_name": name,
                    "work_types": list(work_types),
                    "levels": [3, 4, 5],
                    "valid_from": valid_from.isoformat(),
                }
                for code, name, work_types in OCCUPATIONS
            ],
        }


def pilots() -> list[Pilot]:
    """All eighteen, numbered 0001–0018."""
    return [Pilot(i + 1, name) for i, name in enumerate(PILOT_ENTERPRISES)]


def sample_roster(pilot: Pilot, rows: int, assessed: date) -> list[dict[str, Any]]:
    """Deterministic roster rows for one institution, with valid resident ID numbers."""
    out = []
    for n in range(rows):
        birth = date(1975, 1, 1) + timedelta(days=(pilot.index * 997 + n * 3613) % 9000)
        first17 = f"110105{birth:%Y%m%d}{(pilot.index * 31 + n) % 1000:03d}"
        code, name, _ = OCCUPATIONS[n % len(OCCUPATIONS)]
        out.append(
            {
                "holder_name": _SURNAMES[(pilot.index + n) % len(_SURNAMES)] + _GIVEN[n % len(_GIVEN)],
                "id_type": "居民身份证",
                "id_number": first17 + resident_id_check_char(first17),
                "occupation_code": code,
                "occupation_name": name,
                "work_type": "--",
                "level": 3 + n % 3,
                "assessment_date": assessed.isoformat(),
            }
        )
    return out
