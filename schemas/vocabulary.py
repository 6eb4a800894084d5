"""Controlled vocabularies and length limits shared by the schemas, the credential codec and the UIs.

The length limits come from the QR size budget in DESIGN (typical certificate ≤ QR version 11 at level Q,
longest allowed fields ≤ version 16 at Q). Lengths count Unicode code points, which is also what JSON
Schema ``maxLength`` counts, so a name with 𠮷 (U+20BB7, outside the BMP) counts that character once.
The JSON schema files repeat these numbers; a test keeps them equal.
"""

from __future__ import annotations

from typing import Final

LEVEL_NAMES: Final[dict[int, str]] = {
    1: "一级/高级技师",
    2: "二级/技师",
    3: "三级/高级工",
    4: "四级/中级工",
    5: "五级/初级工",
}
LEVEL_NAMES_EN: Final[dict[int, str]] = {
    1: "Level 1 / Senior Technician",
    2: "Level 2 / Technician",
    3: "Level 3 / Senior Worker",
    4: "Level 4 / Intermediate Worker",
    5: "Level 5 / Junior Worker",
}

#: Identity document types in wire order: the wire code of ``ID_TYPES[i]`` is ``i + 1`` (1..6).
ID_TYPES: Final[tuple[str, ...]] = (
    "居民身份证",
    "护照",
    "港澳居民来往内地通行证",
    "台湾居民来往大陆通行证",
    "外国人永久居留身份证",
    "港澳台居民居住证",
)
RESIDENT_ID_TYPE: Final = ID_TYPES[0]

#: The work type (工种/职业方向) written when an occupation has none.
NO_WORK_TYPE: Final = "--"

HOLDER_NAME_MAX: Final = 24
WORK_TYPE_MAX: Final = 14
OCCUPATION_NAME_MAX: Final = 30
INSTITUTION_NAME_MAX: Final = 60
#: Non-resident identity document numbers: 1..30 of ``[A-Z0-9()-]``.
OTHER_ID_MAX: Final = 30
#: Status lists hold 2^20 entries; an index addresses one entry.
STATUS_INDEX_MAX: Final = 2**20 - 1

#: Why a certificate was revoked or suspended: the fixed categories an institution picks from
#: (code -> Chinese, English). The free text beside a category stays private to the registry; the
#: category and the date are what verifiers and the public query show.
STATUS_REASON_CATEGORIES: Final[dict[str, tuple[str, str]]] = {
    "issued_in_error": ("发放错误", "issued in error"),
    "fraud_found": ("发现舞弊或造假", "fraud found"),
    "holder_request": ("持证人申请", "at the holder's request"),
    "disciplinary": ("违规违纪处理", "disciplinary action"),
    "assessment_irregular": ("评价过程不规范", "irregularity in the assessment"),
    "under_investigation": ("调查核实中", "under investigation"),
    "other": ("其他", "other"),
}
