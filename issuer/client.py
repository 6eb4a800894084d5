"""The issuer's side of the registry HTTP contract (docs/api.md), with typed errors.

Every call either returns the decoded JSON answer or raises a ``RegistryError`` subclass that
carries the registry's own ``code`` and bilingual messages, so the CLI can tell a clerk what to do
(check the address, renew the token, ...). Connection failures and 5xx answers are retried with
exponential backoff, but only for calls that are safe to repeat: reads, batch submission (idempotent
by ``batch_id``) and publication (idempotent by credential), so a retry can never issue anything
twice. Key registration and retirement are sent once. A certificate status change is retried too:
the registry refuses a repeat with 409, and a 409 after a retry that finds the certificate already in
the requested state means the first attempt went through, so it is reported as success. 4xx
answers are final and never retried.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import date
from typing import Any

import httpx
import orjson

from common.errors import SkillpassError
from credential.constants import DEFAULT_LIMITS
from credential.directory import Directory, Scope
from credential.errors import CredentialError
from credential.qr_text import LOOPBACK_HOSTS, from_qr_text
from credential.signed_document import TYP_DIRECTORY, open_document
from keys import KeyMaterialError, from_jwk

API = "/api/v1"
DEFAULT_TIMEOUT = 30.0
DEFAULT_RETRIES = 4
_BACKOFF_START = 0.25
_BACKOFF_MAX = 4.0
_STATUS_AFTER = {"revoke": "revoked", "suspend": "suspended", "reinstate": "valid"}


class RegistryError(SkillpassError):
    """A registry call that failed; ``code`` is stable, the messages are for people."""

    def __init__(
        self,
        code: str,
        message_zh: str,
        message_en: str,
        *,
        status: int | None = None,
        details: Sequence[Any] = (),
    ) -> None:
        super().__init__(code, message_zh, message_en)
        self.status = status
        self.details = list(details)


class RegistryUnavailableError(RegistryError):
    """The registry could not be reached, or kept answering 5xx, after every retry."""


class RegistryAuthError(RegistryError):
    """The token was missing, unknown or not allowed to do this (401/403)."""


class RegistryNotFoundError(RegistryError):
    """The thing asked for does not exist in the registry (404)."""


class RegistryRejectedError(RegistryError):
    """Any other 4xx: the registry understood the request and refused it."""


class RegistryClient:
    """A thin, synchronous client for the endpoints the issuer uses."""

    def __init__(
        self,
        base_url: str,
        token: str | None = None,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        retries: int = DEFAULT_RETRIES,
        sleep: Callable[[float], None] = time.sleep,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.base_url = base_url.rstrip("/")
        self._retries = retries
        self._sleep = sleep
        self._http = httpx.Client(
            base_url=self.base_url, headers=headers, timeout=timeout, transport=transport
        )

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def __enter__(self) -> RegistryClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # Directory -------------------------------------------------------------------------------

    def institution(self, code: str) -> dict[str, Any]:
        """The institution's directory record (scopes, status history, keys)."""
        return _object(self._call("GET", f"{API}/institutions/{code}"))

    def scopes(self, code: str) -> list[Scope]:
        """The institution's filed scope entries, as the shared ``Scope`` model."""
        return parse_scopes(self.institution(code))

    def official_verifier_url(self) -> str | None:
        """Where a certificate's QR should send a phone camera: the first official verifier host of
        the registry's signed directory (``https://host``; ``http`` only on this machine), or None
        when it lists none. The snapshot is opened with the registry key fetched over the same
        connection: the trust the issuer already gives this registry's scopes, and no more."""
        try:
            key = from_jwk(self._call("GET", f"{API}/registry-key"))
            data = self._call("GET", f"{API}/trust-list", decode=_content)
            assert isinstance(data, bytes)
            hosts = Directory.from_payload(open_document(data, key, TYP_DIRECTORY)).verifier_hosts
        except (CredentialError, KeyMaterialError) as e:
            raise _malformed(f"trust-list ({e.code})") from e
        if not hosts:
            return None
        scheme = "http" if hosts[0].rsplit(":", 1)[0] in LOOPBACK_HOSTS else "https"
        return f"{scheme}://{hosts[0]}"

    def register_key(
        self, code: str, jwk: Mapping[str, Any], valid_from: date, valid_until: date | None = None
    ) -> dict[str, Any]:
        """Register a public key for the institution."""
        body: dict[str, Any] = {"jwk": dict(jwk), "valid_from": valid_from.isoformat()}
        if valid_until is not None:
            body["valid_until"] = valid_until.isoformat()
        return _object(self._call("POST", f"{API}/institutions/{code}/keys", body, retry=False))

    def retire_key(self, code: str, kid_b64: str, retired: date) -> dict[str, Any]:
        """Retire a key: it keeps vouching for what it signed up to ``retired``."""
        path = f"{API}/institutions/{code}/keys/{kid_b64}/retire"
        return _object(self._call("POST", path, {"retired": retired.isoformat()}, retry=False))

    # Batches ---------------------------------------------------------------------------------

    def submit_batch(
        self, batch_id: str, institution_code: str, rows: Sequence[Mapping[str, Any]]
    ) -> dict[str, Any]:
        """Submit a roster for review (idempotent by ``batch_id``)."""
        body = {"batch_id": batch_id, "institution_code": institution_code, "rows": [dict(r) for r in rows]}
        return _object(self._call("POST", f"{API}/batches", body))

    def batch(self, batch_id: str) -> dict[str, Any]:
        """A batch with every row's state and, once approved, its certificate."""
        return _object(self._call("GET", f"{API}/batches/{batch_id}"))

    def publish(self, batch_id: str, credentials: Sequence[tuple[int, str]]) -> list[dict[str, Any]]:
        """Publish signed credentials ``(row, qr_text)``; one result per row."""
        body = {"credentials": [{"row": row, "qr": qr} for row, qr in credentials]}
        answer = _object(self._call("POST", f"{API}/batches/{batch_id}/publish", body))
        results = answer.get("results")
        if not isinstance(results, list):
            raise _malformed("publish results")
        return [_object(r) for r in results]

    def record(self, certificate_number: str, qr: str) -> dict[str, Any] | None:
        """The published record of a certificate if the registry publishes exactly the credential
        ``qr`` (the registry answers only to a holder of the credential: it is asked with the SHA-256
        of the COSE bytes); None when it publishes no such credential under that number."""
        digest = credential_sha256(qr)
        path = f"{API}/certificates/{certificate_number}/record"
        try:
            return _object(self._call("GET", path, params={"sha256": digest}))
        except RegistryNotFoundError:
            return None

    def issued(self, code: str) -> list[dict[str, Any]]:
        """The institution's certificates with their current status (ID numbers masked)."""
        answer = _object(self._call("GET", f"{API}/institutions/{code}/certificates"))
        found = answer.get("certificates")
        if not isinstance(found, list):
            raise _malformed("certificate list")
        return [_object(c) for c in found]

    def set_status(self, certificate_number: str, action: str, reason: str) -> dict[str, Any]:
        """Revoke, suspend or reinstate one of the institution's certificates."""
        return self.change_status(certificate_number, action, reason, None)

    def change_status(
        self, certificate_number: str, action: str, reason: str, category: str | None
    ) -> dict[str, Any]:
        """``set_status`` with the public reason category of a revocation or suspension (the
        registry's fixed list); ``reason`` stays private to the registry."""
        path = f"{API}/certificates/{certificate_number}/status"
        target = _STATUS_AFTER.get(action)

        def already_done(error: RegistryRejectedError) -> object:
            # Our first attempt went through but its answer was lost: the repeat finds the target state.
            if error.code == "status_change_invalid" and _reported_status(error) == target:
                return {"certificate_number": certificate_number, "status": target}
            raise error

        body: dict[str, Any] = {"action": action, "reason": reason}
        if category is not None:
            body["category"] = category
        return _object(self._call("POST", path, body, after_retry_conflict=already_done))

    # Transport -------------------------------------------------------------------------------

    def _call(
        self,
        method: str,
        path: str,
        body: Mapping[str, Any] | None = None,
        params: Mapping[str, str] | None = None,
        *,
        retry: bool = True,
        after_retry_conflict: Callable[[RegistryRejectedError], object] | None = None,
        decode: Callable[[httpx.Response], object] | None = None,
    ) -> object:
        """One request, retried on connection errors and 5xx when ``retry``; the JSON answer or a
        typed error. A 409 to a repeated request goes to ``after_retry_conflict`` when given."""
        delay = _BACKOFF_START
        attempts = self._retries + 1 if retry else 1
        for attempt in range(attempts):
            last = attempt == attempts - 1
            try:
                response = self._http.request(
                    method, path, content=_json(body), headers=_headers(body), params=params
                )
            except httpx.TransportError as e:
                if last:
                    raise _unreachable(self.base_url, str(e)) from e
            else:
                if response.status_code < 500:
                    try:
                        return (decode or _answer)(response)
                    except RegistryRejectedError as e:
                        if attempt > 0 and e.status == 409 and after_retry_conflict is not None:
                            return after_retry_conflict(e)
                        raise
                if last:
                    raise _server_error(response)
            self._sleep(delay)
            delay = min(delay * 2, _BACKOFF_MAX)
        raise AssertionError("unreachable")  # pragma: no cover - the loop always returns or raises


