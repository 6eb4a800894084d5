"""Document validation: every issue code is reachable, all issues come back at once, examples validate."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from schemas import (
    ID_TYPES,
    LEVEL_NAMES,
    LEVEL_NAMES_EN,
    MESSAGES,
    Issue,
    SchemaError,
    SchemasError,
    load_schema,
    require_valid_certificate,
    require_valid_institution,
    require_valid_roster_row,
    structure,
    validate_certificate,
    validate_institution,
    validate_roster_row,
    vocabulary,
)

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
CERT: dict[str, Any] = json.loads((EXAMPLES / "certificate-typical.json").read_text(encoding="utf-8"))
ROW: dict[str, Any] = {
    "holder_name": "张三丰", "id_type": "居民身份证", "id_number": "11010519491231002X",
    "occupation_code": "6-31-01-03", "occupation_name": "电工", "work_type": "--", "level": 3,
    "assessment_date": "2026-11-20", "photo": "photos/zhang.jpg",
}  # fmt: skip
INSTITUTION: dict[str, Any] = {
    "code": "Y000011000001", "name": "中国国家铁路集团有限公司", "uscc": "91100000000013477B",
    "category": "Y", "national_code": "0000", "province": "11", "site": "000001",
    "scopes": [{"occupation_code": "6-31-01-03", "occupation_name": "电工", "work_types": ["--"],
                "levels": [3, 4, 5], "valid_from": "2026-01-01", "valid_until": "2030-12-31"}],
}  # fmt: skip

Validator = Callable[[object], list[Issue]]


def _with(base: dict[str, Any], **changes: Any) -> dict[str, Any]:
    doc = copy.deepcopy(base)
    for key, value in changes.items():
        if value is _DELETE:
            del doc[key]
        else:
            doc[key] = value
    return doc


_DELETE = object()


def _cn(number: str) -> dict[str, Any]:
    return _with(CERT, certificate_number=number)


def _scope(**changes: Any) -> dict[str, Any]:
    return _with(INSTITUTION, scopes=[_with(INSTITUTION["scopes"][0], **changes)])


CN = "/certificate_number"

# code -> (validator, document, pointer where the issue must appear)
CASES: dict[str, tuple[Validator, object, str]] = {
    "required": (validate_certificate, _with(CERT, holder_name=_DELETE), "/holder_name"),
    "type": (validate_certificate, _with(CERT, level="3"), "/level"),
    "enum": (validate_certificate, _with(CERT, id_type="身份证"), "/id_type"),
    "too_long": (validate_certificate, _with(CERT, holder_name="张" * 25), "/holder_name"),
    "too_short": (validate_certificate, _with(CERT, occupation_name=""), "/occupation_name"),
    "pattern": (validate_certificate, _with(CERT, institution_code="Y00001100000A"), "/institution_code"),
    "additional_property": (validate_certificate, _with(CERT, id_masked="1101**"), "/id_masked"),
    "minimum": (validate_certificate, _with(CERT, level=0), "/level"),
    "maximum": (validate_certificate, _with(CERT, status={"list": 0, "index": 2**20}), "/status/index"),
    "format": (validate_certificate, _with(CERT, issue_date="2026-02-30"), "/issue_date"),
    "too_few_items": (validate_institution, _scope(levels=[]), "/scopes/0/levels"),
    "duplicate_items": (validate_institution, _scope(levels=[3, 3]), "/scopes/0/levels"),
    "id_format": (validate_certificate, _with(CERT, id_number="11010519491231002x"), "/id_number"),
    "id_birth_date": (validate_roster_row, _with(ROW, id_number="110105194902300024"), "/id_number"),
    "id_check_char": (validate_certificate, _with(CERT, id_number="110105194912310021"), "/id_number"),
    "uscc_format": (validate_institution, _with(INSTITUTION, uscc="91100000000013477I"), "/uscc"),
    "uscc_check_char": (validate_institution, _with(INSTITUTION, uscc="91100000000013477C"), "/uscc"),
    "occupation_code_format": (
        validate_roster_row,
        _with(ROW, occupation_code="9-31-01-03"),
        "/occupation_code",
    ),
    "name_invalid": (validate_certificate, _with(CERT, holder_name="张三1"), "/holder_name"),
    "name_not_normalised": (validate_roster_row, _with(ROW, holder_name="买买提•艾力"), "/holder_name"),
    "text_invalid": (validate_certificate, _with(CERT, work_type="--\n"), "/work_type"),
    "certno_length": (validate_certificate, _cn("Y00001100000126300001"), CN),
    "certno_category": (validate_certificate, _cn("A000011000001263000001"), CN),
    "certno_digits": (validate_certificate, _cn("Y0000110000012630000O1"), CN),
    "certno_level": (validate_certificate, _cn("Y000011000001269000001"), CN),
    "certno_serial": (validate_certificate, _cn("Y000011000001263000000"), CN),
    "certno_level_mismatch": (validate_certificate, _with(CERT, level=4), CN),
    "certno_year_mismatch": (validate_certificate, _with(CERT, issue_date="2027-01-02"), CN),
    "certno_institution_mismatch": (
        validate_certificate,
        _with(CERT, institution_code="Y000011000002"),
        CN,
    ),
    "institution_code_mismatch": (validate_institution, _with(INSTITUTION, site="000002"), "/code"),
    "scope_window": (validate_institution, _scope(valid_until="2025-12-31"), "/scopes/0/valid_until"),
}


def test_every_code_has_a_case() -> None:
    assert set(CASES) == set(MESSAGES)


@pytest.mark.parametrize("code", sorted(CASES))
def test_code_is_reported_alone_at_its_pointer(code: str) -> None:
    validate, doc, pointer = CASES[code]
    issues = validate(doc)
    assert [(i.pointer, i.code) for i in issues] == [(pointer, code)]
    issue = issues[0]
    assert issue.message_zh.startswith(f"第 {pointer} 字段：")
    assert issue.message_en.startswith(f"{pointer[1:]}: ")
    assert "{" not in issue.message_zh + issue.message_en


def test_zh_and_en_messages_read_as_promised() -> None:
    issues = validate_certificate(_with(CERT, id_number="110105194912310021"))
    assert issues[0].message_zh == "第 /id_number 字段：身份证校验位错误"
    assert issues[0].message_en == "id_number: wrong check character"


@pytest.mark.parametrize(
    ("validate", "doc"),
    [(validate_certificate, CERT), (validate_roster_row, ROW), (validate_institution, INSTITUTION)],
)
def test_valid_documents_have_no_issues(validate: Validator, doc: dict[str, Any]) -> None:
    assert validate(doc) == []


@pytest.mark.parametrize("name", ["certificate-typical.json", "certificate-longest.json"])
def test_examples_validate(name: str) -> None:
    doc = json.loads((EXAMPLES / name).read_text(encoding="utf-8"))
    assert validate_certificate(doc) == []
    require_valid_certificate(doc)


def test_longest_example_is_at_every_limit() -> None:
    doc = json.loads((EXAMPLES / "certificate-longest.json").read_text(encoding="utf-8"))
    assert len(doc["holder_name"]) == vocabulary.HOLDER_NAME_MAX and "·" in doc["holder_name"]
    assert len(doc["work_type"]) == vocabulary.WORK_TYPE_MAX
    assert len(doc["occupation_name"]) == vocabulary.OCCUPATION_NAME_MAX
    assert len(doc["institution_name"]) == vocabulary.INSTITUTION_NAME_MAX
    assert len(doc["id_number"]) == vocabulary.OTHER_ID_MAX and doc["id_type"] != ID_TYPES[0]
    for key in ("holder_name", "work_type", "occupation_name", "institution_name", "id_number"):
        assert validate_certificate(_with(doc, **{key: doc[key] + "A"}))[0].code == "too_long"


def test_typical_example_is_as_described() -> None:
    assert len(CERT["holder_name"]) == 3
    assert (CERT["occupation_code"], CERT["work_type"], CERT["level"]) == ("6-31-01-03", "--", 3)
    assert LEVEL_NAMES[CERT["level"]] == "三级/高级工"


def test_all_issues_are_returned_at_once() -> None:
    doc = _with(CERT, holder_name="张三1", id_number="110105194912310021", level=9, extra=True)
    del doc["issue_date"]
    pointers = {(i.pointer, i.code) for i in validate_certificate(doc)}
    assert pointers == {
        ("/holder_name", "name_invalid"),
        ("/id_number", "id_check_char"),
        ("/level", "maximum"),
        ("/extra", "additional_property"),
        ("/issue_date", "required"),
    }


def test_several_missing_fields_each_reported_once() -> None:
    issues = validate_roster_row({"holder_name": "张三丰"})
    required = [i.pointer for i in issues if i.code == "required"]
    assert sorted(required) == sorted(set(required))
    assert len(required) == 7


@pytest.mark.parametrize("doc", [None, [], "{}", 3])
def test_non_objects_are_one_type_issue_at_the_root(doc: object) -> None:
    issues = validate_certificate(doc)
    assert [(i.pointer, i.code) for i in issues] == [("", "type")]
    assert issues[0].message_zh.startswith("整个文档：")


@pytest.mark.parametrize("level", [3.0, True])
def test_level_must_be_a_true_integer(level: object) -> None:
    assert [i.code for i in validate_certificate(_with(CERT, level=level))] == ["type"]


def test_length_counts_code_points_outside_the_bmp() -> None:
    assert validate_certificate(_with(CERT, holder_name="𠮷" * 24)) == []
    assert [i.code for i in validate_certificate(_with(CERT, holder_name="𠮷" * 25))] == ["too_long"]


@pytest.mark.parametrize(
    ("id_type", "number", "ok"),
    [
        ("护照", "E12345678", True),
        ("护照", "e12345678", False),
        ("港澳居民来往内地通行证", "H1234567(8)", True),
        ("外国人永久居留身份证", "A" * 30, True),
        ("护照", "A B", False),
    ],
)
def test_other_id_types(id_type: str, number: str, ok: bool) -> None:
    issues = validate_certificate(_with(CERT, id_type=id_type, id_number=number))
    assert (issues == []) is ok
    assert all(i.code == "id_format" for i in issues)


def test_work_type_dash_and_open_ended_scope() -> None:
    assert validate_institution(_scope(valid_until=_DELETE)) == []
    assert validate_institution(_scope(valid_until="2026-01-01")) == []


def test_pointer_escaping_of_unexpected_keys() -> None:
    issues = validate_certificate(_with(CERT, **{"a/b~c": 1}))
    assert [i.pointer for i in issues] == ["/a~1b~0c"]


@pytest.mark.parametrize(
    ("require", "doc"),
    [(require_valid_certificate, ROW), (require_valid_roster_row, CERT), (require_valid_institution, CERT)],
)
def test_require_raises_schema_error_with_every_issue(require: Callable[[object], None], doc: object) -> None:
    with pytest.raises(SchemaError) as caught:
        require(doc)
    assert caught.value.code == "schema_invalid"
    assert len(caught.value.issues) >= 2
    assert isinstance(caught.value, SchemasError)


def test_require_passes_valid_documents() -> None:
    require_valid_roster_row(ROW)
    require_valid_institution(INSTITUTION)


def test_schema_files_agree_with_vocabulary() -> None:
    defs = load_schema("defs")["$defs"]
    assert tuple(defs["id_type"]["enum"]) == ID_TYPES
    assert defs["holder_name"]["maxLength"] == vocabulary.HOLDER_NAME_MAX
    assert defs["work_type"]["maxLength"] == vocabulary.WORK_TYPE_MAX
    assert defs["occupation_name"]["maxLength"] == vocabulary.OCCUPATION_NAME_MAX
    assert defs["institution_name"]["maxLength"] == vocabulary.INSTITUTION_NAME_MAX
    assert defs["id_number"]["maxLength"] == vocabulary.OTHER_ID_MAX
    assert defs["status"]["properties"]["index"]["maximum"] == vocabulary.STATUS_INDEX_MAX
    assert set(LEVEL_NAMES) == set(LEVEL_NAMES_EN) == {1, 2, 3, 4, 5}


def _keywords(node: object) -> set[str]:
    if isinstance(node, dict):
        return set(node) | {k for v in node.values() for k in _keywords(v)}
    if isinstance(node, list):
        return {k for v in node for k in _keywords(v)}
    return set()


def test_every_assertion_keyword_in_the_schemas_has_an_issue_code() -> None:
    annotations = {"$schema", "$id", "$defs", "$ref", "title", "description", "examples", "x-error-code",
                   "properties", "items"}  # fmt: skip
    used = set().union(*(_keywords(load_schema(n)) for n in ("defs", *structure.SCHEMA_NAMES)))
    assertions = {k for k in used if k in _JSON_SCHEMA_KEYWORDS} - annotations
    assert assertions <= set(structure._BY_KEYWORD)


_JSON_SCHEMA_KEYWORDS = frozenset(
    {
        "type",
        "enum",
        "const",
        "required",
        "additionalProperties",
        "properties",
        "pattern",
        "maxLength",
        "minLength",
        "minimum",
        "maximum",
        "exclusiveMinimum",
        "exclusiveMaximum",
        "format",
        "minItems",
        "maxItems",
        "uniqueItems",
        "items",
        "oneOf",
        "anyOf",
        "allOf",
        "not",
        "if",
        "then",
        "else",
        "dependentRequired",
        "patternProperties",
        "propertyNames",
        "multipleOf",
        "contains",
    }
)


def test_unknown_schema_name_is_a_typed_error() -> None:
    with pytest.raises(SchemasError) as caught:
        load_schema("nope")
    assert caught.value.code == "unknown_schema"
