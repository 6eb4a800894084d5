"""The public validators: schema first, then the rules JSON Schema cannot express, every issue at once.

Results are sorted by pointer then code, so the same document always yields the same list.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

from schemas.errors import SchemaError
from schemas.issues import Issue
from schemas.rules import certificate_number_issues, institution_issues, person_issues
from schemas.structure import structural_issues

_Rule = Callable[[Mapping[str, Any], set[str]], Iterator[Issue]]


def _validate(schema: str, rules: tuple[_Rule, ...], doc: object) -> list[Issue]:
    found = structural_issues(schema, doc)
    if isinstance(doc, Mapping):
        skip = {issue.pointer for issue in found}
        for rule in rules:
            found.extend(rule(doc, skip))
    return sorted(found, key=lambda i: (i.pointer, i.code))


def validate_certificate(doc: object) -> list[Issue]:
    """Every problem in a certificate (the input of ``skillpass credential encode``); ``[]`` if valid."""
    return _validate("certificate", (person_issues, certificate_number_issues), doc)


def validate_roster_row(doc: object) -> list[Issue]:
    """Every problem in one roster row (an assessment result before numbering); ``[]`` if valid."""
    return _validate("roster_row", (person_issues,), doc)


def validate_institution(doc: object) -> list[Issue]:
    """Every problem in an institution record with its scopes; ``[]`` if valid."""
    return _validate("institution", (institution_issues,), doc)


def _require(issues: list[Issue]) -> None:
    if issues:
        raise SchemaError(issues)


def require_valid_certificate(doc: object) -> None:
    """Raise ``SchemaError`` listing every problem unless ``doc`` is a valid certificate."""
    _require(validate_certificate(doc))


def require_valid_roster_row(doc: object) -> None:
    """Raise ``SchemaError`` listing every problem unless ``doc`` is a valid roster row."""
    _require(validate_roster_row(doc))


def require_valid_institution(doc: object) -> None:
    """Raise ``SchemaError`` listing every problem unless ``doc`` is a valid institution record."""
    _require(validate_institution(doc))