def _reported_status(error: RegistryError) -> object:
    """The certificate's current status as the registry's ``status_change_invalid`` names it."""
    return next((d.get("status") for d in error.details if isinstance(d, dict)), None)


def credential_sha256(qr: str) -> str:
    """Hex SHA-256 of the COSE bytes inside a QR text (what the registry stores for a publication)."""
    return hashlib.sha256(from_qr_text(qr, DEFAULT_LIMITS)[0]).hexdigest()


def parse_scopes(record: Mapping[str, Any]) -> list[Scope]:
    """The ``Scope`` entries of an institution record as the registry answers it."""
    try:
        return [_scope(entry) for entry in record["scopes"]]
    except (KeyError, TypeError, ValueError) as e:
        raise _malformed("institution scopes") from e


def _scope(entry: Mapping[str, Any]) -> Scope:
    until = entry.get("valid_until")
    return Scope(
        occupation_code=str(entry["occupation_code"]),
        occupation_name=str(entry["occupation_name"]),
        levels=tuple(int(level) for level in entry["levels"]),
        valid_from=date.fromisoformat(str(entry["valid_from"])),
        valid_until=None if until is None else date.fromisoformat(str(until)),
        work_types=tuple(str(w) for w in entry.get("work_types", ("--",))),
    )


def _content(response: httpx.Response) -> object:
    """The body's bytes of a successful answer (a signed document); errors as ``_answer`` has them."""
    return response.content if response.is_success else _answer(response)


