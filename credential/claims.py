"""The certificate's claims and their compact CWT form.

Only what a verifier needs and cannot derive travels in the QR: the full identity number never
does (its length and last characters do, for holder confirmation), the occupation's name comes
from the institution's filed scope in the signed directory, and the institution's name from the
directory too. Of the 22-character certificate number only the serial travels: the institution
code (13 characters) follows from the signing key's directory entry, the two-digit year from the
issue date and the level digit from the level claim. Until the signer is known, a decoded
number begins with ``UNKNOWN_INSTITUTION`` — never a code of a real institution, so a number
nobody completed fails every comparison (fail closed). ``with_institution`` completes it.

Decoding is strict (docs/spec.md §5): an unknown key, a key or value of the wrong type (CBOR
``true`` is not the integer 1) or a value out of range is rejected.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any, TypeGuard

from credential.constants import ID_VISIBLE_SUFFIX, NO_WORK_TYPE, CertificateKey, Claim
from credential.errors import CredentialError
from credential.frozen import assemble
from schemas import vocabulary

_EPOCH = date(1970, 1, 1)
_EPOCH_ORDINAL = _EPOCH.toordinal()  # days since the epoch → a date without a timedelta
_MAX_DAYS = (date(9999, 12, 31) - _EPOCH).days
_INSTITUTION_CODE_RE = re.compile(r"^[YS][0-9]{12}$")  # ASCII digits only: ``\d`` is Unicode
_CERTNO_RE = re.compile(r"^[YS][0-9]{21}$")
_SERIAL_MAX = 999_999
#: What a decoded certificate number begins with until ``with_institution`` names the signer.
UNKNOWN_INSTITUTION = "?" * 13
_SUFFIX_CHARACTERS = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ()-")  # what the last 4 characters may be
# The certificate claim's keys in the ascending order of the canonical form, without a work type and
# with one: the only two orders a valid credential can have (every other key is required).
_WITH_WORK_TYPE = tuple(int(key) for key in CertificateKey)
KEY_ORDERS = frozenset({_WITH_WORK_TYPE, tuple(k for k in _WITH_WORK_TYPE if k != CertificateKey.WORK_TYPE)})
_from_ordinal = date.fromordinal
_CERTIFICATE_KEYS = frozenset(_WITH_WORK_TYPE)
# Members bound once: looking an IntEnum member up on its class costs ~100 ns in Python 3.11 (a
# global ~10 ns), and decoding reads a dozen per credential.
_CERTIFICATE = Claim.CERTIFICATE
_K_SERIAL = CertificateKey.SERIAL
_K_OCCUPATION = CertificateKey.OCCUPATION
_K_LEVEL = CertificateKey.LEVEL
_K_HOLDER_NAME = CertificateKey.HOLDER_NAME
_K_ID_TYPE = CertificateKey.ID_TYPE
_K_ID_MASKED = CertificateKey.ID_MASKED
_K_WORK_TYPE = CertificateKey.WORK_TYPE
_K_ISSUE_DATE = CertificateKey.ISSUE_DATE
_K_STATUS = CertificateKey.STATUS


@dataclass(frozen=True)
class MaskedId:
    """An identity number reduced to its length and last characters."""

    length: int
    suffix: str

    @classmethod
    def of(cls, id_number: str) -> MaskedId:
        """Mask a full identity number."""
        return cls(len(id_number), id_number[-ID_VISIBLE_SUFFIX:])

    def display(self) -> str:
        """As printed: hidden characters as ``*``, e.g. ``**************123X``."""
        return "*" * (self.length - len(self.suffix)) + self.suffix

    def matches(self, id_number: str) -> bool:
        """Whether a full identity number someone typed agrees with this masked form."""
        return MaskedId.of(id_number.strip().upper()) == self


@dataclass(frozen=True)
class CertificateClaims:
    """What a skillpass credential asserts about one certificate."""

    certificate_number: str
    holder_name: str
    id_type: str
    id_masked: MaskedId
    occupation_code: str
    level: int
    work_type: str
    issue_date: date
    status_list: int
    status_index: int

    @classmethod
    def from_certificate(cls, certificate: Mapping[str, Any]) -> CertificateClaims:
        """The claims of a certificate document that already passed ``schemas`` validation."""
        return cls(
            certificate_number=certificate["certificate_number"],
            holder_name=certificate["holder_name"],
            id_type=certificate["id_type"],
            id_masked=MaskedId.of(certificate["id_number"]),
            occupation_code=certificate["occupation_code"],
            level=certificate["level"],
            work_type=certificate["work_type"],
            issue_date=date.fromisoformat(certificate["issue_date"]),
            status_list=certificate["status"]["list"],
            status_index=certificate["status"]["index"],
        )

    def to_cwt(self) -> dict[int, Any]:
        """The CWT claims map with integer keys."""
        body: dict[int, Any] = {
            CertificateKey.SERIAL: self.serial,
            CertificateKey.OCCUPATION: int(self.occupation_code.replace("-", "")),
            CertificateKey.LEVEL: self.level,
            CertificateKey.HOLDER_NAME: self.holder_name,
            CertificateKey.ID_TYPE: vocabulary.ID_TYPES.index(self.id_type) + 1,
            CertificateKey.ID_MASKED: [self.id_masked.length, self.id_masked.suffix],
            CertificateKey.ISSUE_DATE: (self.issue_date - _EPOCH).days,
            CertificateKey.STATUS: [self.status_list, self.status_index],
        }
        if self.work_type != NO_WORK_TYPE:
            body[CertificateKey.WORK_TYPE] = self.work_type
        # Keys in ascending order: the deterministic encoding (RFC 8949 §4.2.1) decoders insist on.
        return {Claim.CERTIFICATE: {int(k): body[k] for k in sorted(body)}}

    @property
    def serial(self) -> int:
        """The certificate number's serial: the only part of the number that travels.

        Raises ``ValueError`` when the number does not agree with the level and the issue year:
        such a certificate would decode to another number than the one printed.
        """
        number = self.certificate_number
        if not (_CERTNO_RE.fullmatch(number) or number.startswith(UNKNOWN_INSTITUTION)):
            raise ValueError(f"not a certificate number: {number!r}")
        if number[13:16] != f"{self.issue_date.year % 100:02d}{self.level}":
            raise ValueError(f"{number} disagrees with the issue year or the level")
        serial = int(number[16:])
        if not (number[16:].isascii() and number[16:].isdigit() and 1 <= serial <= _SERIAL_MAX):
            raise ValueError(f"{number} has no serial")
        return serial

    @property
    def institution_known(self) -> bool:
        """Whether the certificate number is complete (``with_institution`` was applied)."""
        return not self.certificate_number.startswith(UNKNOWN_INSTITUTION)

    def with_institution(self, institution_code: str) -> CertificateClaims:
        """The claims with the certificate number rebuilt for the signer's 13-character code.

        A code of any other form leaves the number incomplete, which no check accepts.
        """
        if not _is_institution_code(institution_code):
            return self
        # Every field was checked when these claims were built; only the number's prefix changes,
        # so one dictionary copy replaces ``replace``'s per-field construction (verifier hot path).
        fields = self.__dict__.copy()
        fields["certificate_number"] = institution_code + self.certificate_number[13:]
        return assemble(type(self), fields)

    @classmethod
    def from_cwt(cls, claims: object) -> CertificateClaims:
        """Parse a CWT claims map strictly, raising ``claims_invalid`` with the reason."""
        return _as_written(claims) or _strict(claims)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready view (identity number masked) for people and APIs."""
        return {
            "certificate_number": self.certificate_number,
            "holder_name": self.holder_name,
            "id_type": self.id_type,
            "id_number_masked": self.id_masked.display(),
            "occupation_code": self.occupation_code,
            "level": self.level,
            "level_name": vocabulary.LEVEL_NAMES[self.level],
            "work_type": self.work_type,
            "issue_date": _iso_day(self.issue_date),
            "status": {"list": self.status_list, "index": self.status_index},
        }


