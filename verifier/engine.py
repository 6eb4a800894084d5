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
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Final, TypeVar

from common.calendar import cst_minute, registry_day
from credential import CertificateClaims, CredentialError, ParsedCredential, decode
from credential.directory import REMOVED, Directory, Institution, KeyEntry
from credential.status_list import StatusList
from keys import PublicKey
from schemas.vocabulary import LEVEL_NAMES_EN, STATUS_REASON_CATEGORIES
from verifier import checks, messages
from verifier.checks import Failure
from verifier.verdict import (
    CHECK_CODES,
    FAIL,
    HOLDER_MISMATCH,
    INDETERMINATE,
    NOT_RUN_CHECKS,
    OFFLINE,
    OFFLINE_CHECKS,
    ONLINE,
    PASS,
    PASSED,
    REVOKED,
    SUSPENDED,
    UNRECOGNIZED,
    VALID,
    Check,
    HolderInput,
    RegistryRecord,
    Verdict,
    make_verdict,
    note,
    outcome_of,
)

__all__ = [
    "CLOCK_SKEW",
    "Check",
    "HolderInput",
    "RegistryRecord",
    "TrustData",
    "Verdict",
    "unrecognized",
    "verify",
]

#: Seconds of disagreement between our clock and the registry's that we tolerate (±5 minutes).
CLOCK_SKEW: Final = 300

# Step numbers, as indices into CHECK_CODES.
(_FORMAT, _KEY_KNOWN, _SIGNATURE, _KEY_VALID, _INSTITUTION, _SCOPE, _CERTNO, _STATUS, _RECORD) = range(
    len(CHECK_CODES)
)
_MEMO_SIZE: Final = 4096
_UNKNOWN: Final = object()  # a memo miss, where None is a remembered answer
_K = TypeVar("_K")
_V = TypeVar("_V")
_STATUS_VALUE: Final = {REVOKED: REVOKED, SUSPENDED: SUSPENDED}
_STATUS_FROM_REGISTRY: Final = Check(CHECK_CODES[_STATUS], PASS, None, *messages.STATUS_PASSED_REGISTRY)
_ALL_PASSED_ONLINE: Final = (*PASSED[:_STATUS], _STATUS_FROM_REGISTRY, PASSED[_RECORD])


