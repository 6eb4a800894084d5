"""Trust data on disk and over HTTP: sync from the registry, keep it, refresh it in the background.

All decisions about the bytes are taken in ``snapshot`` (signatures, bounds, rollback); this
module only fetches, stores and schedules. The cache is one CBOR file holding the documents
exactly as the registry signed them, replaced atomically, and re-verified against the pinned
key whenever it is loaded — the disk is a convenience, never a source of trust. The key pinned
at the last successful sync is kept next to it (``registry-key.jwk``) so that offline use
needs no key argument; passing a key always overrides it.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import cbor2
import httpx

from credential.signed_document import DOCUMENT_LIMITS
from keys import KeyMaterialError, PublicKey, from_jwk, to_jwk
from verifier.engine import TrustData
from verifier.errors import TrustError
from verifier.snapshot import (
    HighWater,
    SignedTrust,
    TrustBounds,
    check_high_water,
    check_update,
    open_trust,
)

__all__ = ["CACHE_ENV", "TrustStore", "VerifierConfig", "default_cache_dir", "load_registry_key"]

CACHE_ENV: Final = "SKILLPASS_VERIFIER_CACHE"
_CACHE_FILE = "trust.cbor"
_KEY_FILE = "registry-key.jwk"
# The high-water marks (`snapshot.HighWater`), kept apart from the cache: losing, corrupting or
# replacing the cache must not reopen the door to older (rolled-back) trust data. The file once held
# only the directory sequence as a bare integer; such a file is still read.
_HIGH_WATER_FILE = "sequence.high-water"
_CACHE_VERSION = 1
_FINGERPRINT = re.compile(r"^[0-9a-fA-F]{64}$")
_MAX_AGE = re.compile(r"max-age=(\d+)")
_MAX_DOCUMENT_BYTES = DOCUMENT_LIMITS.max_decompressed
_MAX_JSON_BYTES = 1024 * 1024

_log = logging.getLogger(__name__)


def default_cache_dir() -> Path:
    """``$SKILLPASS_VERIFIER_CACHE`` or ``~/.cache/skillpass/verifier``."""
    configured = os.environ.get(CACHE_ENV)
    return Path(configured) if configured else Path.home() / ".cache" / "skillpass" / "verifier"


@dataclass(frozen=True)
class VerifierConfig:
    """Where trust data lives, where it comes from, the pinned key, and the time bounds."""

    cache_dir: Path = field(default_factory=default_cache_dir)
    registry_url: str | None = None  # online sync and online record checks
    registry_key: PublicKey | None = None  # pinned; None: the key pinned at the last sync
    max_ttl: int = 86400  # refresh at least this often
    min_ttl: int = 30  # and never more often than this
    clock_skew: int = 300
    max_validity: int = 30 * 86400  # a signed document is stale this long after issue at the latest
    timeout: float = 10.0  # seconds per HTTP request

    @property
    def base_url(self) -> str | None:
        """The registry URL without a trailing slash."""
        return None if self.registry_url is None else self.registry_url.rstrip("/")

    @property
    def bounds(self) -> TrustBounds:
        """The bounds ``snapshot`` applies."""
        return TrustBounds(clock_skew=self.clock_skew, max_validity=self.max_validity)


def load_registry_key(spec: str, registry_url: str | None = None, *, timeout: float = 10.0) -> PublicKey:
    """The registry key to pin: a JWK file path, or the hex SHA-256 of the raw key checked against
    the key the registry serves at ``GET /api/v1/registry-key``."""
    if _FINGERPRINT.match(spec) and not Path(spec).exists():
        if registry_url is None:
            raise TrustError("registry_key_missing", "a fingerprint needs --registry to fetch the key")
        with httpx.Client(timeout=timeout) as client:
            key = _key_from_jwk(_get_json(client, f"{registry_url.rstrip('/')}/api/v1/registry-key"))
        if hashlib.sha256(key.raw).hexdigest() != spec.lower():
            raise TrustError("registry_key_mismatch", f"served key has kid {key.kid_b64}")
        return key
    try:
        return _key_from_jwk(json.loads(Path(spec).read_text(encoding="utf-8")))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise TrustError("registry_key_invalid", f"{spec}: {e}") from e


class TrustStore:
    """The verified trust data in memory, its copy on disk, and the sync that renews both."""

    def __init__(self, config: VerifierConfig, *, clock: Callable[[], float] = time.time) -> None:
        self.config = config
        self._clock = clock
        self._lock = threading.Lock()  # first load from disk
        self._sync_lock = threading.Lock()  # one sync at a time
        self._current: TrustData | None = None
        self._loaded = False
        self._refresh_after = config.max_ttl
        self._synced_at: int | None = None
        self.last_error: TrustError | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # --- reading ---------------------------------------------------------------------------

    def current(self) -> TrustData | None:
        """The verified trust data held, loading (and re-verifying) the disk copy on first use."""
        if not self._loaded:
            with self._lock:
                if not self._loaded:
                    self._current = self._load()
                    self._loaded = True
        return self._current

    def pinned_key(self) -> PublicKey | None:
        """The configured key, else the one pinned at the last successful sync."""
        if self.config.registry_key is not None:
            return self.config.registry_key
        path = self.config.cache_dir / _KEY_FILE
        try:
            return _key_from_jwk(json.loads(path.read_text(encoding="utf-8")))
        except FileNotFoundError:
            return None
        except (OSError, UnicodeDecodeError, json.JSONDecodeError, TrustError) as e:
            _log.warning("ignoring unreadable pinned key %s: %s", path, e)
            return None

    def next_refresh_at(self) -> int:
        """When the held data should be renewed (now, when nothing is held)."""
        trust = self.current()
        if trust is None or self._synced_at is None:
            return 0
        due = self._synced_at + self._refresh_after
        return min(due, trust.expires_at - self.config.min_ttl)

    # --- syncing ---------------------------------------------------------------------------

    def sync(self, now: int) -> TrustData:
        """Fetch, verify and accept new trust data, then store it; on any error keep what we hold."""
        url, key = self.config.base_url, self.pinned_key()
        if url is None:
            raise TrustError("trust_unreachable", "no registry URL is configured")
        if key is None:
            raise TrustError("registry_key_missing")
        try:
            signed, ttls = _fetch(url, self.config.timeout)
            trust = open_trust(signed, key, self.config.bounds)
            if trust.ttl is not None:
                ttls.append(trust.ttl)
            with self._sync_lock:
                check_update(trust, self.current(), now, self.config.bounds)
                marks = self._high_water()
                check_high_water(trust, marks)
                refresh = min([self.config.max_ttl, *(max(self.config.min_ttl, t) for t in ttls)])
                self._write(signed, key, now, refresh, marks.raised_to(trust))
                self._current, self._loaded = trust, True
                self._synced_at, self._refresh_after = now, refresh
        except TrustError as e:
            self.last_error = e
            raise
        self.last_error = None
        return trust

    def start_background_refresh(self) -> None:
        """Renew by the documents' ``ttl`` in a daemon thread; failures retry with backoff."""
        if self.config.base_url is None or self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(
            target=self._refresh_loop, name="skillpass-trust-refresh", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop the background refresh and wait for it."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self.config.timeout + 5)
            self._thread = None

    def _refresh_loop(self) -> None:
        retry = self.config.min_ttl
        while True:
            now = int(self._clock())
            delay = max(0, self.next_refresh_at() - now)
            if delay and self._stop.wait(delay):
                return
            if self._stop.is_set():
                return
            try:
                self.sync(int(self._clock()))
                retry = self.config.min_ttl
            except Exception as e:
                _log.warning("trust data refresh failed: %s", e)
                if self._stop.wait(retry):
                    return
                retry = min(retry * 2, self.config.max_ttl)

    # --- disk ------------------------------------------------------------------------------

    def _high_water(self) -> HighWater:
        """The marks on disk; none when the file is missing (first sync) or unreadable (logged)."""
        path = self.config.cache_dir / _HIGH_WATER_FILE
        try:
            return _parse_high_water(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return HighWater()
        except (OSError, UnicodeDecodeError, ValueError, TypeError, AttributeError) as e:
            _log.warning("ignoring unreadable high-water marks %s: %s", path, e)
            return HighWater()

    def _load(self) -> TrustData | None:
        path = self.config.cache_dir / _CACHE_FILE
        key = self.pinned_key()
        if key is None or not path.exists():
            return None
        try:
            bundle = cbor2.loads(path.read_bytes())
            signed = SignedTrust(bundle["trust_list"], dict(bundle["status_lists"]))
            if bundle["v"] != _CACHE_VERSION:
                raise ValueError("unknown cache version")
            trust = open_trust(signed, key, self.config.bounds)
            check_high_water(trust, self._high_water())  # an older bundle planted in the folder
        except TrustError as e:
            self.last_error = e
            _log.warning("ignoring the trust cache %s: %s", path, e)
            return None
        except (OSError, cbor2.CBORDecodeError, KeyError, TypeError, ValueError) as e:
            self.last_error = TrustError("cache_unreadable", str(e))
            _log.warning("ignoring the trust cache %s: %s", path, e)
            return None
        self._synced_at, self._refresh_after = int(bundle["synced_at"]), int(bundle["refresh_after"])
        return trust

    def _write(
        self, signed: SignedTrust, key: PublicKey, now: int, refresh_after: int, marks: HighWater
    ) -> None:
        bundle = {
            "v": _CACHE_VERSION,
            "trust_list": signed.trust_list,
            "status_lists": dict(signed.status_lists),
            "synced_at": now,
            "refresh_after": refresh_after,
        }
        try:
            self.config.cache_dir.mkdir(parents=True, exist_ok=True)
            _write_atomically(self.config.cache_dir / _CACHE_FILE, cbor2.dumps(bundle))
            jwk = json.dumps(to_jwk(key), indent=2).encode()
            _write_atomically(self.config.cache_dir / _KEY_FILE, jwk)
            _write_atomically(self.config.cache_dir / _HIGH_WATER_FILE, _dump_high_water(marks))
        except OSError as e:
            raise TrustError("cache_unwritable", str(e)) from e


def _parse_high_water(text: str) -> HighWater:
    """``{"directory_sequence": N, "status_lists": {"ID": IAT}}``, or the former bare sequence."""
    value = json.loads(text)
    if type(value) is int:
        return HighWater(value, {})
    sequence, lists = value["directory_sequence"], value["status_lists"]
    marks = {int(list_id): iat for list_id, iat in lists.items()}
    if type(sequence) is not int or not all(type(iat) is int for iat in marks.values()):
        raise ValueError("marks must be integers")
    return HighWater(sequence, marks)


def _dump_high_water(marks: HighWater) -> bytes:
    lists = {str(list_id): iat for list_id, iat in sorted(marks.status_lists.items())}
    return json.dumps({"directory_sequence": marks.directory_sequence, "status_lists": lists}).encode()


def _write_atomically(path: Path, data: bytes) -> None:
    """Write to a temporary file in the same directory, flush it to disk, then rename over."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        Path(temporary).replace(path)
    except BaseException:
        with contextlib.suppress(OSError):
            Path(temporary).unlink()
        raise


def _fetch(base: str, timeout: float) -> tuple[SignedTrust, list[int]]:
    """The signed snapshot and every status list token, plus the ttl hints of each."""
    with httpx.Client(timeout=timeout) as client:
        trust_list, headers = _get_bytes(client, f"{base}/api/v1/trust-list")
        ttls = _max_age(headers)
        index = _get_json(client, f"{base}/api/v1/status-lists")
        status_lists: dict[int, bytes] = {}
        for list_id in _list_ids(index):
            status_lists[list_id], _ = _get_bytes(client, f"{base}/api/v1/status-lists/{list_id}")
    return SignedTrust(trust_list, status_lists), ttls


def _list_ids(index: Any) -> list[int]:
    """The list ids from the registry's Status List Aggregation: ``{"status_lists": [uri, …]}``,
    each URI ending in ``/status-lists/<id>``."""
    try:
        uris = list(index["status_lists"])
    except (KeyError, TypeError) as e:
        raise TrustError("trust_invalid", "the status list aggregation has the wrong shape") from e
    matches = [_LIST_URI.search(uri) if isinstance(uri, str) else None for uri in uris]
    if not all(matches):
        raise TrustError("trust_invalid", "status list URIs must end in /status-lists/<id>")
    return [int(match.group(1)) for match in matches if match is not None]


_LIST_URI = re.compile(r"/status-lists/([0-9]{1,10})$")


def _get_bytes(
    client: httpx.Client, url: str, limit: int = _MAX_DOCUMENT_BYTES
) -> tuple[bytes, httpx.Headers]:
    """GET with a cap on the body size, so a hostile server cannot fill memory."""
    try:
        with client.stream("GET", url) as response:
            if response.status_code != 200:
                raise TrustError("trust_unreachable", f"GET {url}: HTTP {response.status_code}")
            body = bytearray()
            for chunk in response.iter_bytes():
                body += chunk
                if len(body) > limit:
                    raise TrustError("trust_invalid", f"GET {url}: more than {limit} bytes")
            return bytes(body), response.headers
    except httpx.HTTPError as e:
        raise TrustError("trust_unreachable", f"GET {url}: {e}") from e


def _get_json(client: httpx.Client, url: str) -> Any:
    body, _ = _get_bytes(client, url, _MAX_JSON_BYTES)
    try:
        return json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise TrustError("trust_invalid", f"GET {url}: not JSON") from e


def _max_age(headers: httpx.Headers) -> list[int]:
    match = _MAX_AGE.search(headers.get("cache-control", ""))
    return [int(match.group(1))] if match else []


def _key_from_jwk(jwk: Any) -> PublicKey:
    try:
        return from_jwk(jwk)
    except KeyMaterialError as e:
        raise TrustError("registry_key_invalid", e.message_en) from e
