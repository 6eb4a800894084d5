"""Identifier check characters (GB 11643, GB 32100), occupation codes and certificate numbers."""

from __future__ import annotations

import pytest

from schemas.checks import (
    CertificateNumber,
    CertificateNumberError,
    occupation_code_is_valid,
    parse_certificate_number,
    resident_id_check_char,
    resident_id_is_valid,
    resident_id_problem,
    text_is_clean,
    uscc_check_char,
    uscc_is_valid,
)
from schemas.errors import CheckInputError


def test_resident_canonical_example_is_valid() -> None:
    assert resident_id_is_valid("11010519491231002X")
    assert resident_id_check_char("11010519491231002") == "X"


def test_resident_check_char_by_hand() -> None:
    # 4,4,0,5,2,4,1,9,8,0,0,1,0,1,0,0,1 · weights 7,9,10,5,8,4,2,1,6,3,7,9,10,5,8,4,2 = 196;
    # 196 mod 11 = 9, and "10X98765432"[9] = "3".
    assert resident_id_check_char("44052419800101001") == "3"
    assert resident_id_is_valid("440524198001010013")
    assert not resident_id_is_valid("44052419800101001X")


@pytest.mark.parametrize("wrong", "0123456789")
def test_resident_every_wrong_check_char_is_rejected(wrong: str) -> None:
    assert resident_id_problem("11010519491231002" + wrong) == "id_check_char"


@pytest.mark.parametrize(
    ("number", "code"),
    [
        ("11010519490230" + "0000", "id_birth_date"),  # 30 February 1949
        ("11010518991231" + "0000", "id_birth_date"),  # before 1900
        ("11010519491331" + "0000", "id_birth_date"),  # month 13
        ("11010519491231002x", "id_format"),  # lower-case x is not canonical
        ("1101051949123100", "id_format"),
        ("11010519491231002X0", "id_format"),
        ("11010519491231002Y", "id_format"),
        ("１1010519491231002X", "id_format"),  # full-width digit
        ("11010519491231002X\n", "id_format"),
    ],
)
def test_resident_problems(number: str, code: str) -> None:
    if code == "id_birth_date":
        number = number[:17] + resident_id_check_char(number[:17])  # only the date is wrong
    assert resident_id_problem(number) == code
    assert not resident_id_is_valid(number)


def test_resident_leap_day_is_real() -> None:
    first17 = "11010520000229001"
    assert resident_id_is_valid(first17 + resident_id_check_char(first17))


@pytest.mark.parametrize("bad", ["1101051949123100", "1101051949123100A", "٣" * 17])
def test_resident_check_char_rejects_bad_input(bad: str) -> None:
    with pytest.raises(CheckInputError) as caught:
        resident_id_check_char(bad)
    assert caught.value.code == "check_input"


def test_uscc_published_example_is_valid() -> None:
    assert uscc_is_valid("91350100M000100Y43")
    assert uscc_check_char("91350100M000100Y4") == "3"


def test_uscc_check_char_31_maps_to_zero() -> None:
    # All-zero body: sum 0, 31 - 0 = 31 → "0".
    assert uscc_check_char("0" * 17) == "0"


def test_uscc_computed_example() -> None:
    assert uscc_check_char("91100000000013477") == "B"
    assert uscc_is_valid("91100000000013477B")


@pytest.mark.parametrize(
    "bad",
    [
        "91350100M000100Y44",  # wrong check character
        "91350100M000100Y4",  # too short
        "91350100M000100Y433",  # too long
        "91350100I000100Y43",  # I is not in the alphabet
        "91350100m000100Y43",  # lower case
        "91350100M000100Y4O",  # O as check character
    ],
)
def test_uscc_invalid(bad: str) -> None:
    assert not uscc_is_valid(bad)


def test_uscc_check_char_rejects_bad_input() -> None:
    with pytest.raises(CheckInputError):
        uscc_check_char("91350100Z00010043")


@pytest.mark.parametrize("good", ["6-31-01-03", "1-01-00-00", "8-00-00-00"])
def test_occupation_code_valid(good: str) -> None:
    assert occupation_code_is_valid(good)


@pytest.mark.parametrize(
    "bad", ["0-31-01-03", "9-31-01-03", "6-31-01-3", "6-31-01-033", "6310103", "6-31-01-03\n", "6-31-01-0３"]
)
def test_occupation_code_invalid(bad: str) -> None:
    assert not occupation_code_is_valid(bad)


def test_certificate_number_parses_and_round_trips() -> None:
    number = parse_certificate_number("Y000011000001263000001")
    assert number == CertificateNumber("Y", "0000", "11", "000001", 26, 3, 1)
    assert number.institution_code == "Y000011000001"
    assert str(number) == "Y000011000001263000001"
    assert str(CertificateNumber("S", "0000", "65", "999999", 5, 1, 999_999)) == "S000065999999051999999"


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Y00001100000126300000", "certno_length"),
        ("Y0000110000012630000011", "certno_length"),
        ("", "certno_length"),
        ("X000011000001263000001", "certno_category"),
        ("y000011000001263000001", "certno_category"),
        ("Y00001100000126300000A", "certno_digits"),
        ("Y0000110000012630０0001", "certno_digits"),
        ("Y000011000001260000001", "certno_level"),
        ("Y000011000001266000001", "certno_level"),
        ("Y000011000001263000000", "certno_serial"),
    ],
)
def test_certificate_number_errors(text: str, code: str) -> None:
    with pytest.raises(CertificateNumberError) as caught:
        parse_certificate_number(text)
    assert caught.value.code == code
    assert caught.value.message_zh and caught.value.message_en


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"category": "Z"}, "certno_category"),
        ({"province": "1"}, "certno_digits"),
        ({"year2": 100}, "certno_digits"),
        ({"level": 6}, "certno_level"),
        ({"serial": 1_000_000}, "certno_serial"),
    ],
)
def test_certificate_number_construction_is_checked(fields: dict[str, object], code: str) -> None:
    parts: dict[str, object] = {
        "category": "Y", "national_code": "0001", "province": "10", "site": "000001",
        "year2": 26, "level": 3, "serial": 1,
    } | fields  # fmt: skip
    with pytest.raises(CertificateNumberError) as caught:
        CertificateNumber(**parts)  # type: ignore[arg-type]
    assert caught.value.code == code


@pytest.mark.parametrize(
    ("text", "clean"),
    [("电工", True), ("--", True), (" 电工", False), ("电\n工", False), ("电\u200b工", False)],
)
def test_text_is_clean(text: str, clean: bool) -> None:
    assert text_is_clean(text) is clean
