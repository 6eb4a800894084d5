"""Property tests: generated valid certificates validate, and corrupting one field is caught at that field."""

from __future__ import annotations

import datetime as dt
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from schemas import ID_TYPES, CertificateNumber, validate_certificate
from schemas.checks import resident_id_check_char
from schemas.vocabulary import HOLDER_NAME_MAX, OCCUPATION_NAME_MAX, WORK_TYPE_MAX

_HAN = st.characters(min_codepoint=0x4E00, max_codepoint=0x9FA5) | st.just("𠮷")
_DIGIT = st.sampled_from("0123456789")


def _digits(n: int) -> st.SearchStrategy[str]:
    return st.text(_DIGIT, min_size=n, max_size=n)


_HAN_NAME = st.lists(st.text(_HAN, min_size=1, max_size=7), min_size=1, max_size=3).map("·".join)
_LATIN_NAME = st.lists(
    st.text(st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZ"), min_size=1, max_size=7), min_size=1, max_size=3
).map(" ".join)
_NAME = (_HAN_NAME | _LATIN_NAME).filter(lambda s: len(s) <= HOLDER_NAME_MAX)


@st.composite
def _resident_id(draw: st.DrawFn) -> str:
    born = draw(st.dates(dt.date(1900, 1, 1), dt.date(2030, 12, 31)))
    first17 = draw(_digits(6)) + born.strftime("%Y%m%d") + draw(_digits(3))
    return first17 + resident_id_check_char(first17)


_OTHER_ID = st.text(st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789()-"), min_size=1, max_size=30)
_ID = st.tuples(st.just(ID_TYPES[0]), _resident_id()) | st.tuples(st.sampled_from(ID_TYPES[1:]), _OTHER_ID)


@st.composite
def certificates(draw: st.DrawFn) -> dict[str, Any]:
    """A valid certificate whose number agrees with its level, year and institution."""
    issued = draw(st.dates(dt.date(2000, 1, 1), dt.date(2099, 12, 31)))
    level = draw(st.integers(1, 5))
    number = CertificateNumber(
        category=draw(st.sampled_from("YS")),
        national_code=draw(_digits(4)),
        province=draw(_digits(2)),
        site=draw(_digits(6)),
        year2=issued.year % 100,
        level=level,
        serial=draw(st.integers(1, 999_999)),
    )
    id_type, id_number = draw(_ID)
    doc: dict[str, Any] = {
        "certificate_number": str(number),
        "holder_name": draw(_NAME),
        "id_type": id_type,
        "id_number": id_number,
        "occupation_code": "-".join([str(draw(st.integers(1, 8))), *(draw(_digits(2)) for _ in range(3))]),
        "occupation_name": draw(st.text(_HAN, min_size=1, max_size=OCCUPATION_NAME_MAX)),
        "work_type": draw(st.just("--") | st.text(_HAN, min_size=1, max_size=WORK_TYPE_MAX)),
        "level": level,
        "institution_code": number.institution_code,
        "issue_date": issued.isoformat(),
        "status": {"list": draw(st.integers(0, 2**31)), "index": draw(st.integers(0, 2**20 - 1))},
    }
    if draw(st.booleans()):
        doc["institution_name"] = draw(st.text(_HAN, min_size=1, max_size=60))
    if draw(st.booleans()):
        doc["photo"] = "photos/holder.jpg"
    return doc


_MISSING = object()
_NOT_TEXT: st.SearchStrategy[object] = st.sampled_from([None, 7, 1.5, True, [], {}])
_BAD_VALUES: dict[str, st.SearchStrategy[object]] = {
    "certificate_number": _NOT_TEXT
    | st.sampled_from(["", "X000011000001263000001", "Y00001100000126300000", "Y000011000001260000001"]),
    "holder_name": _NOT_TEXT | st.sampled_from(["", "张三1", "·张三", "张" * 25, "张 三", "张三\n"]),
    "id_type": _NOT_TEXT | st.sampled_from(["", "身份证", "passport"]),
    "id_number": _NOT_TEXT | st.sampled_from(["", "abc", "A" * 31, "1101051949123100 X"]),
    "occupation_code": _NOT_TEXT
    | st.sampled_from(["", "9-31-01-03", "6-31-01-3", "6-31-01-03\n", "63101 03"]),
    "occupation_name": _NOT_TEXT | st.sampled_from(["", "电" * 31, " 电工", "电工\t"]),
    "work_type": _NOT_TEXT | st.sampled_from(["", "工" * 15, "--\n"]),
    "level": st.sampled_from([None, "3", 0, 6, -1, 3.0, True]),
    "institution_code": _NOT_TEXT | st.sampled_from(["", "Y00001100000", "X000011000001", "Y0000110000012"]),
    "institution_name": _NOT_TEXT | st.sampled_from(["", "名" * 61, "名\n称"]),
    "issue_date": _NOT_TEXT | st.sampled_from(["", "2026-02-30", "20261124", "2026-11-24T00:00:00"]),
    "status": _NOT_TEXT
    | st.sampled_from(
        [{"list": 0}, {"list": -1, "index": 0}, {"list": 0, "index": 2**20}, {"list": 0, "index": 0, "x": 1}]
    ),
    "photo": _NOT_TEXT | st.just(""),
}
_REQUIRED = frozenset(_BAD_VALUES) - {"institution_name", "photo"}


@given(certificates())
def test_generated_certificates_validate(doc: dict[str, Any]) -> None:
    assert validate_certificate(doc) == []


@given(certificates(), st.data())
def test_one_corrupted_field_is_reported_at_that_field_only(doc: dict[str, Any], data: st.DataObject) -> None:
    field = data.draw(st.sampled_from(sorted(_BAD_VALUES)))
    bad = data.draw(_BAD_VALUES[field] | (st.just(_MISSING) if field in _REQUIRED else st.nothing()))
    if bad is _MISSING:
        del doc[field]
    else:
        doc[field] = bad
    issues = validate_certificate(doc)
    pointer = f"/{field}"
    assert issues, f"no issue for {field}={bad!r}"
    assert all(i.pointer == pointer or i.pointer.startswith(pointer + "/") for i in issues), issues
