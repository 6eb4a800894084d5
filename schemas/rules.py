"""Rules beyond JSON Schema: check characters, names, free-text hygiene and cross-field agreement.

Each rule looks only at fields that passed the schema (``skip`` holds the pointers that did not), so one bad
field yields one issue, not a cascade, while independent problems are all reported together.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any, Final

from schemas.certno import INSTITUTION_CODE_LENGTH, LEVEL_DIGIT, YEAR_DIGITS, check_certificate_number
from schemas.checks import resident_id_problem, text_is_clean, uscc_is_valid
from schemas.errors import CertificateNumberError
from schemas.issues import Issue, make_issue, pointer_of
from schemas.names import name_is_valid, name_is_valid_after_normalising
from schemas.vocabulary import RESIDENT_ID_TYPE

_OTHER_ID: Final = re.compile(r"[A-Z0-9()\-]{1,30}")
_ID_SHAPES: Final = {
    "resident": (
        "18 位，前 17 位为数字，末位为数字或大写 X",
        "18 characters: 17 digits, then a digit or capital X",
    ),
    "other": ("1–30 位大写字母、数字、括号或连字符", "1–30 capital letters, digits, brackets or hyphens"),
}
_FREE_TEXT: Final = ("occupation_name", "work_type", "institution_name", "photo")

Doc = Mapping[str, Any]


def _field(doc: Doc, key: str, skip: set[str], kind: type, base: tuple[str | int, ...] = ()) -> Any:
    """``doc[key]`` when present, of ``kind`` and structurally valid; otherwise ``None``. (The pointer is
    only built when there is something to skip: signing checks every certificate with nothing to skip.)"""
    value = doc.get(key)
    if not isinstance(value, kind) or isinstance(value, bool) or (skip and pointer_of((*base, key)) in skip):
        return None
    return value


def _name_issues(doc: Doc, skip: set[str]) -> Iterator[Issue]:
    name = _field(doc, "holder_name", skip, str)
    if name is None or name_is_valid(name):
        return
    yield make_issue(
        "/holder_name", "name_not_normalised" if name_is_valid_after_normalising(name) else "name_invalid"
    )


def _id_issues(doc: Doc, skip: set[str]) -> Iterator[Issue]:
    id_type, number = _field(doc, "id_type", skip, str), _field(doc, "id_number", skip, str)
    if id_type is None or number is None:
        return
    if id_type == RESIDENT_ID_TYPE:
        problem = resident_id_problem(number)
        shape = _ID_SHAPES["resident"]
    else:
        problem = None if _OTHER_ID.fullmatch(number) else "id_format"
        shape = _ID_SHAPES["other"]
    if problem is not None:
        yield make_issue("/id_number", problem, expected_zh=shape[0], expected_en=shape[1])


def _text_issues(
    doc: Doc, skip: set[str], keys: tuple[str, ...], base: tuple[str | int, ...] = ()
) -> Iterator[Issue]:
    for key in keys:
        text = _field(doc, key, skip, str, base)
        if text is not None and not text_is_clean(text):
            yield make_issue(pointer_of((*base, key)), "text_invalid")


def person_issues(doc: Doc, skip: set[str]) -> Iterator[Issue]:
    """Name, identity number and free-text rules shared by certificates and roster rows."""
    yield from _name_issues(doc, skip)
    yield from _id_issues(doc, skip)
    yield from _text_issues(doc, skip, _FREE_TEXT)


def certificate_number_issues(doc: Doc, skip: set[str]) -> Iterator[Issue]:
    """The number parses and agrees with level, issue year and institution code (reported at the number).

    It compares the number's characters, never building its parts: every certificate signed or verified
    passes here, and the parts cost a tenth of a signature."""
    text = _field(doc, "certificate_number", skip, str)
    if text is None:
        return
    try:
        check_certificate_number(text)
    except CertificateNumberError as e:
        yield make_issue("/certificate_number", e.code, length=len(text))
        return
    level = _field(doc, "level", skip, int)
    if level is not None and level != int(text[LEVEL_DIGIT]):
        found_level = int(text[LEVEL_DIGIT])
        yield make_issue("/certificate_number", "certno_level_mismatch", found=found_level, expected=level)
    issue_date = _field(doc, "issue_date", skip, str)
    if issue_date is not None and int(issue_date[2:4]) != int(text[YEAR_DIGITS]):
        yield make_issue(
            "/certificate_number",
            "certno_year_mismatch",
            found=text[YEAR_DIGITS],
            expected=issue_date[:4],
        )
    code = _field(doc, "institution_code", skip, str)
    if code is not None and code != text[:INSTITUTION_CODE_LENGTH]:
        found = text[:INSTITUTION_CODE_LENGTH]
        yield make_issue("/certificate_number", "certno_institution_mismatch", found=found, expected=code)


def institution_issues(doc: Doc, skip: set[str]) -> Iterator[Issue]:
    """Code assembled from its parts, USCC check character, name hygiene and every scope's window."""
    parts = [_field(doc, k, skip, str) for k in ("category", "national_code", "province", "site")]
    code = _field(doc, "code", skip, str)
    if code is not None and None not in parts and code != "".join(parts):
        yield make_issue("/code", "institution_code_mismatch", expected="".join(parts))
    uscc = _field(doc, "uscc", skip, str)
    if uscc is not None and not uscc_is_valid(uscc):
        yield make_issue("/uscc", "uscc_check_char")
    yield from _text_issues(doc, skip, ("name",))
    scopes = doc.get("scopes")
    if isinstance(scopes, list):
        for i, scope in enumerate(scopes):
            if isinstance(scope, Mapping):
                yield from _scope_issues(scope, skip, ("scopes", i))


def _scope_issues(scope: Doc, skip: set[str], base: tuple[str | int, ...]) -> Iterator[Issue]:
    yield from _text_issues(scope, skip, ("occupation_name",), base)
    work_types = scope.get("work_types")
    for i, work_type in enumerate(work_types if isinstance(work_types, list) else []):
        at = pointer_of((*base, "work_types", i))
        if isinstance(work_type, str) and at not in skip and not text_is_clean(work_type):
            yield make_issue(at, "text_invalid")
    start = _field(scope, "valid_from", skip, str, base)
    end = _field(scope, "valid_until", skip, str, base)
    if start is not None and end is not None and end < start:
        yield make_issue(pointer_of((*base, "valid_until")), "scope_window", valid_from=start)
