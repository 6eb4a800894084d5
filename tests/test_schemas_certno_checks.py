"""The certificate number's rule as signing and verification check it, by comparing characters without
building the number's parts: the same verdicts, codes and messages as parsing the number and comparing
its parts (the reference below), on numbers near the valid ones and on every kind of disagreement."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from schemas.certno import check_certificate_number, parse_certificate_number
from schemas.errors import CertificateNumberError
from schemas.issues import Issue, make_issue
from schemas.rules import certificate_number_issues

VALID = "Y000011000001263000001"


def reference_issues(doc: dict[str, Any], skip: set[str]) -> Iterator[Issue]:
    """The rule through ``parse_certificate_number`` and the parts it builds."""
    text = doc.get("certificate_number")
    if not isinstance(text, str) or "/certificate_number" in skip:
        return
    try:
        number = parse_certificate_number(text)
    except CertificateNumberError as e:
        yield make_issue("/certificate_number", e.code, length=len(text))
        return
    level = doc.get("level")
    if type(level) is int and "/level" not in skip and level != number.level:
        yield make_issue("/certificate_number", "certno_level_mismatch", found=number.level, expected=level)
    issue_date = doc.get("issue_date")
    if isinstance(issue_date, str) and "/issue_date" not in skip and int(issue_date[2:4]) != number.year2:
        found = f"{number.year2:02d}"
        yield make_issue("/certificate_number", "certno_year_mismatch", found=found, expected=issue_date[:4])
    code = doc.get("institution_code")
    if isinstance(code, str) and "/institution_code" not in skip and code != number.institution_code:
        yield make_issue("/certificate_number", "certno_institution_mismatch", found=text[:13], expected=code)


def near_valid() -> st.SearchStrategy[str]:
    """Valid numbers and numbers a character or a length away from valid."""
    characters = st.sampled_from("0123456789YSXy０A ")
    edit = st.tuples(st.integers(0, 22), characters, st.sampled_from(["replace", "insert", "delete"]))

    def apply(edits: list[tuple[int, str, str]]) -> str:
        text = VALID
        for at, character, how in edits:
            at = min(at, len(text))
            keep = at + 1 if how != "insert" else at
            text = text[:at] + ("" if how == "delete" else character) + text[keep:]
        return text

    return st.lists(edit, max_size=2).map(apply)


@settings(max_examples=1000)
@given(near_valid())
def test_checking_a_number_refuses_exactly_what_parsing_refuses(text: str) -> None:
    try:
        parse_certificate_number(text)
    except CertificateNumberError as e:
        with pytest.raises(CertificateNumberError) as caught:
            check_certificate_number(text)
        assert (caught.value.code, caught.value.message_en) == (e.code, e.message_en)
    else:
        check_certificate_number(text)


@pytest.mark.parametrize(
    ("text", "code"),
    [("Y000011000001260000001", "certno_level"), ("Y000011000001263000000", "certno_serial")],
)
def test_a_level_or_serial_out_of_range_is_refused_by_the_check(text: str, code: str) -> None:
    with pytest.raises(CertificateNumberError) as caught:
        check_certificate_number(text)
    assert caught.value.code == code


documents = st.fixed_dictionaries(
    {"certificate_number": near_valid()},
    optional={
        "level": st.one_of(st.integers(0, 7), st.booleans(), st.just("3")),
        "issue_date": st.sampled_from(["2026-05-01", "2025-12-31", "1926-01-01"]),
        "institution_code": st.sampled_from(["Y000011000001", "Y000011000002", "S000011000001", ""]),
    },
)
skips = st.sets(st.sampled_from(["/certificate_number", "/level", "/issue_date", "/institution_code"]))


@settings(max_examples=1000)
@given(documents, skips)
def test_the_number_rule_reports_as_the_parsed_parts_would(doc: dict[str, Any], skip: set[str]) -> None:
    assert list(certificate_number_issues(doc, skip)) == list(reference_issues(doc, skip))


def test_each_disagreement_is_reported_with_what_was_found() -> None:
    doc = {
        "certificate_number": VALID,
        "level": 4,
        "issue_date": "2025-01-02",
        "institution_code": "S000011000001",
    }
    issues = list(certificate_number_issues(doc, set()))
    assert [i.code for i in issues] == [
        "certno_level_mismatch",
        "certno_year_mismatch",
        "certno_institution_mismatch",
    ]
    assert (
        "3" in issues[0].message_en
        and "26" in issues[1].message_en
        and "Y000011000001" in issues[2].message_en
    )
    agreeing = {
        "certificate_number": VALID,
        "level": 3,
        "issue_date": "2026-01-02",
        "institution_code": VALID[:13],
    }
    assert list(certificate_number_issues(agreeing, set())) == []