@dataclass(frozen=True)
class _SigningKey:
    """A directory key ready to judge with: its institution, its entry, a ready ``PublicKey``, and
    what every verdict it vouches for shows (built once: verdicts share them and never edit them)."""

    institution: Institution
    entry: KeyEntry
    public_key: PublicKey
    institution_json: dict[str, str]  # the verdict's ``institution``
    occupation_names: dict[str, str]  # occupation code → name, from the filed scopes of this code


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
    _occupations: dict[str, dict[str, str]] = field(
        init=False, repr=False, compare=False, default_factory=dict
    )
    _valid_status: dict[int, dict[str, Any]] = field(
        init=False, repr=False, compare=False, default_factory=dict
    )
    _windows: dict[tuple[bytes, date, str, int, str], tuple[int, Failure] | None] = field(
        init=False, repr=False, compare=False, default_factory=dict
    )
    _offline_passed: dict[int, tuple[Check, ...]] = field(
        init=False, repr=False, compare=False, default_factory=dict
    )
    _later: dict[tuple[bytes, date], tuple[dict[str, str], ...]] = field(
        init=False, repr=False, compare=False, default_factory=dict
    )

    def __post_init__(self) -> None:
        for institution in self.directory.institutions:
            names = self._occupations.setdefault(institution.code, {})
            for scope in institution.scopes:
                names.setdefault(scope.occupation_code, scope.occupation_name)
        for institution in self.directory.institutions:
            shown = {"code": institution.code, "name": institution.name}
            for entry in institution.keys:
                public_key = PublicKey(entry.public_key)
                if public_key.kid == entry.kid:
                    names = self._occupations[institution.code]
                    self._keys[entry.kid] = _SigningKey(institution, entry, public_key, shown, names)

    def institution_code(self, kid: bytes) -> str | None:
        """The code of the institution whose directory entry holds the key ``kid``, if any."""
        signing_key = self._keys.get(kid)
        return None if signing_key is None else signing_key.institution.code

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
        answer = self._windows.get(memo_key, _UNKNOWN)
        if answer is _UNKNOWN:
            answer = _remember(self._windows, memo_key, _window_checks(signing_key, claims))
        return answer  # type: ignore[return-value]

    def later_withdrawals(self, signing_key: _SigningKey, today: date) -> tuple[dict[str, str], ...]:
        """``_later_withdrawals`` memoised per (key, day): its answer changes only with the trust data
        (these objects never change) and the day; every offline *valid* asks for it. The verdicts
        share the note dictionaries, as they share the passed checks: nothing edits them in place."""
        memo_key = (signing_key.entry.kid, today)
        answer = self._later.get(memo_key)
        if answer is None:
            answer = _remember(self._later, memo_key, _later_withdrawals(signing_key, today))
        return answer

    def offline_passed(self, list_id: int) -> tuple[Check, ...]:
        """Checks (1)–(8) all passed offline; (8) says which status list's time it holds "as of".

        Built once per list: a verification that passes allocates no Check objects.
        """
        try:
            return self._offline_passed[list_id]
        except KeyError:
            pass
        zh, en = messages.STATUS_PASSED_AS_OF
        as_of = cst_minute(self.status_list_time(list_id))
        status = Check(CHECK_CODES[_STATUS], PASS, None, zh.format(as_of=as_of), en.format(as_of=as_of))
        answer = self._offline_passed[list_id] = (*PASSED[:_STATUS], status)
        return answer

    def valid_status(self, list_id: int) -> dict[str, Any]:
        """Check (8)'s finding for an entry the status list ``list_id`` holds VALID: the same for
        every such credential, so built once per list and shared by the verdicts (which never
        edit it, as they share the passed checks)."""
        finding = self._valid_status.get(list_id)
        if finding is None:
            finding = self._valid_status[list_id] = {
                "value": VALID,
                "source": "status_list",
                "as_of": self.status_list_time(list_id),
                "date": None,
                "reason_category": None,
                "reason_zh": None,
                "reason_en": None,
            }
        return finding

    def status_list_time(self, list_id: int) -> int:
        """When the registry signed a status list (the directory's time if we hold no such list)."""
        return self.status_lists_issued_at.get(list_id, self.directory.issued_at)

    @property
    def issued_at(self) -> int:
        """When the registry issued the directory snapshot (unix seconds)."""
        return self.directory.issued_at

    @property
    def expires_at(self) -> int:
        """The earliest expiry of the directory and the status lists."""
        return min(self.directory.expires_at, self.status_lists_expire_at)


