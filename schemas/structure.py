"""Structural validation: the JSON Schema files in this package, applied with jsonschema, as ``Issue`` lists.

Validators are compiled once, on first use. Every jsonschema error becomes one ``Issue`` with a stable code;
a missing or unexpected property is reported at its own pointer (``/holder_name``) rather than at the
enclosing object, so a clerk sees the field to fix.
"""

from __future__ import annotations

import copy
import functools
import json
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any, Final

from jsonschema import Draft202012Validator, FormatChecker, ValidationError, validators

from schemas.errors import SchemasError
from schemas.issues import Issue, make_issue, pointer_of

SCHEMA_NAMES: Final = ("certificate", "roster_row", "institution")
_SHARED: Final = ("defs",)

_TYPE_WORDS: Final[dict[str, tuple[str, str]]] = {
    "string": ("文本", "text"),
    "integer": ("整数", "a whole number"),
    "number": ("数字", "a number"),
    "object": ("对象", "an object"),
    "array": ("列表", "a list"),
    "boolean": ("布尔值", "true or false"),
    "null": ("空值", "null"),
}


def _read(name: str) -> dict[str, Any]:
    text = resources.files(__package__).joinpath(f"{name}.schema.json").read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


def _is_strict_integer(_checker: object, instance: object) -> bool:
    # JSON Schema calls 3.0 an integer; we do not, so a float never reaches the CBOR encoder as a level.
    return isinstance(instance, int) and not isinstance(instance, bool)


_StrictValidator: Final = validators.extend(
    Draft202012Validator,
    type_checker=Draft202012Validator.TYPE_CHECKER.redefine("integer", _is_strict_integer),
)


@functools.cache
def _validator(name: str) -> Any:
    schema = _read(name)
    Draft202012Validator.check_schema(schema)
    return _StrictValidator(_inlined(schema, schema), format_checker=FormatChecker(formats=["date"]))


