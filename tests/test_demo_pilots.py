"""The demo registers exactly the first-batch pilot enterprises of notice 人社厅发〔2018〕148号."""

from __future__ import annotations

import re
from pathlib import Path

from skillpass.demo.pilots import pilots

NOTICE = Path(__file__).resolve().parents[1] / "docs" / "sources" / "notice-2018-148.txt"


def _annex_names() -> list[str]:
    """The names listed under the notice's 附件 heading, in order (一、… 十八、)."""
    annex = NOTICE.read_text(encoding="utf-8").split("首批职业技能等级认定试点机构名单")[-1]
    return re.findall(r"^- [一二三四五六七八九十]+、(\S+)\s*$", annex, flags=re.MULTILINE)


def test_the_notice_annex_lists_eighteen_enterprises() -> None:
    names = _annex_names()
    assert len(names) == 18
    assert (names[0], names[-1]) == ("中国国家铁路集团有限公司", "中国交通建设集团有限公司")


def test_demo_pilots_are_the_notice_annex_in_order_with_its_names() -> None:
    assert [pilot.name for pilot in pilots()] == _annex_names()


def test_demo_pilot_codes_are_distinct_and_numbered_in_annex_order() -> None:
    codes = [pilot.code for pilot in pilots()]
    assert len(set(codes)) == 18
    assert [pilot.national_code for pilot in pilots()] == [f"{n:04d}" for n in range(1, 19)]
