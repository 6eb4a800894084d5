"""The verifier as the CLI and the HTTP service use it: trust store + registry client + engine.

``verify_text`` captures the reference time once and hands everything to ``engine.verify``;
online it first asks the registry for the certificate's record (and, when a holder was typed,
to confirm them). A registry that cannot be reached never blocks a verdict: the answer is the
offline one, with a note saying so added to the notes it already had (a ``key_later_revoked``
warning must survive the fallback: it is the only hint of a back-dated forgery).
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import quote

import httpx
import orjson

from credential import CredentialError, ParsedCredential, decode
from verifier import engine
from verifier.engine import TrustData
from verifier.errors import RegistryUnavailableError
from verifier.hosts import host_finding
from verifier.registry_client import RegistryClient, RegistryHttpError
from verifier.trust import TrustStore, VerifierConfig
from verifier.verdict import HolderInput, RegistryRecord, Verdict, with_note

__all__ = ["HolderInput", "RegistryRecord", "Verdict", "Verifier", "VerifierConfig"]

_RECORD_STATUSES = frozenset({"valid", "suspended", "revoked"})


class Verifier:
    """Verifies QR texts against the trust store, online when a registry is configured.

    ``verify_text`` (the CLI) and ``verify_text_async`` (the HTTP service) take the same steps;
    only the registry requests differ: a blocking client, or a pooled asynchronous one that lets
    one event loop keep hundreds of registry look-ups in flight without a thread each.
    """

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
        self._session: tuple[asyncio.AbstractEventLoop, RegistryClient] | None = None

    def verify_text(
        self, qr_text: str, *, holder: HolderInput | None = None, online: bool | None = None
    ) -> Verdict:
        """The verdict for one QR text of either form; ``online=None`` means online when a registry
        is configured. A URL form also says whether the host it names is an official verifier."""
        step = self._begin(qr_text, holder, online)
        if isinstance(step, Verdict):
            return self._with_host(step, qr_text)
        try:
            record = _record(self._request("GET", step.record_url))
        except RegistryUnavailableError:
            return self._with_host(step.offline("registry_unreachable"), qr_text)
        holder_match: bool | None = None
        if holder is not None:
            try:
                holder_match = _match(self._request("POST", step.holder_url, json=step.holder_body))
            except RegistryUnavailableError:
                return self._with_host(step.online(record, None, "holder_offline"), qr_text)
        return self._with_host(step.online(record, holder_match), qr_text)

    async def verify_text_async(
        self, qr_text: str, *, holder: HolderInput | None = None, online: bool | None = None
    ) -> Verdict:
        """``verify_text`` for an event loop: the record and the holder are asked for at once."""
        return self._with_host(await self._verdict_async(qr_text, holder, online), qr_text)

    async def _verdict_async(self, qr_text: str, holder: HolderInput | None, online: bool | None) -> Verdict:
        step = self._begin(qr_text, holder, online)
        if isinstance(step, Verdict):
            return step
        record_request = self._request_async("GET", step.record_url)
        if holder is None:
            try:
                record = _record(await record_request)
            except RegistryUnavailableError:
                return step.offline("registry_unreachable")
            return step.online(record, None)
        holder_request = self._request_async("POST", step.holder_url, json=step.holder_body)
        record_answer, holder_answer = await asyncio.gather(
            record_request, holder_request, return_exceptions=True
        )
        try:
            record = _record(_answered(record_answer))
        except RegistryUnavailableError:
            return step.offline("registry_unreachable")
        try:
            return step.online(record, _match(_answered(holder_answer)))
        except RegistryUnavailableError:
            return step.online(record, None, "holder_offline")

    def _with_host(self, verdict: Verdict, qr_text: str) -> Verdict:
        """A URL form's verdict says whether the host it names is an official verifier host."""
        trust = self.store.current()
        finding = host_finding(qr_text.strip(), None if trust is None else trust.directory)
        return verdict if finding is None else replace(verdict, verifier_host=finding)

    def _begin(self, qr_text: str, holder: HolderInput | None, online: bool | None) -> Verdict | _OnlineStep:
        """The verdict when no registry is asked; otherwise what the online steps need."""
        now = int(self._clock())
        trust = self.store.current()
        text = qr_text.strip()
        skew = self.config.clock_skew
        go_online = self.config.base_url is not None if online is None else online
        if not go_online:
            return engine.verify(text, trust, now, holder=holder, clock_skew=skew)
        parsed = _parsed(text)
        if parsed is None or self.config.base_url is None:  # malformed: the offline verdict says why
            verdict = engine.verify(text, trust, now, holder=holder, clock_skew=skew)
            return verdict if parsed is None else with_note(verdict, "registry_unreachable")
        signer = None if trust is None else trust.institution_code(parsed.kid)
        if signer is None:  # no number to ask about: the verdict stops at the key, before the record
            return engine.verify(text, trust, now, online=True, holder=holder, clock_skew=skew)
        number = quote(parsed.claims.with_institution(signer).certificate_number)
        base = f"{self.config.base_url}/api/v1/certificates/{number}"
        return _OnlineStep(
            text=text,
            parsed=parsed,
            trust=trust,
            now=now,
            holder=holder,
            clock_skew=skew,
            record_url=f"{base}/record?sha256={hashlib.sha256(parsed.cose_bytes).hexdigest()}",
            holder_url=f"{base}/confirm-holder",
        )

    def now(self) -> int:
        """The reference time verifications use now (receipts are dated by the same clock)."""
        return int(self._clock())

    def unrecognized(self, code: str, reason: tuple[str, str]) -> Verdict:
        """The verdict for an input that holds no QR text of ours (not a picture, no QR code)."""
        return engine.unrecognized(code, reason, self.store.current(), int(self._clock()))

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
        """Stop the refresh and close the blocking client (``aclose`` closes the asynchronous one)."""
        self.store.stop()
        if self._client is not None:
            self._client.close()
            self._client = None

    async def aclose(self) -> None:
        """Close the asynchronous client's pooled connections (from the loop that used them)."""
        if self._session is not None:
            _, session = self._session
            self._session = None
            await session.aclose()

    # --- the registry's public, per-certificate endpoints ------------------------------------

    def _request(self, method: str, url: str, json: dict[str, str] | None = None) -> _Answer:
        if self._client is None:
            self._client = httpx.Client(timeout=self.config.timeout)
        try:
            response = self._client.request(method, url, json=json)
        except httpx.HTTPError as e:
            raise RegistryUnavailableError("registry_unreachable", f"{method} {url}: {e}") from e
        return _checked(_Answer(response.status_code, response.content), url)

    async def _request_async(self, method: str, url: str, json: dict[str, str] | None = None) -> _Answer:
        body = None if json is None else orjson.dumps(json)
        try:
            status, content = await self._pooled_session().request(method, url, body)
        except (OSError, TimeoutError, RegistryHttpError, ValueError) as e:  # ValueError: not an http(s) URL
            raise RegistryUnavailableError("registry_unreachable", f"{method} {url}: {e!r}") from e
        return _checked(_Answer(status, content), url)

    def _pooled_session(self) -> RegistryClient:
        """One pooled client per event loop (connections belong to the loop that opened them);
        keep-alive connections to the registry are reused across requests. Our own small client
        rather than aiohttp or httpx: it costs a fraction of their CPU per look-up
        (``verifier.registry_client``, docs/decisions.md)."""
        loop = asyncio.get_running_loop()
        if self._session is None or self._session[0] is not loop:
            assert self.config.base_url is not None  # only online steps ask the registry
            session = RegistryClient(self.config.base_url, pool_size=_POOL_SIZE, timeout=self.config.timeout)
            self._session = (loop, session)
        return self._session[1]


