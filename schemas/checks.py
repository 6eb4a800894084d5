"""Check characters and fixed formats of Chinese identifiers, as pure functions (no jsonschema).

- Resident identity number (公民身份号码), GB 11643-1999: 17 digits (6 address, 8 birth date YYYYMMDD,
  3 sequence) and an ISO 7064 MOD 11-2 check character (``0``–``9`` or ``X``).
- Unified social credit code (统一社会信用代码), GB 32100-2015: 18 characters over a 31-character alphabet
  without I, O, Z, S, V; the last is a weighted MOD 31 check character.
- Occupation code (职业分类大典 2022): ``d-dd-dd-dd`` with the major group 1–8.

The certificate number lives in ``certno`` and is re-exported here.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Final

from schemas.certno import CertificateNumber, parse_certificate_number
from schemas.errors import CertificateNumberError, CheckInputError

__all__ = [
    "USCC_ALPHABET",
    "CertificateNumber",
    "CertificateNumberError",
    "occupation_code_is_valid",
    "parse_certificate_number",
    "resident_id_check_char",
    "resident_id_is_valid",
    "resident_id_problem",
    "text_is_clean",
    "uscc_check_char",
    "uscc_is_valid",
]

_RESIDENT_WEIGHTS: Final = tuple(pow(2, 17 - i, 11) for i in range(17))
_RESIDENT_CHECK: Final = "10X98765432"
_RESIDENT_SHAPE: Final = re.compile(r"[0-9]{17}[0-9X]")
_FIRST_BIRTH_YEAR: Final = 1900

USCC_ALPHABET: Final = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS: Final = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_USCC_SHAPE: Final = re.compile(f"[{USCC_ALPHABET}]{{18}}")

_OCCUPATION: Final = re.compile(r"[1-8]-[0-9]{2}-[0-9]{2}-[0-9]{2}")


def resident_id_check_char(first17: str) -> str:
    """ISO 7064 MOD 11-2 check character over the first 17 digits of a resident identity number."""
    if len(first17) != 17 or not (first17.isascii() and first17.isdigit()):
        raise CheckInputError("check_input", "需要 17 位数字", "need exactly 17 digits")
    total = sum(int(c) * w for c, w in zip(first17, _RESIDENT_WEIGHTS, strict=True))
    return _RESIDENT_CHECK[total % 11]


def _birth_date_is_real(yyyymmdd: str) -> bool:
    try:
        born = dt.date(int(yyyymmdd[:4]), int(yyyymmdd[4:6]), int(yyyymmdd[6:]))
    except ValueError:
        return False
    return born.year >= _FIRST_BIRTH_YEAR


def resident_id_problem(s: str) -> str | None:
    """Why ``s`` is not a valid resident identity number, as an issue code, or ``None`` when it is valid.

    Codes: ``id_format`` (not 17 digits + digit/``X``; lower-case ``x`` is refused so the stored form is
    canonical), ``id_birth_date`` (not a real calendar date from 1900 on), ``id_check_char``.
    """
    if _RESIDENT_SHAPE.fullmatch(s) is None:
        return "id_format"
    if not _birth_date_is_real(s[6:14]):
        return "id_birth_date"
    if resident_id_check_char(s[:17]) != s[17]:
        return "id_check_char"
    return None


def resident_id_is_valid(s: str) -> bool:
    """True when ``s`` is a GB 11643 resident identity number with a real birth date and right check char."""
    return resident_id_problem(s) is None


def uscc_check_char(first17: str) -> str:
    """GB 32100 check character over the first 17 characters of a unified social credit code."""
    if len(first17) != 17 or any(c not in USCC_ALPHABET for c in first17):
        raise CheckInputError(
            "check_input", "需要 17 位统一社会信用代码字符", "need exactly 17 social credit code characters"
        )
    total = sum(USCC_ALPHABET.index(c) * w for c, w in zip(first17, _USCC_WEIGHTS, strict=True))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def uscc_is_valid(s: str) -> bool:
    """True when ``s`` is an 18-character unified social credit code whose check character is right."""
    return _USCC_SHAPE.fullmatch(s) is not None and uscc_check_char(s[:17]) == s[17]


def occupation_code_is_valid(s: str) -> bool:
    """True when ``s`` has the occupation code shape ``d-dd-dd-dd`` with a major group 1–8."""
    return _OCCUPATION.fullmatch(s) is not None


def text_is_clean(s: str) -> bool:
    """True when free text has no control characters and no leading or trailing whitespace.

    Such characters are invisible on the printed certificate yet change the signed bytes, so two records
    that look the same would differ.
    """
    return s == s.strip() and s.isprintable()