def _remember(memo: dict[_K, _V], key: _K, answer: _V) -> _V:
    """Keep ``answer`` under ``key``; the memo is emptied when it holds ``_MEMO_SIZE`` answers, so
    that it stays small whatever the credentials seen. (Callers look up first with ``dict.get``: a
    hit, nearly every verification, then costs no call and no closure.)"""
    if len(memo) >= _MEMO_SIZE:
        memo.clear()
    memo[key] = answer
    return answer


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
    decoded: ParsedCredential | None = None,
) -> Verdict:
    """Judge one QR text at reference time ``now`` (unix seconds).

    ``decoded``: ``qr_text`` already decoded by the caller (the online path decodes it to ask the
    registry about it), so that a verdict never decodes the same text twice.

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
      (8) status valid (not revoked, not suspended): online from the registry's record of these
          exact bytes, otherwise from the status list
      (9) online only: the registry's record has the same SHA-256 of the COSE bytes
    """
    is_online = record is not None if online is None else online
    run = _Run(trust, now, is_online)

    # (1) format
    try:
        parsed = decode(qr_text) if decoded is None else decoded
    except CredentialError as e:
        return run.stop(_FORMAT, Failure(e.code, "", e.detail), None, None)
    claims = parsed.claims
    confirmation = None if holder is None else _holder(claims, holder, holder_match)

    # (2) key known
    if trust is None:
        return run.stop(_KEY_KNOWN, Failure("trust_missing"), claims, None, confirmation)
    directory_fresh = now <= trust.directory.expires_at + clock_skew
    signing_key = trust._keys.get(parsed.kid)
    if signing_key is None:
        unknown = Failure("key_unknown" if directory_fresh else "trust_expired")
        return run.stop(_KEY_KNOWN, unknown, claims, None, confirmation)
    institution = signing_key.institution
    claims = claims.with_institution(institution.code)  # the number's derived parts (spec §5.2)

    # (3) signature
    sign1 = parsed.sign1
    if not signing_key.public_key.verify(sign1.to_be_signed(), sign1.signature):
        return run.stop(_SIGNATURE, Failure("signature_invalid"), claims, signing_key, confirmation)
    if not directory_fresh:
        return run.stop(_KEY_VALID, Failure("trust_expired"), claims, signing_key, confirmation)

    # (4) key valid, (5) institution active, (6) within scope — all at the issue date, which
    # cannot lie in the future (the registry's calendar, with the tolerated clock skew)
    if claims.issue_date > registry_day(now + clock_skew):
        return run.stop(_KEY_VALID, Failure("issue_date_future"), claims, signing_key, confirmation)
    window = trust.window_verdict(signing_key, claims)
    if window is not None:
        return run.stop(window[0], window[1], claims, signing_key, confirmation)

    # (7) certificate number consistent with the claims and the institution
    failure = checks.certificate_number(claims, institution)
    if failure is not None:
        return run.stop(_CERTNO, failure, claims, signing_key, confirmation)

    # (8) status. Online, the registry's answer about these exact bytes decides it: it is fresher
    # than any status list, and says since when and why. Offline (or when the registry holds other
    # bytes), the status list decides, "as of" the time the registry signed it.
    record_failure = None
    if is_online:
        digest = hashlib.sha256(parsed.cose_bytes).hexdigest()
        record_failure = checks.registry_record(record, claims, digest)
    if is_online and record_failure is None and record is not None:
        failure, run.status = checks.registry_status(record), _registry_status(record, now)
    else:
        failure, run.status = _status_list_finding(trust, claims, now, clock_skew)
    if failure is not None:
        return run.stop(_STATUS, failure, claims, signing_key, confirmation)

    # (9) online only: the registry published exactly these bytes under this number
    if record_failure is not None:
        return run.stop(_RECORD, record_failure, claims, signing_key, confirmation)
    notes = () if is_online else trust.later_withdrawals(signing_key, registry_day(now))
    return run.valid(claims, signing_key, confirmation, notes)


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


def unrecognized(code: str, reason: tuple[str, str], trust: TrustData | None, now: int) -> Verdict:
    """The verdict for an input with no QR text of ours to judge (a file that is not a picture,
    a picture without a QR code): check (1) fails with ``code``, and the outcome is *unrecognized*
    — it says nothing about any certificate, so it is never *invalid*."""
    run = _Run(trust, now, False)
    zh, en = reason
    checks_ = (Check(CHECK_CODES[_FORMAT], FAIL, code, zh, en), *NOT_RUN_CHECKS[1:OFFLINE_CHECKS])
    return make_verdict(
        UNRECOGNIZED,
        code,
        messages.unrecognized_summary(reason),
        checks_,
        None,
        None,
        run.trust_as_of,
        run.trust_age,
        run.mode,
        None,
        None,
        now,
        run.trust_version,
    )


def _status_list_finding(
    trust: TrustData, claims: CertificateClaims, now: int, clock_skew: int
) -> tuple[Failure | None, dict[str, Any]]:
    """Check (8) from the status list, and what it found (the list says no date and no reason)."""
    list_id = claims.status_list
    if now > trust.status_lists_expire_at + clock_skew:
        failure: Failure | None = Failure("trust_expired")
    else:
        failure = checks.status(trust.status_lists, claims)
    if failure is None:
        return None, trust.valid_status(list_id)
    value = _STATUS_VALUE.get(failure.code, "unknown")
    as_of = trust.status_list_time(list_id)
    return failure, {
        "value": value,
        "source": "status_list",
        "as_of": as_of,
        "date": None,
        "reason_category": None,
        "reason_zh": None,
        "reason_en": None,
    }


def _registry_status(record: RegistryRecord, now: int) -> dict[str, Any]:
    """What the registry said about these bytes; a category we do not know is passed on unnamed."""
    reason = STATUS_REASON_CATEGORIES.get(record.reason_category or "")
    return {
        "value": record.status,
        "source": "registry",
        "as_of": now,
        "date": record.status_date,
        "reason_category": record.reason_category if reason else None,
        "reason_zh": reason[0] if reason else None,
        "reason_en": reason[1] if reason else None,
    }


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


def _holder(claims: CertificateClaims, holder: HolderInput, holder_match: bool | None) -> dict[str, Any]:
    if holder_match is not None:
        return checks.holder_online(holder_match, claims, holder)
    return checks.holder_offline(claims, holder)


