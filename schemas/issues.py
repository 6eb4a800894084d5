"""The per-field validation finding (``Issue``) and the catalogue of its stable codes and messages.

Codes are part of the public contract: the issuer's roster report, the registry's review API and the tests
key on them, so each rule has exactly one code and codes are never renamed. Messages are written for a clerk
filling in a spreadsheet, in Chinese and English.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final


@dataclass(frozen=True)
class Issue:
    """One problem in a document: where (JSON pointer, ``""`` for the whole document), which rule, and why."""

    pointer: str
    code: str
    message_zh: str
    message_en: str


#: code -> (Chinese template, English template); templates use ``str.format`` fields.
MESSAGES: Final[dict[str, tuple[str, str]]] = {
    # Structural rules, mapped from JSON Schema keywords.
    "required": ("缺少必填字段", "required field is missing"),
    "type": ("类型应为{expected_zh}", "must be {expected_en}"),
    "enum": ("取值应为以下之一：{allowed}", "must be one of: {allowed}"),
    "too_long": ("最多 {limit} 个字符", "at most {limit} character(s)"),
    "too_short": ("至少 {limit} 个字符", "at least {limit} character(s)"),
    "pattern": ("格式不正确，示例：{example}", "wrong format, for example {example}"),
    "additional_property": ("不允许的字段", "field not allowed here"),
    "minimum": ("不能小于 {limit}", "must be at least {limit}"),
    "maximum": ("不能大于 {limit}", "must be at most {limit}"),
    "format": ("应为 YYYY-MM-DD 格式的真实日期", "must be a real date written YYYY-MM-DD"),
    "too_few_items": ("至少需要 {limit} 项", "needs at least {limit} item(s)"),
    "duplicate_items": ("存在重复项", "contains duplicate items"),
    # Identity documents.
    "id_format": ("证件号码格式不正确：{expected_zh}", "wrong ID number format: {expected_en}"),
    "id_birth_date": ("身份证出生日期不是真实日期", "birth date in the ID number is not a real date"),
    "id_check_char": ("身份证校验位错误", "wrong check character"),
    "uscc_format": (
        "统一社会信用代码应为 18 位数字或大写字母（不含 I、O、Z、S、V）",
        "unified social credit code must be 18 digits or capital letters (no I, O, Z, S, V)",
    ),
    "uscc_check_char": ("统一社会信用代码校验位错误", "wrong check character in unified social credit code"),
    # Occupation and names.
    "occupation_code_format": (
        "职业编码应为 d-dd-dd-dd（首位 1–8），示例：6-31-01-03",
        "occupation code must be d-dd-dd-dd (first digit 1–8), for example 6-31-01-03",
    ),
    "name_invalid": (
        "姓名只能由文字组成，各部分之间用间隔号“·”或（拉丁字母姓名）单个空格分隔",
        "a name may hold only letters, its parts separated by a middle dot “·” "
        "or, in Latin-script names, a single space",
    ),
    "name_not_normalised": (
        "姓名中的间隔号请使用“·”（U+00B7），并按 NFC 规范化",
        "write the name's middle dot as “·” (U+00B7), NFC-normalised",
    ),
    "text_invalid": (
        "不能含换行等控制字符，首尾不能有空格",
        "must not contain line breaks or other control characters, nor start or end with a space",
    ),
    # Certificate number (证书编号).
    "certno_length": (
        "证书编号应为 22 位，实际 {length} 位",
        "certificate number must be 22 characters, got {length}",
    ),
    "certno_category": (
        "证书编号首位应为机构类别 Y 或 S",
        "certificate number must start with the institution category Y or S",
    ),
    "certno_digits": (
        "证书编号第 2–22 位应全为数字",
        "certificate number characters 2–22 must all be digits",
    ),
    "certno_level": ("证书编号第 16 位等级码应为 1–5", "certificate number level digit (16th) must be 1–5"),
    "certno_serial": ("证书编号末 6 位流水号不能为 000000", "certificate number serial must not be 000000"),
    "certno_level_mismatch": (
        "证书编号中的等级码 {found} 与等级 {expected} 不符",
        "level digit {found} in the certificate number does not match level {expected}",
    ),
    "certno_year_mismatch": (
        "证书编号中的年份 {found} 与发证日期年份 {expected} 不符",
        "year {found} in the certificate number does not match the issue year {expected}",
    ),
    "certno_institution_mismatch": (
        "证书编号前 13 位 {found} 与机构代码 {expected} 不符",
        "first 13 characters {found} of the certificate number do not match institution code {expected}",
    ),
    # Institution records.
    "institution_code_mismatch": (
        "机构代码应等于 类别+全国机构代码+省份+站点 即 {expected}",
        "institution code must equal category + national code + province + site, i.e. {expected}",
    ),
    "scope_window": ("有效期截止日早于起始日 {valid_from}", "validity ends before it starts on {valid_from}"),
}


def describe_pointer_zh(pointer: str) -> str:
    """Where an issue is, in the words the Chinese messages use."""
    return f"第 {pointer} 字段" if pointer else "整个文档"


def describe_pointer_en(pointer: str) -> str:
    """Where an issue is, in the words the English messages use."""
    return pointer.removeprefix("/") if pointer else "document"


def make_issue(pointer: str, code: str, **params: object) -> Issue:
    """Build an ``Issue`` for ``code`` at ``pointer``, filling the catalogue templates with ``params``."""
    zh, en = MESSAGES[code]
    return Issue(
        pointer=pointer,
        code=code,
        message_zh=f"{describe_pointer_zh(pointer)}：{zh.format(**params)}",
        message_en=f"{describe_pointer_en(pointer)}: {en.format(**params)}",
    )


def pointer_of(parts: tuple[str | int, ...]) -> str:
    """RFC 6901 JSON pointer for a path of keys and indices."""
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)