@lru_cache(maxsize=1024)
def _is_institution_code(code: str) -> bool:
    """``[YS]`` + 12 ASCII digits. Remembered: a verifier asks for every credential, about the few
    institutions whose keys it sees, and a cache hit costs a third of the match."""
    return _INSTITUTION_CODE_RE.fullmatch(code) is not None


def _integer(body: Mapping[int, Any], key: CertificateKey, low: int, high: int) -> int:
    value = body.get(key)
    if type(value) is not int or not low <= value <= high:
        raise CredentialError("claims_invalid", f"{key.name.lower()} must be an integer in range")
    return value


def _text(body: Mapping[int, Any], key: CertificateKey, max_length: int) -> str:
    value = body.get(key)
    if not _printable(value, max_length):
        raise CredentialError("claims_invalid", f"{key.name.lower()} must be printable text within limits")
    return value


def _pair(body: Mapping[int, Any], key: CertificateKey, first: type, second: type) -> tuple[Any, Any]:
    value = body.get(key)
    if not (isinstance(value, list) and len(value) == 2):
        raise CredentialError("claims_invalid", f"{key.name.lower()} must be a pair")
    if type(value[0]) is not first or type(value[1]) is not second:
        raise CredentialError("claims_invalid", f"{key.name.lower()} has the wrong types")
    return value[0], value[1]