def _holder_difference(confirmation: dict[str, Any] | None) -> str | None:
    """Which typed field differs ("name", "id_number", "both"), or None when the holder matches."""
    if confirmation is None:
        return None
    name, number = confirmation["name_match"], confirmation["id_match"]
    if name and number:
        return None
    if not name and not number:
        return "both"
    return "id_number" if name else "name"


class _Run:
    """What every verdict of one verification shares: trust age, mode, the number of checks, and
    what check (8) found once it has run."""

    __slots__ = ("mode", "now", "status", "steps", "trust", "trust_age", "trust_as_of", "trust_version")

    def __init__(self, trust: TrustData | None, now: int, online: bool) -> None:
        self.trust = trust
        self.now = now
        self.mode = ONLINE if online else OFFLINE
        self.steps = len(CHECK_CODES) if online else OFFLINE_CHECKS
        self.trust_as_of = None if trust is None else trust.directory.issued_at
        self.trust_age = None if self.trust_as_of is None else max(0, now - self.trust_as_of)
        self.trust_version = None if trust is None else trust.directory.sequence
        self.status: dict[str, Any] | None = None

    def valid(
        self,
        claims: CertificateClaims,
        signing_key: _SigningKey,
        confirmation: dict[str, Any] | None,
        notes: tuple[dict[str, str], ...],
    ) -> Verdict:
        """Every check passed: valid, unless the holder someone typed is not this certificate's.
        ``notes`` are the warnings beside it (offline: a key or institution withdrawn later)."""
        outcome, code, message = VALID, VALID, messages.VALID
        differs = _holder_difference(confirmation)
        if differs is not None:
            outcome, code, message = HOLDER_MISMATCH, HOLDER_MISMATCH, messages.HOLDER_MISMATCH[differs]
        if self.mode == ONLINE:
            passed = _ALL_PASSED_ONLINE
        else:
            assert self.trust is not None  # a valid verdict needs trust data
            passed = self.trust.offline_passed(claims.status_list)
        return make_verdict(
            outcome,
            code,
            message,
            passed,
            self._credential(claims, signing_key),
            signing_key.institution_json,
            self.trust_as_of,
            self.trust_age,
            self.mode,
            confirmation,
            self.status,
            self.now,
            self.trust_version,
            notes,
        )

    def stop(
        self,
        step: int,
        failure: Failure,
        claims: CertificateClaims | None,
        signing_key: _SigningKey | None,
        confirmation: dict[str, Any] | None = None,
    ) -> Verdict:
        """The verdict when check ``step`` failed: earlier ones passed, later ones did not run."""
        outcome = outcome_of(failure.code)
        earlier = PASSED[:step]
        if step > _STATUS and self.mode == ONLINE:
            earlier = _ALL_PASSED_ONLINE[:step]
        return make_verdict(
            outcome,
            failure.code,
            self._summary(outcome, failure),
            (*earlier, _failed(step, failure), *NOT_RUN_CHECKS[step + 1 : self.steps]),
            None if claims is None else self._credential(claims, signing_key),
            None if signing_key is None else signing_key.institution_json,
            self.trust_as_of,
            self.trust_age,
            self.mode,
            confirmation,
            self.status,
            self.now,
            self.trust_version,
        )

    def _summary(self, outcome: str, failure: Failure) -> tuple[str, str]:
        if outcome in (REVOKED, SUSPENDED) and self.status is not None:
            registry = self.status["source"] == "registry"
            return messages.status_summary(
                outcome,
                self.status["date"],
                self.status["reason_category"],
                None if registry else cst_minute(self.status["as_of"]),
            )
        if outcome == UNRECOGNIZED:  # a QR without our prefix needs no further reason
            reason = None if failure.code == "prefix_missing" else messages.failure_text(failure.code)
            return messages.unrecognized_summary(reason)
        return messages.summary(failure.code, outcome == INDETERMINATE)

    @staticmethod
    def _credential(claims: CertificateClaims, signing_key: _SigningKey | None) -> dict[str, Any]:
        """The claims as JSON (ID masked) with the names a person reads, from the signed directory."""
        credential = claims.to_json()
        credential["occupation_name"] = (
            None if signing_key is None else signing_key.occupation_names.get(claims.occupation_code)
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
