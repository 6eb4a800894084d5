"""What a verification answers: the ordered checks and one verdict, plus the inputs that come
from outside the QR (a registry record, what the verifier typed about the holder).

These are plain values: the engine builds them, the CLI prints them and the HTTP service
serialises ``Verdict.to_json()`` as the answer of ``POST /api/v1/verify``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Final

from credential.frozen import assemble
from verifier.messages import CHECK_PASSED, NOT_RUN, NOTES, OUTCOME_LABELS, OUTCOME_SYMBOLS

PASS, FAIL, NOT_RUN_OUTCOME = "pass", "fail", "not_run"
VALID, INVALID, INDETERMINATE = "valid", "invalid", "indeterminate"
OFFLINE, ONLINE = "offline", "online"

# The outcomes (DESIGN "Verification verdict"); ``VALID``, ``INVALID`` and ``INDETERMINATE`` are
# outcomes too. ``result`` keeps the older three-way answer for existing clients: everything that
# is not valid but says something about the certificate is "invalid" there, and a QR that is not
# ours, like missing trust data, is "indeterminate" (we cannot judge it).
HOLDER_MISMATCH, REVOKED, SUSPENDED, UNRECOGNIZED = "holder_mismatch", "revoked", "suspended", "unrecognized"
OUTCOMES: Final[tuple[str, ...]] = (
    VALID,
    HOLDER_MISMATCH,
    REVOKED,
    SUSPENDED,
    INVALID,
    INDETERMINATE,
    UNRECOGNIZED,
)
_RESULT_OF_OUTCOME: Final[dict[str, str]] = {
    VALID: VALID,
    HOLDER_MISMATCH: INVALID,
    REVOKED: INVALID,
    SUSPENDED: INVALID,
    INVALID: INVALID,
    INDETERMINATE: INDETERMINATE,
    UNRECOGNIZED: INDETERMINATE,
}

#: DESIGN's order of checks; the last one runs only online.
CHECK_CODES: Final[tuple[str, ...]] = (
    "format",
    "key_known",
    "signature",
    "key_valid",
    "institution_active",
    "scope",
    "certificate_number",
    "status",
    "registry_record",
)
OFFLINE_CHECKS: Final = len(CHECK_CODES) - 1

#: Failure codes that mean "we cannot tell" rather than "this is wrong": never valid, never invalid.
INDETERMINATE_CODES: Final = frozenset({"trust_missing", "trust_expired", "status_unknown"})
#: Format failures that mean "this is not one of our QR codes at all" (a web address, a payment
#: code, an empty scan): not a finding about any certificate, so never "invalid". A QR that does
#: carry our prefix but is damaged or altered after it is invalid.
UNRECOGNIZED_CODES: Final = frozenset({"qr_empty", "prefix_missing", "prefix_version"})
#: Upload errors that mean "no QR code of any kind in this file": answered with the unrecognized
#: verdict (an answer about the file), unlike size limits, which refuse the request.
UNRECOGNIZED_IMAGE_CODES: Final = frozenset(
    {"image_empty", "image_unsupported", "image_corrupt", "pdf_unreadable", "qr_not_found"}
)


def outcome_of(failure_code: str) -> str:
    """The outcome when a check failed with ``failure_code``."""
    if failure_code in (REVOKED, SUSPENDED):
        return failure_code
    if failure_code in INDETERMINATE_CODES:
        return INDETERMINATE
    if failure_code in UNRECOGNIZED_CODES:
        return UNRECOGNIZED
    return INVALID


def outcome_label(outcome: str) -> dict[str, str]:
    """The headline every surface shows for an outcome: words in both languages and a symbol."""
    zh, en = OUTCOME_LABELS[outcome]
    return {"zh": zh, "en": en, "symbol": OUTCOME_SYMBOLS[outcome]}


@dataclass(frozen=True)
class Check:
    """One step of the order: its outcome and, when it failed, why."""

    code: str
    outcome: str  # "pass" | "fail" | "not_run"
    failure_code: str | None
    message_zh: str
    message_en: str

    def to_json(self) -> dict[str, Any]:
        """The JSON form inside a verdict's ``checks``."""
        return {
            "code": self.code,
            "outcome": self.outcome,
            "failure_code": self.failure_code,
            "message_zh": self.message_zh,
            "message_en": self.message_en,
        }


@dataclass(frozen=True)
class HolderInput:
    """The holder's name and full ID number as the verifier typed them (never stored)."""

    name: str
    id_number: str


@dataclass(frozen=True)
class RegistryRecord:
    """The registry's record of a published certificate (``GET /certificates/{n}/record``)."""

    certificate_number: str
    status: str  # "valid" | "suspended" | "revoked"
    credential_sha256: str  # hex SHA-256 of the published COSE bytes
    status_date: str | None = None  # ISO day (China Standard Time) the current status took effect
    reason_category: str | None = None  # one of schemas.vocabulary.STATUS_REASON_CATEGORIES