def _as_written(claims: object) -> CertificateClaims | None:
    """The claims when they are exactly as skillpass writes them: every key once and in ascending
    order, every value of its type and in range. ``None`` for anything else, which ``_strict``
    then judges and names. Every credential a verifier sees takes this path, so it unpacks the
    values in one step and tests them in one expression instead of a call and a lookup per key;
    it accepts nothing ``_strict`` refuses, and builds the same object (``_build``)."""
    if type(claims) is not dict or len(claims) != 1:
        return None
    body = claims.get(_CERTIFICATE)
    if type(body) is not dict:
        return None
    # Keys in one of the two orders are 1 to 9 ascending; the only bool equal to one of them is
    # True (== 1), and only in first place, so that place alone needs its type checked.
    keys = tuple(body)
    if keys not in KEY_ORDERS or type(keys[0]) is bool:
        return None
    if len(body) == len(_WITH_WORK_TYPE):
        serial, occupation, level, name, id_type, masked, work_type, days, status = body.values()
        if work_type == NO_WORK_TYPE or not _printable(work_type, vocabulary.WORK_TYPE_MAX):
            return None
    else:
        serial, occupation, level, name, id_type, masked, days, status = body.values()
        work_type = None
    if not (
        type(serial) is int
        and 1 <= serial <= _SERIAL_MAX
        and type(occupation) is int
        and 1_000_000 <= occupation <= 8_999_999
        and type(level) is int
        and 1 <= level <= 5
        and type(id_type) is int
        and 1 <= id_type <= len(vocabulary.ID_TYPES)
        and type(days) is int
        and 0 <= days <= _MAX_DAYS
        and _printable(name, vocabulary.HOLDER_NAME_MAX)
        and _masked_id(masked)
        and _status_reference(status)
    ):
        return None
    return _build(serial, occupation, level, name, id_type, masked, work_type, days, status)


def _printable(value: object, max_length: int) -> TypeGuard[str]:
    """Text within ``max_length``, without surrounding space, control or bidi-override characters (none
    of them may reach a screen)."""
    return (
        type(value) is str and 0 < len(value) <= max_length and value == value.strip() and value.isprintable()
    )


def _masked_id(value: object) -> bool:
    """``[length, suffix]``: the ID number's length and its last one to four characters."""
    if type(value) is not list or len(value) != 2:
        return False
    length, suffix = value
    return (
        type(length) is int
        and type(suffix) is str
        and 0 < length <= vocabulary.OTHER_ID_MAX
        and 0 < len(suffix) <= min(length, 4)
        and _SUFFIX_CHARACTERS.issuperset(suffix)
    )


def _status_reference(value: object) -> bool:
    """``[list, index]``: a status list and an index within the largest list."""
    if type(value) is not list or len(value) != 2:
        return False
    status_list, status_index = value
    return (
        type(status_list) is int
        and type(status_index) is int
        and status_list >= 0
        and 0 <= status_index <= vocabulary.STATUS_INDEX_MAX
    )


