"""The certificate number (证书编号) under the national coding rule.

22 characters, no check digit::

    [Y|S] category · 4 national institution code · 2 province · 6 site · 2 year of issue · 1 level · 6 serial

The first 13 characters identify the institution, so a verifier can tie a number to the institution that
signed it. The registry allocates serials, so numbers are unique by construction.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from schemas.errors import CertificateNumberError
from schemas.issues import MESSAGES

CERTIFICATE_NUMBER_LENGTH: Final = 22
INSTITUTION_CODE_LENGTH: Final = 13
CATEGORIES: Final = ("Y", "S")
_DIGITS = re.compile(r"[0-9]+")


def _error(code: str, **params: object) -> CertificateNumberError:
    zh, en = MESSAGES[code]
    return CertificateNumberError(code, zh.format(**params), en.format(**params))


def _is_digits(s: str, length: int) -> bool:
    return len(s) == length and _DIGITS.fullmatch(s) is not None


@dataclass(frozen=True)
class CertificateNumber:
    """A parsed certificate number; construction rejects any part that breaks the rule."""

    category: str
    national_code: str
    province: str
    site: str
    year2: int
    level: int
    serial: int

    def __post_init__(self) -> None:
        if self.category not in CATEGORIES:
            raise _error("certno_category")
        parts = ((self.national_code, 4), (self.province, 2), (self.site, 6))
        if not all(_is_digits(p, n) for p, n in parts) or not 0 <= self.year2 <= 99:
            raise _error("certno_digits")
        if not 1 <= self.level <= 5:
            raise _error("certno_level")
        if not 1 <= self.serial <= 999_999:
            raise _error("certno_serial")

    @property
    def institution_code(self) -> str:
        """The 13-character institution code: category + national code + province + site."""
        return f"{self.category}{self.national_code}{self.province}{self.site}"

    def __str__(self) -> str:
        return f"{self.institution_code}{self.year2:02d}{self.level}{self.serial:06d}"


def parse_certificate_number(s: str) -> CertificateNumber:
    """Parse a 22-character certificate number, raising ``CertificateNumberError`` with the rule it breaks."""
    if len(s) != CERTIFICATE_NUMBER_LENGTH:
        raise _error("certno_length", length=len(s))
    if s[0] not in CATEGORIES:
        raise _error("certno_category")
    if not _is_digits(s[1:], CERTIFICATE_NUMBER_LENGTH - 1):
        raise _error("certno_digits")
    return CertificateNumber(
        category=s[0],
        national_code=s[1:5],
        province=s[5:7],
        site=s[7:13],
        year2=int(s[13:15]),
        level=int(s[15]),
        serial=int(s[16:]),
    )
