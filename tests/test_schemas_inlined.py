"""The validators follow no ``$ref`` at run time: ``schemas.structure`` inlines every reference once.
Here generated documents (valid ones with one field replaced, removed or added) get exactly the
errors a validator following the references through ``referencing``, as jsonschema does by itself,
reports for them; and the gate that judges a document field by field, remembering the values that passed,
gives exactly the issues of the whole validator."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from harness.records import institution_record
from hypothesis import given
from hypothesis import strategies as st
from jsonschema import FormatChecker, ValidationError
from referencing import Registry, Resource
from test_registry_support import roster_row

from schemas import load_schema
from schemas import structure as schema_structure

_NAMES = ("certificate", "roster_row", "institution")
_VALID: dict[str, dict[str, Any]] = {
    "certificate": json.loads(
        (Path(__file__).parents[1] / "examples" / "certificate-typical.json").read_text(encoding="utf-8")
    ),
    "roster_row": dict(roster_row(1)),
    "institution": institution_record(),
}
_SCALARS = (
    st.none() | st.booleans() | st.integers(-10, 10**7) | st.text(max_size=70) | st.floats(allow_nan=False)
)
_VALUES = st.recursive(_SCALARS, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3), max_leaves=6)  # fmt: skip


def _following_references(name: str) -> Any:
    documents = [load_schema(n) for n in ("defs", *_NAMES)]
    registry: Registry[Any] = Registry().with_resources(
        (d["$id"], Resource.from_contents(d)) for d in documents
    )
    return schema_structure._StrictValidator(
        load_schema(name), registry=registry, format_checker=FormatChecker(formats=["date"])
    )


_REFERENCE = {name: _following_references(name) for name in _NAMES}


def _errors(validator: Any, doc: object) -> list[tuple[str, str, str, str]]:
    def key(e: ValidationError) -> tuple[str, str, str, str]:
        return (
            json.dumps(list(e.absolute_path)),
            str(e.validator),
            repr(e.validator_value),
            repr(e.instance),
        )

    return sorted(key(e) for e in validator.iter_errors(doc))


@st.composite
def _altered(draw: st.DrawFn) -> tuple[str, dict[str, object]]:
    """A schema's name and its valid example with one field replaced by any value, removed or added."""
    name = draw(st.sampled_from(_NAMES))
    doc = dict(_VALID[name])
    field = draw(st.sampled_from(sorted(doc)) | st.text(max_size=20))
    if draw(st.booleans()):
        doc.pop(field, None)
    else:
        doc[field] = draw(_VALUES)
    return name, doc


@given(_altered())
def test_inlined_references_report_what_followed_ones_do(altered: tuple[str, dict[str, object]]) -> None:
    name, doc = altered
    assert _errors(schema_structure._validator(name), doc) == _errors(_REFERENCE[name], doc)


def test_valid_documents_stay_valid_and_a_referenced_rule_still_bites() -> None:
    for name in _NAMES:
        assert _errors(schema_structure._validator(name), _VALID[name]) == []
    wrong_level = dict(_VALID["roster_row"], level=9)  # `level` is a reference to defs.json
    [(path, keyword, _, _)] = _errors(schema_structure._validator("roster_row"), wrong_level)
    assert (path, keyword) == ('["level"]', "maximum")


@given(_altered())
def test_the_field_by_field_gate_gives_the_whole_validators_issues(
    altered: tuple[str, dict[str, object]],
) -> None:
    name, doc = altered
    assert schema_structure.structural_issues(name, doc) == schema_structure._every_issue(name, doc)


@pytest.mark.parametrize(
    "changes",
    [{}, {"level": 0}, {"level": True}, {"level": 3.0}, {"holder_name": ""}, {"holder_name": "A  B"},
     {"id_number": "11010519850312001x"}, {"id_type": "驾照"}, {"assessment_date": "2025-02-30"},
     {"occupation_code": "9-31-01-03"}, {"work_type": "x" * 15}, {"photo": ""}, {"extra": 1},
     {"holder_name": None}, {"occupation_name": " 电工"}, {"id_type": "护照", "id_number": "e123"}],
)  # fmt: skip
def test_the_gate_remembers_values_by_type_too(changes: dict[str, Any]) -> None:
    """Each case after a valid row (whose values the gate now remembers): 3, 3.0 and True hash alike."""
    assert schema_structure.structural_issues("roster_row", _VALID["roster_row"]) == []
    doc = {**_VALID["roster_row"], **changes}
    assert schema_structure.structural_issues("roster_row", doc) == schema_structure._every_issue(
        "roster_row", doc
    )


_EDGES = ["", "a", "王" * 24, "王" * 25, "𠮷" * 14, "𠮷" * 15, "x" * 255, "x" * 256, "居民身份证", "护照 ",
          "6-31-01-03", "6-31-01-03\n", "6-31-01-0", "Y000011000001", "Y0000110000012", "0001", "11", "000001",
          "91350100M000100Y43", "91350100I000100Y43", 3, 3.0, True, None, ["x"], {"x": 1}]  # fmt: skip


@pytest.mark.parametrize("name", _NAMES)
def test_a_plain_string_property_is_checked_directly_as_jsonschema_checks_it(name: str) -> None:
    """Names, ID numbers, photos' file names (a value nearly every row has its own) are judged by a direct
    check, not remembered: at lengths on either side of each limit, in characters beyond the BMP, against
    each pattern (``$`` before a final newline, as ``re.search`` reads it) and each enum, and for values
    that are not strings, it answers as the property's own validator does."""
    gate = schema_structure._gate(name)
    assert gate is not None
    assert {"holder_name", "id_number"} <= gate.plain.keys() or name == "institution"
    for key, check in gate.plain.items():
        for value in _EDGES:
            assert check(value) == gate.fields[key].is_valid(value), (name, key, value)


@given(st.sampled_from(_NAMES), st.text(max_size=64))
def test_plain_string_checks_agree_with_jsonschema_on_any_text(name: str, text: str) -> None:
    gate = schema_structure._gate(name)
    assert gate is not None
    for key, check in gate.plain.items():
        assert check(text) == gate.fields[key].is_valid(text), (name, key, text)