def _strict(claims: object) -> CertificateClaims:
    """Every rule of the certificate claim, checked one by one so that the first failure is named."""
    if not isinstance(claims, dict) or len(claims) != 1 or _CERTIFICATE not in claims:
        raise CredentialError("claims_invalid", "expected exactly the certificate claim")
    body = claims[_CERTIFICATE]
    if not isinstance(body, dict) or not _CERTIFICATE_KEYS.issuperset(body):
        raise CredentialError("claims_invalid", "unknown keys in the certificate claim")
    if bool in map(type, body):  # True == 1 and hashes alike in Python; bool has no subclasses
        raise CredentialError("claims_invalid", "certificate claim keys must be integers")
    masked = list(_pair(body, _K_ID_MASKED, int, str))
    status = list(_pair(body, _K_STATUS, int, int))
    if not _masked_id(masked):
        raise CredentialError("claims_invalid", "masked identity number")
    if not _status_reference(status):
        raise CredentialError("claims_invalid", "status reference out of range")
    work_type = body.get(_K_WORK_TYPE)
    if work_type == NO_WORK_TYPE:  # "no work type" is written by leaving the key out, only
        raise CredentialError("claims_invalid", "work type '--' is written by omission")
    level = _integer(body, _K_LEVEL, 1, 5)
    days = _integer(body, _K_ISSUE_DATE, 0, _MAX_DAYS)
    serial = _integer(body, _K_SERIAL, 1, _SERIAL_MAX)
    # In this order, so that the first failure named is the one it always was.
    holder_name = _text(body, _K_HOLDER_NAME, vocabulary.HOLDER_NAME_MAX)
    id_type = _integer(body, _K_ID_TYPE, 1, len(vocabulary.ID_TYPES))
    occupation = _integer(body, _K_OCCUPATION, 1_000_000, 8_999_999)
    if work_type is not None:
        work_type = _text(body, _K_WORK_TYPE, vocabulary.WORK_TYPE_MAX)
    return _build(serial, occupation, level, holder_name, id_type, masked, work_type, days, status)


def _build(
    serial: int,
    occupation: int,
    level: int,
    holder_name: str,
    id_type: int,
    masked: list[Any],
    work_type: str | None,
    days: int,
    status: list[Any],
) -> CertificateClaims:
    """The claims from the wire values, already checked (``None`` work type: the key was absent)."""
    issue_date = _from_ordinal(_EPOCH_ORDINAL + days)
    occupation_code = _OCCUPATION_CODES.get(occupation)
    if occupation_code is None:
        occupation_code = _occupation_code(occupation)
    return assemble(
        CertificateClaims,
        {
            # no format specifications: parsing them cost more than the rest of the number
            "certificate_number": _NUMBER_HEADS[issue_date.year % 100 * 10 + level]
            + str(_SERIAL_MAX + 1 + serial)[1:],
            "holder_name": holder_name,
            "id_type": vocabulary.ID_TYPES[id_type - 1],
            "id_masked": assemble(MaskedId, {"length": masked[0], "suffix": masked[1]}),
            "occupation_code": occupation_code,
            "level": level,
            "work_type": NO_WORK_TYPE if work_type is None else work_type,
            "issue_date": issue_date,
            "status_list": status[0],
            "status_index": status[1],
        },
    )


# What a decoded number begins with, for each two-digit year and level digit (index year * 10 + level).
_NUMBER_HEADS = tuple(f"{UNKNOWN_INSTITUTION}{n // 10:02d}{n % 10}" for n in range(1000))
# Occupation codes as written, by their wire integer: a verifier sees a few hundred occupations, and
# slicing and joining the digits cost more than looking the answer up.
_OCCUPATION_CODES: dict[int, str] = {}
_OCCUPATION_MEMO_SIZE = 4096


def _occupation_code(occupation: int) -> str:
    """``d-dd-dd-dd`` from the wire integer (the range checked guarantees seven ASCII digits, the
    first 1-8), remembered in ``_OCCUPATION_CODES``, which is emptied when full so it stays small."""
    digits = str(occupation)
    code = f"{digits[0]}-{digits[1:3]}-{digits[3:5]}-{digits[5:7]}"
    if len(_OCCUPATION_CODES) >= _OCCUPATION_MEMO_SIZE:
        _OCCUPATION_CODES.clear()
    _OCCUPATION_CODES[occupation] = code
    return code


# ISO days as written, by date: certificates are issued in batches on a few days, and ``isoformat``
# goes through a C format string (about a sixth of ``to_json``, which every verdict calls).
_ISO_DAYS: dict[date, str] = {}
_ISO_MEMO_SIZE = 4096


def _iso_day(day: date) -> str:
    """``day.isoformat()``, remembered in ``_ISO_DAYS`` (emptied when full, so it stays small)."""
    iso = _ISO_DAYS.get(day)
    if iso is None:
        if len(_ISO_DAYS) >= _ISO_MEMO_SIZE:
            _ISO_DAYS.clear()
        iso = _ISO_DAYS[day] = day.isoformat()
    return iso