_POOL_SIZE = 64  # connections to the registry kept open; more requests queue for one


@dataclass(frozen=True)
class _Answer:
    """What the registry answered, whichever client asked."""

    status: int
    body: bytes


@dataclass(frozen=True)
class _OnlineStep:
    """A well-formed credential on its way to the registry: what the verdict needs afterwards."""

    text: str
    parsed: ParsedCredential  # ``text`` decoded, so that its verdict does not decode it again
    trust: TrustData | None
    now: int
    holder: HolderInput | None
    clock_skew: int
    record_url: str
    holder_url: str

    @property
    def holder_body(self) -> dict[str, str]:
        assert self.holder is not None
        return {"holder_name": self.holder.name, "id_number": self.holder.id_number}

    def offline(self, note: str) -> Verdict:
        """The offline verdict, its own notes kept and ``note`` added (nothing is dropped)."""
        verdict = engine.verify(
            self.text,
            self.trust,
            self.now,
            holder=self.holder,
            clock_skew=self.clock_skew,
            decoded=self.parsed,
        )
        return with_note(verdict, note)

    def online(
        self, record: RegistryRecord | None, holder_match: bool | None, note: str | None = None
    ) -> Verdict:
        verdict = engine.verify(
            self.text,
            self.trust,
            self.now,
            record=record,
            online=True,
            holder=self.holder,
            holder_match=holder_match,
            clock_skew=self.clock_skew,
            decoded=self.parsed,
        )
        return verdict if note is None else with_note(verdict, note)


