"""The verifier as the CLI and the HTTP service use it: trust store + registry client + engine.

``verify_text`` captures the reference time once and hands everything to ``engine.verify``;
online it first asks the registry for the certificate's record (and, when a holder was typed,
to confirm them). A registry that cannot be reached never blocks a verdict: the answer is the
offline one, saying so in its ``note``.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any
from urllib.parse import quote

import httpx

from credential import CredentialError, ParsedCredential, decode
from verifier import engine, messages
from verifier.errors import RegistryUnavailableError
from verifier.trust import TrustStore, VerifierConfig
from verifier.verdict import HolderInput, RegistryRecord, Verdict

__all__ = ["HolderInput", "RegistryRecord", "Verdict", "Verifier", "VerifierConfig"]

_RECORD_STATUSES = frozenset({"valid", "suspended", "revoked"})


class Verifier:
    """Verifies QR texts against the trust store, online when a registry is configured."""

    def __init__(
        self,
        config: VerifierConfig,
        *,
        clock: Callable[[], float] = time.time,
        store: TrustStore | None = None,
    ) -> None:
        self.config = config
        self._clock = clock
        self.store = store or TrustStore(config, clock=clock)
        self._client: httpx.Client | None = None

    def verify_text(
        self, qr_text: str, *, holder: HolderInput | None = None, online: bool | None = None
    ) -> Verdict:
        """The verdict for one QR text; ``online=None`` means online when a registry is configured."""
        now = int(self._clock())
        trust = self.store.current()
        text = qr_text.strip()
        go_online = self.config.base_url is not None if online is None else online
        if not go_online:
            return engine.verify(text, trust, now, holder=holder, clock_skew=self.config.clock_skew)
        parsed = _parsed(text)
        if parsed is None or self.config.base_url is None:  # malformed: the offline verdict says why
            verdict = engine.verify(text, trust, now, holder=holder, clock_skew=self.config.clock_skew)
            return verdict if parsed is None else _with_note(verdict, "registry_unreachable")
        number = parsed.claims.certificate_number
        try:
            record = self._record(number, hashlib.sha256(parsed.cose_bytes).hexdigest())
        except RegistryUnavailableError:
            verdict = engine.verify(text, trust, now, holder=holder, clock_skew=self.config.clock_skew)
            return _with_note(verdict, "registry_unreachable")
        holder_match, note = None, None
        if holder is not None:
            try:
                holder_match = self._confirm_holder(number, holder)
            except RegistryUnavailableError:
                note = "holder_offline"
        verdict = engine.verify(
            text,
            trust,
            now,
            record=record,
            online=True,
            holder=holder,
            holder_match=holder_match,
            clock_skew=self.config.clock_skew,
        )
        return verdict if note is None else _with_note(verdict, note)

    def trust_summary(self) -> dict[str, Any]:
        """How fresh the trust data is, for the web page, ``/healthz``-style checks and the CLI."""
        trust = self.store.current()
        now = int(self._clock())
        error = self.store.last_error
        summary: dict[str, Any] = {
            "available": trust is not None,
            "sequence": None,
            "issued_at": None,
            "expires_at": None,
            "age_seconds": None,
            "fresh": False,
            "institutions": 0,
            "status_lists": 0,
            "registry_url": self.config.base_url,
            "last_error": None if error is None else {"code": error.code, "message_zh": error.message_zh,
                                                      "message_en": error.message_en},
        }  # fmt: skip
        if trust is not None:
            summary |= {
                "sequence": trust.directory.sequence,
                "issued_at": trust.issued_at,
                "expires_at": trust.expires_at,
                "age_seconds": max(0, now - trust.issued_at),
                "fresh": now <= trust.expires_at + self.config.clock_skew,
                "institutions": len(trust.directory.institutions),
                "status_lists": len(trust.status_lists),
            }
        return summary

    def start(self) -> None:
        """Begin refreshing trust data in the background (when a registry is configured)."""
        self.store.start_background_refresh()

    def stop(self) -> None:
        """Stop the refresh and close connections."""
        self.store.stop()
        if self._client is not None:
            self._client.close()
            self._client = None

    # --- the registry's public, per-certificate endpoints ------------------------------------

    def _http(self) -> httpx.Client:
        if self._client is None:
            self._client = httpx.Client(timeout=self.config.timeout)
        return self._client

    def _record(self, number: str, sha256: str) -> RegistryRecord | None:
        """``GET /certificates/{n}/record?sha256=…``; None when the registry has no certificate with
        that number and those exact bytes (it answers only to someone holding the credential)."""
        url = f"{self.config.base_url}/api/v1/certificates/{quote(number)}/record"
        response = self._request("GET", url, params={"sha256": sha256})
        if response.status_code == 404:
            return None
        body = _json_object(response)
        try:
            record = RegistryRecord(body["certificate_number"], body["status"], body["credential_sha256"])
        except KeyError as e:
            raise RegistryUnavailableError("registry_unreachable", f"record without {e}") from e
        if not (
            all(isinstance(v, str) for v in (record.certificate_number, record.credential_sha256))
            and record.status in _RECORD_STATUSES
        ):
            raise RegistryUnavailableError("registry_unreachable", "the record has the wrong shape")
        return record

    def _confirm_holder(self, number: str, holder: HolderInput) -> bool:
        url = f"{self.config.base_url}/api/v1/certificates/{quote(number)}/confirm-holder"
        body = {"holder_name": holder.name, "id_number": holder.id_number}
        match = _json_object(self._request("POST", url, json=body)).get("match")
        if not isinstance(match, bool):
            raise RegistryUnavailableError("registry_unreachable", "confirm-holder answered no boolean")
        return match

    def _request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        try:
            response = self._http().request(method, url, **kwargs)
        except httpx.HTTPError as e:
            raise RegistryUnavailableError("registry_unreachable", f"{method} {url}: {e}") from e
        if response.status_code not in (200, 404):
            raise RegistryUnavailableError(
                "registry_unreachable", f"{method} {url}: HTTP {response.status_code}"
            )
        return response


def _parsed(text: str) -> ParsedCredential | None:
    try:
        return decode(text)
    except CredentialError:
        return None


def _json_object(response: httpx.Response) -> dict[str, Any]:
    if response.status_code != 200:
        raise RegistryUnavailableError("registry_unreachable", f"HTTP {response.status_code}")
    try:
        body = response.json()
    except ValueError as e:
        raise RegistryUnavailableError("registry_unreachable", "the answer is not JSON") from e
    if not isinstance(body, dict):
        raise RegistryUnavailableError("registry_unreachable", "the answer is not a JSON object")
    return body


_NOTES = {
    "registry_unreachable": messages.REGISTRY_UNREACHABLE,
    "holder_offline": messages.HOLDER_CHECK_OFFLINE,
}


def _with_note(verdict: Verdict, code: str) -> Verdict:
    zh, en = _NOTES[code]
    return replace(verdict, note={"code": code, "message_zh": zh, "message_en": en})