def _inlined(node: Any, document: dict[str, Any]) -> Any:
    """``node`` with every ``$ref`` replaced by the schema it names (``defs.json#/$defs/…`` or the
    document's own ``#/$defs/…``). Following a reference costs jsonschema a registry look-up on
    every instance: a valid roster row took 0.7 ms of CPU with them, 0.13 ms inlined; our
    references are plain (no recursion, no sibling keywords), so inlining them validates the same and
    reports the same errors (tests/test_schemas_inlined.py)."""
    if isinstance(node, list):
        return [_inlined(item, document) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        if len(node) != 1:
            raise AssertionError(f"a $ref with sibling keywords is not inlined: {node}")
        return _inlined(_target(node["$ref"], document), document)
    return {key: _inlined(value, document) for key, value in node.items()}


def _target(ref: str, document: dict[str, Any]) -> Any:
    """The schema a reference names: ``defs.json#/$defs/NAME`` or ``#/$defs/NAME``."""
    source, _, pointer = ref.partition("#/$defs/")
    defs = _read("defs") if source == "defs.json" else document if source == "" else None
    if defs is None or not pointer or "/" in pointer:
        raise AssertionError(f"a $ref this package does not use: {ref}")
    return defs["$defs"][pointer]


def load_schema(name: str) -> dict[str, Any]:
    """A copy of a JSON Schema document: ``certificate``, ``roster_row``, ``institution`` or ``defs``."""
    if name not in (*SCHEMA_NAMES, *_SHARED):
        raise SchemasError("unknown_schema", f"没有名为 {name} 的模式", f"no schema named {name}")
    return copy.deepcopy(_read(name))


def _type_issue(at: str, error: ValidationError) -> Iterator[Issue]:
    wanted = error.validator_value if isinstance(error.validator_value, list) else [error.validator_value]
    words = [_TYPE_WORDS.get(w, (w, w)) for w in wanted]
    yield make_issue(
        at,
        "type",
        expected_zh="或".join(zh for zh, _ in words),
        expected_en=" or ".join(en for _, en in words),
    )


def _required_issues(at: str, error: ValidationError) -> Iterator[Issue]:
    instance = error.instance
    for prop in error.validator_value:
        if prop not in instance:
            yield make_issue(pointer_of((*error.absolute_path, prop)), "required")


def _additional_issues(at: str, error: ValidationError) -> Iterator[Issue]:
    allowed = error.schema.get("properties", {})
    for prop in sorted(k for k in error.instance if k not in allowed):
        yield make_issue(pointer_of((*error.absolute_path, prop)), "additional_property")


def _pattern_issue(at: str, error: ValidationError) -> Iterator[Issue]:
    code = error.schema.get("x-error-code", "pattern")
    yield make_issue(at, code, example=(error.schema.get("examples") or ["—"])[0])


def _enum_issue(at: str, error: ValidationError) -> Iterator[Issue]:
    yield make_issue(at, "enum", allowed=", ".join(str(v) for v in error.validator_value))


def _simple(code: str) -> Callable[[str, ValidationError], Iterator[Issue]]:
    def issues(at: str, error: ValidationError) -> Iterator[Issue]:
        yield make_issue(at, code, limit=error.validator_value)

    return issues


#: Every assertion keyword our schema files use has an entry; a test keeps it so.
_BY_KEYWORD: Final[dict[str, Callable[[str, ValidationError], Iterator[Issue]]]] = {
    "type": _type_issue,
    "required": _required_issues,
    "additionalProperties": _additional_issues,
    "pattern": _pattern_issue,
    "enum": _enum_issue,
    "maxLength": _simple("too_long"),
    "minLength": _simple("too_short"),
    "minimum": _simple("minimum"),
    "maximum": _simple("maximum"),
    "format": _simple("format"),
    "minItems": _simple("too_few_items"),
    "uniqueItems": _simple("duplicate_items"),
}


def structural_issues(name: str, doc: object) -> list[Issue]:
    """Every schema violation of ``doc`` against the schema ``name``, one ``Issue`` per field and rule."""
    if _passes_by_field(name, doc):
        return []
    return _every_issue(name, doc)


def _every_issue(name: str, doc: object) -> list[Issue]:
    found: list[Issue] = []
    for error in _validator(name).iter_errors(doc):
        at = pointer_of(tuple(error.absolute_path))
        found.extend(_BY_KEYWORD[str(error.validator)](at, error))
    # jsonschema reports each missing property as its own error on the parent; keep one issue per field.
    return list(dict.fromkeys(found))


# The gate. jsonschema walks a document keyword by keyword and builds a validator for each property it
# descends into: ~0.13 ms for a valid roster row, which at 10,000 rows a batch is paid twice (by the
# issuer before submitting, by the registry on receiving). Our three schemas are flat objects (type,
# required, no additional properties, one subschema per property), so a document is valid exactly when
# its keys are allowed and present and each value passes its own property's subschema, and values repeat
# from row to row (codes, occupations, levels, dates): each (property, value) is judged once and
# remembered. A document the gate refuses goes through the whole validator for the exact issues.

_FLAT_OBJECT_KEYWORDS: Final = frozenset(
    {"type", "required", "additionalProperties", "properties"}
    | {"$schema", "$id", "$defs", "title", "description"}  # no effect on validation once inlined
)


@dataclass(frozen=True)
class _Gate:
    """A flat object schema taken apart: its required and allowed keys, one compiled validator per key,
    and for a plain string property (``_plain_string``) a direct check instead."""

    required: frozenset[str]
    fields: Mapping[str, Any]
    plain: Mapping[str, Callable[[object], bool]]


@functools.cache
def _gate(name: str) -> _Gate | None:
    """The gate of schema ``name``; None (always the whole validator) for a schema that is not flat."""
    schema = _read(name)
    if (
        not set(schema) <= _FLAT_OBJECT_KEYWORDS
        or schema.get("type") != "object"
        or schema.get("additionalProperties") is not False
    ):
        return None
    checker = FormatChecker(formats=["date"])
    subschemas = {key: _inlined(sub, schema) for key, sub in schema.get("properties", {}).items()}
    fields = {key: _StrictValidator(sub, format_checker=checker) for key, sub in subschemas.items()}
    plain = {key: check for key, sub in subschemas.items() if (check := _plain_string(sub)) is not None}
    return _Gate(frozenset(schema.get("required", ())), fields, plain)


def _passes_by_field(name: str, doc: object) -> bool:
    """Whether ``doc`` is valid, judged key by key (False also when the gate cannot tell)."""
    gate = _gate(name)
    if gate is None or not isinstance(doc, dict):
        return False
    if not gate.required <= doc.keys() or not doc.keys() <= gate.fields.keys():
        return False
    plain = gate.plain
    try:
        return all(
            plain[key](value) if key in plain else _value_passes(name, key, type(value).__name__, value)
            for key, value in doc.items()
        )
    except TypeError:  # an unhashable value (a list or an object): judged without remembering
        return all(gate.fields[key].is_valid(value) for key, value in doc.items())


@functools.lru_cache(maxsize=16_384)
def _value_passes(name: str, key: str, kind: str, value: object) -> bool:
    # ``kind`` is part of the key because 1 == 1.0 == True hash alike and the schema tells them apart.
    gate = _gate(name)
    assert gate is not None
    return bool(gate.fields[key].is_valid(value))


# Remembering a verdict pays for values that repeat (codes, levels, dates), not for those nearly every row
# has its own (a name, an ID number, a photo's file name): those missed the memo, and jsonschema took
# ~30 us each. A subschema of these keywords alone is a plain string check, written here as jsonschema
# reads the keywords: a ``str``, ``len`` in code points, ``re.search`` for the pattern, equality for enum.
_PLAIN_STRING_KEYWORDS: Final = frozenset(
    {"type", "minLength", "maxLength", "pattern", "enum"}
    | {"title", "description", "examples", "x-error-code"}  # no effect on validation
)


def _plain_string(sub: Any) -> Callable[[object], bool] | None:
    """A direct check equal to ``sub`` when it is a plain string subschema, else None."""
    if not isinstance(sub, dict) or not set(sub) <= _PLAIN_STRING_KEYWORDS or sub.get("type") != "string":
        return None
    shortest, longest = sub.get("minLength", 0), sub.get("maxLength")
    pattern = re.compile(sub["pattern"]) if "pattern" in sub else None
    allowed = frozenset(sub["enum"]) if "enum" in sub else None
    if not all(isinstance(v, str) for v in allowed or ()):
        return None

    def check(value: object) -> bool:
        return (
            isinstance(value, str)
            and shortest <= len(value)
            and (longest is None or len(value) <= longest)
            and (pattern is None or pattern.search(value) is not None)
            and (allowed is None or value in allowed)
        )

    return check
