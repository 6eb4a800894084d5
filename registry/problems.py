"""Review findings beyond the schema: the registry's own per-row problem codes, in the schemas'
``Issue`` shape (pointer, code, zh-CN and English message) so a batch report reads as one list."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

PROBLEMS: dict[str, tuple[str, str]] = {
    "not_an_object": ("名册行必须是 JSON 对象", "a roster row must be a JSON object"),
    "institution_not_active": (
        "评价日期时机构不处于正常状态",
        "the institution was not active on the assessment date",
    ),
    "institution_not_active_at_issue": (
        "发证日期时机构不处于正常状态",
        "the institution is not active on the issue date",
    ),
    "out_of_scope": (
        "该职业、等级或工种不在机构备案的评价范围内（评价日期）",
        "occupation, level or work type outside the institution's filed scope on the assessment date",
    ),
    "out_of_scope_at_issue": (
        "发证日期时该职业、等级或工种不在机构备案的评价范围内",
        "occupation, level or work type outside the institution's filed scope on the issue date",
    ),
    "occupation_name_mismatch": (
        "职业名称与备案的名称不一致",
        "the occupation name differs from the filed name",
    ),
    "duplicate_in_batch": (
        "同一批次中该人员的同一职业和等级重复",
        "the same holder, occupation and level appear twice in this batch",
    ),
    "duplicate_certified": (
        "该人员已持有同一职业和等级的证书",
        "the holder already has a certificate for this occupation and level",
    ),
}


def issues_json(issues: Iterable[Any]) -> list[dict[str, Any]]:
    """The ``schemas`` checkers' issues as JSON findings (the same shape as ``problem``)."""
    return [
        {"pointer": i.pointer, "code": i.code, "message_zh": i.message_zh, "message_en": i.message_en}
        for i in issues
    ]


def problem(pointer: str, code: str) -> dict[str, Any]:
    """One finding as JSON."""
    zh, en = PROBLEMS[code]
    return {"pointer": pointer, "code": code, "message_zh": zh, "message_en": en}
