"""The verification engine: untrusted QR text plus verified trust data in, one ``Verdict`` out.

Every trust decision the verifier makes is taken here, in the order DESIGN fixes, and nowhere
else. The engine does no I/O and reads no clock: the CLI, the HTTP service and the trust cache
fetch, store and time things around it (like python-tuf's ``TrustedMetadataSet`` and its
``Updater``).

Stale or missing trust data (fail closed, never *valid*):

* With no trust data at all, only the format is checked; a well-formed credential is then
  *indeterminate* (``trust_missing``), a malformed one *invalid*.
* With a directory past its expiry (plus the allowed clock skew), the key is still looked up and
  the signature still checked: a key id names exactly one public key, so a signature that fails
  against it is a fact no newer directory can change, and the credential is *invalid*. Everything
  after that depends on windows and statuses a newer directory might change, so the verdict is
  *indeterminate* (``trust_expired``) — as it is when the key is unknown to a stale directory.
* Status lists past their expiry make only check (8) *indeterminate*; a failure of (4)–(7) on a
  fresh directory is still *invalid*.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any, Final

from common.calendar import registry_day
from credential import CertificateClaims, CredentialError, decode
from credential.directory import REMOVED, Directory, Institution, KeyEntry
from credential.status_list import StatusList
from keys import PublicKey
from schemas.vocabulary import LEVEL_NAMES_EN
from verifier import checks, messages
from verifier.checks import Failure
from verifier.verdict import (
    CHECK_CODES,
    FAIL,
    INDETERMINATE,
    INDETERMINATE_CODES,
    INVALID,
    NOT_RUN_CHECKS,
    OFFLINE,
    OFFLINE_CHECKS,
    ONLINE,
    PASSED,
    VALID,
    Check,
    HolderInput,
    RegistryRecord,
    Verdict,
    make_verdict,
    note,
)

__all__ = [
    "CLOCK_SKEW",
    "Check",
    "HolderInput",
    "RegistryRecord",
    "TrustData",
    "Verdict",
    "verify",
]

#: Seconds of disagreement between our clock and the registry's that we tolerate (±5 minutes).
CLOCK_SKEW: Final = 300

# Step numbers, as indices into CHECK_CODES.
(_FORMAT, _KEY_KNOWN, _SIGNATURE, _KEY_VALID, _INSTITUTION, _SCOPE, _CERTNO, _STATUS, _RECORD) = range(
    len(CHECK_CODES)
)
_ALL_PASSED_OFFLINE: Final = PASSED[:OFFLINE_CHECKS]
_WINDOW_MEMO_SIZE: Final = 4096


@dataclass(frozen=True)
class _SigningKey:
    institution: Institution
    entry: KeyEntry
    public_key: PublicKey


@dataclass(frozen=True)
class TrustData:
    """A verified directory snapshot and the status lists, ready for many verifications.

    Construction precomputes the lookups the engine needs per credential (key id → institution,
    key entry and a ready ``PublicKey``), so a verification allocates nothing for them. A
    directory entry whose key id does not match its own key can never vouch for anything and
    is left out.
    """

    directory: Directory
    status_lists: Mapping[int, StatusList]
    status_lists_expire_at: int
    status_lists_issued_at: Mapping[int, int] = field(default_factory=dict)  # per list, for rollback
    ttl: int | None = None  # the registry's hint: seconds until a refresh is worthwhile
    _keys: dict[bytes, _SigningKey] = field(init=False, repr=False, compare=False, default_factory=dict)
    _occupations: dict[tuple[str, str], str] = field(
        init=False, repr=False, compare=False, default_factory=dict
    )
    _windows: dict[tuple[bytes, date, str, int, str], tuple[int, Failure] | None] = field(
        init=False, repr=False, compare=False, default_factory=dict
    )

    def __post_init__(self) -> None:
        for institution in self.directory.institutions:
            for scope in institution.scopes:
                self._occupations.setdefault((institution.code, scope.occupation_code), scope.occupation_name)
            for entry in institution.keys:
                public_key = PublicKey(entry.public_key)
                if public_key.kid == entry.kid:
                    self._keys[entry.kid] = _SigningKey(institution, entry, public_key)

    def window_verdict(
        self, signing_key: _SigningKey, claims: CertificateClaims
    ) -> tuple[int, Failure] | None:
        """Checks (4)–(6), which depend only on the key, the issue date and the occupation.

        Their answer is memoised per (key, date, occupation, level, work type): a gate sees the
        same few institutions all day, and the trust data behind the answer never changes.
        """
        memo_key = (
            signing_key.entry.kid,
            claims.issue_date,
            claims.occupation_code,
            claims.level,
            claims.work_type,
        )
        try:
            return self._windows[memo_key]
        except KeyError:
            pass
        answer = _window_checks(signing_key, claims)
        if len(self._windows) >= _WINDOW_MEMO_SIZE:
            self._windows.clear()
        self._windows[memo_key] = answer
        return answer

    @property
    def issued_at(self) -> int:
        """When the registry issued the directory snapshot (unix seconds)."""
        return self.directory.issued_at

    @property
    def expires_at(self) -> int:
        """The earliest expiry of the directory and the status lists."""
        return min(self.directory.expires_at, self.status_lists_expire_at)


def verify(
    qr_text: str,
    trust: TrustData | None,
    now: int,
    *,
    record: RegistryRecord | None = None,
    holder: HolderInput | None = None,
    online: bool | None = None,
    holder_match: bool | None = None,
    clock_skew: int = CLOCK_SKEW,
) -> Verdict:
    """Judge one QR text at reference time ``now`` (unix seconds).

    ``online`` (default: whether a ``record`` was given) adds check (9): ``record`` is what the
    registry answered for the certificate number, ``None`` meaning it has no such record.
    ``holder_match`` is the registry's answer to confirm-holder; without it a ``holder`` is
    compared offline with the name and masked ID number in the QR.

    The order, each block below labelled with its number:
      (1) format: prefix, base45, zlib, CBOR, COSE_Sign1 structure, size limits, claims schema
      (2) key known: the protected ``kid`` is in the directory
      (3) signature: that key signed exactly these headers and claims
      (4) key valid on the issue date (not before its start, not past retirement or expiry,
          not on or after its revocation)
      (5) institution active on the issue date (not suspended, not removed)
      (6) occupation, level and work type within a filed scope on the issue date
      (7) certificate number consistent with level, issue year and the signer's institution code
      (8) status in the status list: valid (not revoked, not suspended)
      (9) online only: the registry's record has the same SHA-256 of the COSE bytes and is valid
    """
    is_online = record is not None if online is None else online
    run = _Run(trust, now, is_online)

    # (1) format
    try:
        parsed = decode(qr_text)
    except CredentialError as e:
        return run.stop(_FORMAT, Failure(e.code, "", e.detail), None, None)
    claims = parsed.claims
    confirmation = _holder(claims, holder, holder_match)

    # (2) key known
    if trust is None:
        return run.stop(_KEY_KNOWN, Failure("trust_missing"), claims, None, confirmation)
    directory_fresh = now <= trust.directory.expires_at + clock_skew
    signing_key = trust._keys.get(parsed.kid)
    if signing_key is None:
        unknown = Failure("key_unknown" if directory_fresh else "trust_expired")
        return run.stop(_KEY_KNOWN, unknown, claims, None, confirmation)
    institution = signing_key.institution

    # (3) signature
    sign1 = parsed.sign1
    if not signing_key.public_key.verify(sign1.to_be_signed(), sign1.signature):
        return run.stop(_SIGNATURE, Failure("signature_invalid"), claims, institution, confirmation)
    if not directory_fresh:
        return run.stop(_KEY_VALID, Failure("trust_expired"), claims, institution, confirmation)

    # (4) key valid, (5) institution active, (6) within scope — all at the issue date, which
    # cannot lie in the future (the registry's calendar, with the tolerated clock skew)
    if claims.issue_date > registry_day(now + clock_skew):
        return run.stop(_KEY_VALID, Failure("issue_date_future"), claims, institution, confirmation)
    window = trust.window_verdict(signing_key, claims)
    if window is not None:
        return run.stop(window[0], window[1], claims, institution, confirmation)

    # (7) certificate number consistent with the claims and the institution
    failure = checks.certificate_number(claims, institution)
    if failure is not None:
        return run.stop(_CERTNO, failure, claims, institution, confirmation)

    # (8) status from the status list
    if now > trust.status_lists_expire_at + clock_skew:
        failure = Failure("trust_expired")
    else:
        failure = checks.status(trust.status_lists, claims)
    if failure is not None:
        return run.stop(_STATUS, failure, claims, institution, confirmation)

    # (9) online only: the registry's record matches
    if is_online:
        digest = hashlib.sha256(parsed.cose_bytes).hexdigest()
        failure = checks.registry_record(record, claims, digest)
        if failure is not None:
            return run.stop(_RECORD, failure, claims, institution, confirmation)
    verdict = run.valid(claims, institution, confirmation)
    if is_online:
        return verdict
    notes = _later_withdrawals(signing_key, registry_day(now))
    return replace(verdict, notes=notes) if notes else verdict


def _later_withdrawals(signing_key: _SigningKey, today: date) -> tuple[dict[str, str], ...]:
    """Warnings for an offline *valid*: the key revoked, or the institution removed, after the issue
    date. Either still vouches for what came before, but whoever holds the withdrawn key can date
    a forgery before the withdrawal: only the registry's record (check 9) tells the two apart."""
    notes = []
    if signing_key.entry.revoked is not None:
        notes.append(note("key_later_revoked"))
    if signing_key.institution.status_on(today) == REMOVED:
        notes.append(note("institution_later_removed"))
    return tuple(notes)