def _parsed(text: str) -> ParsedCredential | None:
    try:
        return decode(text)
    except CredentialError:
        return None


def _checked(answer: _Answer, url: str) -> _Answer:
    if answer.status not in (200, 404):
        raise RegistryUnavailableError("registry_unreachable", f"{url}: HTTP {answer.status}")
    return answer


def _answered(answer: _Answer | BaseException) -> _Answer:
    """One answer of ``asyncio.gather(..., return_exceptions=True)``: the response, or its error raised."""
    if isinstance(answer, RegistryUnavailableError):
        raise answer
    if isinstance(answer, BaseException):
        raise RegistryUnavailableError("registry_unreachable", repr(answer)) from answer
    return answer


def _record(response: _Answer) -> RegistryRecord | None:
    """The answer of ``GET /certificates/{n}/record?sha256=…``; None when the registry has no
    certificate with that number and those exact bytes (it answers only to someone holding the
    credential)."""
    if response.status == 404:
        return None
    body = _json_object(response)
    try:
        record = RegistryRecord(
            body["certificate_number"],
            body["status"],
            body["credential_sha256"],
            body.get("status_date"),
            body.get("reason_category"),
        )
    except KeyError as e:
        raise RegistryUnavailableError("registry_unreachable", f"record without {e}") from e
    if not (
        all(isinstance(v, str) for v in (record.certificate_number, record.credential_sha256))
        and all(isinstance(v, str | None) for v in (record.status_date, record.reason_category))
        and record.status in _RECORD_STATUSES
    ):
        raise RegistryUnavailableError("registry_unreachable", "the record has the wrong shape")
    return record


def _match(response: _Answer) -> bool:
    """The answer of ``POST /certificates/{n}/confirm-holder``."""
    match = _json_object(response).get("match")
    if not isinstance(match, bool):
        raise RegistryUnavailableError("registry_unreachable", "confirm-holder answered no boolean")
    return match


def _json_object(response: _Answer) -> dict[str, Any]:
    if response.status != 200:
        raise RegistryUnavailableError("registry_unreachable", f"HTTP {response.status}")
    try:
        body = orjson.loads(response.body)
    except orjson.JSONDecodeError as e:
        raise RegistryUnavailableError("registry_unreachable", "the answer is not JSON") from e
    if not isinstance(body, dict):
        raise RegistryUnavailableError("registry_unreachable", "the answer is not a JSON object")
    return body