@dataclass(frozen=True)
class Verdict:
    """The answer: ``valid`` is True only when every check passed on fresh trust data and the
    holder, when one was typed, matches; ``outcome`` is the one code every surface shows."""

    outcome: str  # one of OUTCOMES
    result: str  # "valid" | "invalid" | "indeterminate" (the coarse answer older clients read)
    valid: bool
    code: str  # "valid" or the failing check's failure code
    message_zh: str
    message_en: str
    checks: tuple[Check, ...]
    credential: dict[str, Any] | None
    institution: dict[str, str] | None
    trust_as_of: int | None
    trust_age_seconds: int | None
    mode: str  # "offline" | "online"
    holder_confirmation: dict[str, Any] | None = None
    notes: tuple[dict[str, str], ...] = ()  # warnings beside the result, e.g. the key was later revoked
    status: dict[str, Any] | None = None  # check (8)'s finding: value, source, as_of, date, reason
    verified_at: int | None = None  # the reference time of the verification (unix seconds)
    trust_version: int | None = None  # the directory snapshot's sequence number
    verifier_host: dict[str, Any] | None = None  # URL form: the host it names, and any warning

    @property
    def failed_check(self) -> Check | None:
        """The check that decided a negative verdict."""
        return next((c for c in self.checks if c.outcome == FAIL), None)

    def to_json(self) -> dict[str, Any]:
        """What ``POST /api/v1/verify`` answers."""
        return {
            "outcome": self.outcome,
            "outcome_label": outcome_label(self.outcome),
            "valid": self.valid,
            "result": self.result,
            "code": self.code,
            "message_zh": self.message_zh,
            "message_en": self.message_en,
            "checks": [check.to_json() for check in self.checks],
            "credential": self.credential,
            "institution": self.institution,
            "trust_as_of": self.trust_as_of,
            "trust_age_seconds": self.trust_age_seconds,
            "mode": self.mode,
            "holder_confirmation": self.holder_confirmation,
            "notes": list(self.notes),
            "status": self.status,
            "verified_at": self.verified_at,
            "trust_version": self.trust_version,
            "verifier_host": self.verifier_host,
        }


def make_verdict(
    outcome: str,
    code: str,
    message: tuple[str, str],
    checks: tuple[Check, ...],
    credential: dict[str, Any] | None,
    institution: dict[str, str] | None,
    trust_as_of: int | None,
    trust_age_seconds: int | None,
    mode: str,
    holder_confirmation: dict[str, Any] | None,
    status: dict[str, Any] | None = None,
    verified_at: int | None = None,
    trust_version: int | None = None,
    notes: tuple[dict[str, str], ...] = (),
) -> Verdict:
    """``Verdict(...)`` for the engine's hot path, equal to it field by field.

    A frozen dataclass sets each of its 17 fields through ``object.__setattr__``, about 1.4 µs
    per verdict, a few per cent of a whole verification; filling the instance dictionary at once
    (``credential.frozen.assemble``) gives the same immutable object for a third of that. ``tests/test_verifier_engine.py`` checks
    that both ways build equal verdicts.
    """
    return assemble(
        Verdict,
        {
            "outcome": outcome,
            "result": _RESULT_OF_OUTCOME[outcome],
            "valid": outcome == VALID,
            "code": code,
            "message_zh": message[0],
            "message_en": message[1],
            "checks": checks,
            "credential": credential,
            "institution": institution,
            "trust_as_of": trust_as_of,
            "trust_age_seconds": trust_age_seconds,
            "mode": mode,
            "holder_confirmation": holder_confirmation,
            "notes": notes,
            "status": status,
            "verified_at": verified_at,
            "trust_version": trust_version,
        },
    )


def note(code: str) -> dict[str, str]:
    """One note as it appears in ``notes``: its code and its text in both languages."""
    zh, en = NOTES[code]
    return {"code": code, "message_zh": zh, "message_en": en}


def with_note(verdict: Verdict, code: str) -> Verdict:
    """``verdict`` with one more note; the notes it had stay (a fallback never drops a warning)."""
    return replace(verdict, notes=(*verdict.notes, note(code)))


def passed(code: str) -> Check:
    """The (shared, immutable) passing form of a check."""
    zh, en = CHECK_PASSED[code]
    return Check(code, PASS, None, zh, en)


def not_run(code: str) -> Check:
    """The (shared, immutable) not-run form of a check."""
    return Check(code, NOT_RUN_OUTCOME, None, *NOT_RUN)


#: Precomputed so that a verification allocates no Check objects unless something fails.
PASSED: Final[tuple[Check, ...]] = tuple(passed(code) for code in CHECK_CODES)
NOT_RUN_CHECKS: Final[tuple[Check, ...]] = tuple(not_run(code) for code in CHECK_CODES)