def _window_checks(signing_key: _SigningKey, claims: CertificateClaims) -> tuple[int, Failure] | None:
    day = claims.issue_date
    failure = checks.key_validity(signing_key.entry, day)
    if failure is not None:
        return _KEY_VALID, failure
    failure = checks.institution_standing(signing_key.institution, day)
    if failure is not None:
        return _INSTITUTION, failure
    failure = checks.scope(signing_key.institution, claims)
    return None if failure is None else (_SCOPE, failure)


def _holder(
    claims: CertificateClaims, holder: HolderInput | None, holder_match: bool | None
) -> dict[str, Any] | None:
    if holder is None:
        return None
    if holder_match is not None:
        return checks.holder_online(holder_match)
    return checks.holder_offline(claims, holder)


class _Run:
    """What every verdict of one verification shares: trust age, mode, the number of checks."""

    __slots__ = ("mode", "now", "steps", "trust", "trust_age", "trust_as_of")

    def __init__(self, trust: TrustData | None, now: int, online: bool) -> None:
        self.trust = trust
        self.now = now
        self.mode = ONLINE if online else OFFLINE
        self.steps = len(CHECK_CODES) if online else OFFLINE_CHECKS
        self.trust_as_of = None if trust is None else trust.directory.issued_at
        self.trust_age = None if self.trust_as_of is None else max(0, now - self.trust_as_of)

    def valid(
        self, claims: CertificateClaims, institution: Institution, confirmation: dict[str, Any] | None
    ) -> Verdict:
        message = messages.VALID
        if confirmation is not None and not (confirmation["name_match"] and confirmation["id_match"]):
            message = (message[0] + messages.HOLDER_MISMATCH[0], message[1] + messages.HOLDER_MISMATCH[1])
        return make_verdict(
            VALID,
            VALID,
            message,
            PASSED if self.steps == len(CHECK_CODES) else _ALL_PASSED_OFFLINE,
            self._credential(claims, institution),
            {"code": institution.code, "name": institution.name},
            self.trust_as_of,
            self.trust_age,
            self.mode,
            confirmation,
        )

    def stop(
        self,
        step: int,
        failure: Failure,
        claims: CertificateClaims | None,
        institution: Institution | None,
        confirmation: dict[str, Any] | None = None,
    ) -> Verdict:
        """The verdict when check ``step`` failed: earlier ones passed, later ones did not run."""
        indeterminate = failure.code in INDETERMINATE_CODES
        return make_verdict(
            INDETERMINATE if indeterminate else INVALID,
            failure.code,
            messages.summary(failure.code, indeterminate),
            (*PASSED[:step], _failed(step, failure), *NOT_RUN_CHECKS[step + 1 : self.steps]),
            None if claims is None else self._credential(claims, institution),
            None if institution is None else {"code": institution.code, "name": institution.name},
            self.trust_as_of,
            self.trust_age,
            self.mode,
            confirmation,
        )

    def _credential(self, claims: CertificateClaims, institution: Institution | None) -> dict[str, Any]:
        """The claims as JSON (ID masked) with the names a person reads, from the signed directory."""
        credential = claims.to_json()
        credential["occupation_name"] = (
            None
            if institution is None or self.trust is None
            else self.trust._occupations.get((institution.code, claims.occupation_code))
        )
        credential["level_name_en"] = LEVEL_NAMES_EN[claims.level]
        return credential


def _failed(step: int, failure: Failure) -> Check:
    zh, en = messages.failure_text(failure.code)
    if failure.detail_zh:
        zh = f"{zh}（{failure.detail_zh}）"
    if failure.detail_en:
        en = f"{en} ({failure.detail_en})"
    return Check(CHECK_CODES[step], FAIL, failure.code, zh, en)
