"""The certificate number (证书编号) under the national coding rule.

22 characters, no check digit::

    [Y|S] category · 4 national institution code · 2 province · 6 site · 2 year of issue · 1 level · 6 serial

The first 13 characters identify the institution, so a verifier can tie a number to the institution that
signed it. The registry allocates serials, so numbers are unique by construction.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from schemas.errors import CertificateNumberError
from schemas.issues import MESSAGES

CERTIFICATE_NUMBER_LENGTH: Final = 22
INSTITUTION_CODE_LENGTH: Final = 13
CATEGORIES: Final = ("Y", "S")
#: Where the two-digit year of issue and the level digit stand in a number.
YEAR_DIGITS: Final = slice(13, 15)
LEVEL_DIGIT: Final = 15
_SERIAL_DIGITS: Final = slice(16, None)
_LEVELS: Final = range(1, 6)
_SERIALS: Final = range(1, 1_000_000)


def _error(code: str, **params: object) -> CertificateNumberError:
    zh, en = MESSAGES[code]
    return CertificateNumberError(code, zh.format(**params), en.format(**params))


def _is_digits(s: str, length: int) -> bool:
    """ASCII digits only (``str.isdigit`` alone also takes other scripts' digits, such as ``０``)."""
    return len(s) == length and s.isascii() and s.isdigit()


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
        if self.level not in _LEVELS:
            raise _error("certno_level")
        if self.serial not in _SERIALS:
            raise _error("certno_serial")

    @property
    def institution_code(self) -> str:
        """The 13-character institution code: category + national code + province + site."""
        return f"{self.category}{self.national_code}{self.province}{self.site}"

    def __str__(self) -> str:
        return f"{self.institution_code}{self.year2:02d}{self.level}{self.serial:06d}"


def check_certificate_number(s: str) -> None:
    """Raise ``CertificateNumberError`` with the first rule ``s`` breaks, as ``parse_certificate_number``
    would, without building its parts: a signer and a verifier only compare the number's characters with
    the certificate, and building the parts cost a tenth of a signature per certificate."""
    if len(s) != CERTIFICATE_NUMBER_LENGTH:
        raise _error("certno_length", length=len(s))
    if s[0] not in CATEGORIES:
        raise _error("certno_category")
    if not _is_digits(s[1:], CERTIFICATE_NUMBER_LENGTH - 1):
        raise _error("certno_digits")
    if int(s[LEVEL_DIGIT]) not in _LEVELS:
        raise _error("certno_level")
    if int(s[_SERIAL_DIGITS]) not in _SERIALS:
        raise _error("certno_serial")


def parse_certificate_number(s: str) -> CertificateNumber:
    """Parse a 22-character certificate number, raising ``CertificateNumberError`` with the rule it breaks."""
    check_certificate_number(s)
    return CertificateNumber(
        category=s[0],
        national_code=s[1:5],
        province=s[5:7],
        site=s[7:INSTITUTION_CODE_LENGTH],
        year2=int(s[YEAR_DIGITS]),
        level=int(s[LEVEL_DIGIT]),
        serial=int(s[_SERIAL_DIGITS]),
    )