def _json(body: Mapping[str, Any] | None) -> bytes | None:
    """A request body as JSON, by orjson: a 10,000-row submission is 2-3 MB, which ``json`` takes ten times
    as long to write."""
    return None if body is None else orjson.dumps(body)


def _headers(body: Mapping[str, Any] | None) -> dict[str, str] | None:
    return None if body is None else {"content-type": "application/json"}


def _answer(response: httpx.Response) -> object:
    if response.is_success:
        try:
            return orjson.loads(response.content)  # a 10,000-row batch report is read three times a run
        except ValueError as e:
            raise _malformed(f"{response.request.url.path} answer") from e
    code, zh, en, details = _error_body(response)
    status = response.status_code
    if status in (401, 403):
        raise RegistryAuthError(
            code,
            f"令牌被拒绝（{zh}）：请检查凭据文件中的令牌是否有效、是否属于该机构",
            f"token rejected ({en}): check that the token in the credentials file is valid and "
            "belongs to this institution",
            status=status,
            details=details,
        )
    error = RegistryNotFoundError if status == 404 else RegistryRejectedError
    raise error(code, zh, en, status=status, details=details)


def _error_body(response: httpx.Response) -> tuple[str, str, str, list[Any]]:
    """The contract's error body, or a generic one naming the HTTP status."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and isinstance(body.get("code"), str):
        details = body.get("details")
        return (
            body["code"],
            str(body.get("message_zh", "")),
            str(body.get("message_en", "")),
            details if isinstance(details, list) else [],
        )
    status = response.status_code
    return (f"http_{status}", f"登记系统返回 HTTP {status}", f"the registry answered HTTP {status}", [])


def _unreachable(base_url: str, why: str) -> RegistryUnavailableError:
    return RegistryUnavailableError(
        "registry_unreachable",
        f"无法连接登记系统 {base_url}（{why}）：请检查地址和网络后重试",
        f"cannot reach the registry at {base_url} ({why}): check the address and network, then retry",
    )


def _server_error(response: httpx.Response) -> RegistryUnavailableError:
    return RegistryUnavailableError(
        "registry_server_error",
        f"登记系统暂时出错（HTTP {response.status_code}）：请稍后用同一命令重试",
        f"the registry failed (HTTP {response.status_code}): retry the same command later",
        status=response.status_code,
    )


def _malformed(what: str) -> RegistryError:
    return RegistryError(
        "registry_answer_invalid",
        f"登记系统的应答格式不正确：{what}",
        f"the registry's answer is malformed: {what}",
    )


def _object(value: object) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _malformed("expected a JSON object")
    return value
