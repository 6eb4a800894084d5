"""Trust data: verification of signed snapshots and status lists, rollback, the disk cache, sync
over HTTP, background refresh, and online verification through ``Verifier``.

The HTTP side talks to ``FakeRegistry``: a tiny FastAPI app written here that serves signed
trust-list and status-list bytes (and certificate records) the way docs/api.md specifies. It is a
fake of the registry, because the real registry is being built in parallel; the integration test
against the real one comes later.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Response
from fastapi.responses import JSONResponse
from harness.servers import free_port, serve_app
from test_verifier_engine import ISSUE, World

from credential.constants import DEFAULT_LIMITS
from credential.directory import ACTIVE, REMOVED, Directory, Institution, StatusChange
from credential.qr_text import from_qr_text
from credential.signed_document import TYP_DIRECTORY, TYP_STATUS_LIST, sign_document
from credential.status_list import Status, StatusList
from credential.status_token import sign_status_list_token
from keys import Signer, to_jwk
from verifier import (
    HolderInput,
    TrustError,
    TrustStore,
    Verdict,
    Verifier,
    VerifierConfig,
    load_registry_key,
)
from verifier.service import create_app
from verifier.snapshot import HighWater, SignedTrust, TrustBounds, check_high_water, check_update, open_trust

INDEX = 123456


class FakeRegistry:
    """Serves what the registry's public API serves, from state the test changes at will."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.signer = world.registry
        self.now = int(time.time())
        self.sequence = 1
        self.list_issued_at = self.now - 60
        self.status = StatusList(2**20, 2)
        self.trust_list_override: bytes | None = None
        self.status_list_override: bytes | None = None
        self.records: dict[str, dict[str, Any]] = {}
        self.holder_match: object = True  # what confirm-holder answers as "match"
        self.institution: Institution | None = None  # None: the world's usual institution
        self.app = self._app()

    def directory(self) -> Directory:
        institutions = () if self.institution is None else (self.institution,)
        return self.world.directory(
            *institutions, sequence=self.sequence, issued_at=self.now - 60, expires_at=self.now + 86400
        )

    def trust_list(self) -> bytes:
        if self.trust_list_override is not None:
            return self.trust_list_override
        return sign_document(self.directory().to_payload(), self.signer, TYP_DIRECTORY)

    def status_list(self) -> bytes:
        if self.status_list_override is not None:
            return self.status_list_override
        return sign_status_list_token(self.status, self.signer, uri="http://registry.test/api/v1/status-lists/0",
                                      issued_at=self.list_issued_at, expires_at=self.now + 86400, ttl=1)  # fmt: skip

    def publish(self, text: str, status: str = "valid") -> None:
        digest = hashlib.sha256(from_qr_text(text, DEFAULT_LIMITS)[0]).hexdigest()
        number = "Y000011000001263000001"
        self.records[number] = {"certificate_number": number, "status": status, "credential_sha256": digest,
                                "published_at": "2026-11-24T00:00:00Z"}  # fmt: skip

    def _app(self) -> FastAPI:
        app = FastAPI()
        cose = "application/cose"

        @app.get("/api/v1/registry-key")
        def registry_key() -> dict[str, Any]:
            return to_jwk(self.signer.public_key)

        @app.get("/api/v1/trust-list")
        def trust_list() -> Response:
            return Response(
                self.trust_list(), media_type=cose, headers={"Cache-Control": "public, max-age=1"}
            )

        @app.get("/api/v1/status-lists")
        def status_lists() -> dict[str, Any]:
            return {"status_lists": ["http://registry.test/api/v1/status-lists/0"]}  # the draft's aggregation

        @app.get("/api/v1/status-lists/{list_id}")
        def status_list(list_id: int) -> Response:
            return Response(self.status_list(), media_type="application/statuslist+cwt")

        @app.get("/api/v1/certificates/{number}/record")
        def record(number: str, sha256: str = "") -> Response:
            """Like the registry: answers only to the exact credential's digest."""
            found = self.records.get(number)
            if found is None or found.get("credential_sha256") != sha256:
                return JSONResponse({"code": "not_found"}, status_code=404)
            return JSONResponse(found)

        @app.post("/api/v1/certificates/{number}/confirm-holder")
        def confirm_holder(number: str) -> Response:
            return JSONResponse({"match": self.holder_match})

        return app


@pytest.fixture(scope="module")
def world() -> World:
    return World()


@pytest.fixture
def registry(world: World) -> FakeRegistry:
    return FakeRegistry(world)


@pytest.fixture
def url(registry: FakeRegistry) -> Iterator[str]:
    with serve_app(registry.app) as base:
        yield base


def _store(tmp_path: Path, registry: FakeRegistry, url: str | None, **config: Any) -> TrustStore:
    key = registry.signer.public_key
    return TrustStore(VerifierConfig(cache_dir=tmp_path, registry_url=url, registry_key=key, **config))


# --- snapshot: pure checks on the signed documents --------------------------------------------


def _signed(registry: FakeRegistry) -> SignedTrust:
    return SignedTrust(registry.trust_list(), {0: registry.status_list()})


def test_open_trust_verifies_and_builds_trust_data(registry: FakeRegistry) -> None:
    trust = open_trust(_signed(registry), registry.signer.public_key, TrustBounds())
    assert trust.directory.sequence == 1
    assert trust.status_lists[0].size == 2**20
    assert trust.status_lists_issued_at == {0: registry.list_issued_at}
    assert trust.ttl == 1
    assert trust.expires_at == registry.now + 86400


def test_snapshot_with_a_bad_signature_is_refused(registry: FakeRegistry) -> None:
    forged = sign_document(registry.directory().to_payload(), Signer.generate(), TYP_DIRECTORY)
    with pytest.raises(TrustError) as caught:
        open_trust(SignedTrust(forged, {}), registry.signer.public_key, TrustBounds())
    assert caught.value.code == "trust_signature"
    flipped = bytearray(registry.trust_list())
    flipped[-1] ^= 1  # last byte of the signature
    with pytest.raises(TrustError) as caught:
        open_trust(SignedTrust(bytes(flipped), {}), registry.signer.public_key, TrustBounds())
    assert caught.value.code == "trust_signature"


def test_a_status_list_token_cannot_pass_as_the_directory(registry: FakeRegistry) -> None:
    with pytest.raises(TrustError) as caught:
        open_trust(SignedTrust(registry.status_list(), {}), registry.signer.public_key, TrustBounds())
    assert caught.value.code == "trust_signature"


def test_a_status_list_token_for_another_list_is_refused(registry: FakeRegistry) -> None:
    with pytest.raises(TrustError) as caught:
        open_trust(SignedTrust(registry.trust_list(), {7: registry.status_list()}),
                   registry.signer.public_key, TrustBounds())  # fmt: skip
    assert caught.value.code == "trust_invalid"


def test_expiry_is_bounded(registry: FakeRegistry) -> None:
    far = registry.world.directory(issued_at=1000, expires_at=10**10)
    signed = SignedTrust(sign_document(far.to_payload(), registry.signer, TYP_DIRECTORY), {})
    trust = open_trust(signed, registry.signer.public_key, TrustBounds(max_validity=3600))
    assert trust.directory.expires_at == 1000 + 3600


def test_rollback_of_directory_or_status_list_is_refused(registry: FakeRegistry) -> None:
    key, bounds, now = registry.signer.public_key, TrustBounds(), registry.now
    registry.sequence = 5
    held = open_trust(_signed(registry), key, bounds)
    registry.sequence = 4
    with pytest.raises(TrustError) as caught:
        check_update(open_trust(_signed(registry), key, bounds), held, now, bounds)
    assert caught.value.code == "trust_rollback"
    registry.sequence, registry.list_issued_at = 5, registry.list_issued_at - 600
    with pytest.raises(TrustError) as caught:
        check_update(open_trust(_signed(registry), key, bounds), held, now, bounds)
    assert caught.value.code == "trust_rollback"
    with pytest.raises(TrustError) as caught:
        check_update(open_trust(SignedTrust(registry.trust_list(), {}), key, bounds), held, now, bounds)
    assert caught.value.code == "trust_rollback"


def test_expired_or_future_data_is_refused_at_sync(registry: FakeRegistry) -> None:
    key, bounds = registry.signer.public_key, TrustBounds()
    trust = open_trust(_signed(registry), key, bounds)
    check_update(trust, None, registry.now, bounds)
    with pytest.raises(TrustError) as caught:
        check_update(trust, None, registry.now + 2 * 86400, bounds)
    assert caught.value.code == "trust_expired"
    with pytest.raises(TrustError) as caught:
        check_update(trust, None, registry.now - 3600, bounds)
    assert caught.value.code == "trust_invalid"


# --- TrustStore: sync over HTTP and the disk cache -------------------------------------------


def test_sync_stores_and_a_new_store_reloads_and_reverifies(
    tmp_path: Path, registry: FakeRegistry, url: str
) -> None:
    trust = _store(tmp_path, registry, url).sync(registry.now)
    assert trust.directory.sequence == 1
    assert (tmp_path / "trust.cbor").is_file() and (tmp_path / "registry-key.jwk").is_file()
    reloaded = TrustStore(VerifierConfig(cache_dir=tmp_path)).current()  # key: the one pinned at sync
    assert reloaded is not None and reloaded.directory == trust.directory
    wrong_key = TrustStore(VerifierConfig(cache_dir=tmp_path, registry_key=Signer.generate().public_key))
    assert wrong_key.current() is None
    assert wrong_key.last_error is not None and wrong_key.last_error.code == "trust_signature"


def test_a_corrupted_cache_is_ignored(tmp_path: Path, registry: FakeRegistry, url: str) -> None:
    _store(tmp_path, registry, url).sync(registry.now)
    (tmp_path / "trust.cbor").write_bytes(b"\xff garbage")
    store = _store(tmp_path, registry, None)
    assert store.current() is None
    assert store.last_error is not None and store.last_error.code == "cache_unreadable"


def test_sync_refuses_a_rolled_back_snapshot_and_keeps_what_it_held(
    tmp_path: Path, registry: FakeRegistry, url: str
) -> None:
    store = _store(tmp_path, registry, url)
    registry.sequence = 5
    store.sync(registry.now)
    before = (tmp_path / "trust.cbor").read_bytes()
    registry.sequence = 4
    with pytest.raises(TrustError) as caught:
        store.sync(registry.now)
    assert caught.value.code == "trust_rollback"
    current = store.current()
    assert current is not None and current.directory.sequence == 5
    assert (tmp_path / "trust.cbor").read_bytes() == before
    fresh_process = _store(tmp_path, registry, url)  # the held sequence survives a restart
    with pytest.raises(TrustError) as caught:
        fresh_process.sync(registry.now)
    assert caught.value.code == "trust_rollback"
    (tmp_path / "trust.cbor").unlink()  # and the loss of the cache itself
    without_cache = _store(tmp_path, registry, url)
    with pytest.raises(TrustError) as caught:
        without_cache.sync(registry.now)
    assert caught.value.code == "trust_rollback"


def test_high_water_marks_refuse_an_older_directory_or_status_list(registry: FakeRegistry) -> None:
    key, bounds = registry.signer.public_key, TrustBounds()
    registry.sequence = 3
    trust = open_trust(_signed(registry), key, bounds)
    marks = HighWater().raised_to(trust)
    assert marks == HighWater(3, {0: registry.list_issued_at})
    check_high_water(trust, marks)  # the data the marks came from passes them
    for change, detail in [
        ("sequence", "directory sequence 2 after 3"),
        ("list_issued_at", "status list 0 issued"),
    ]:
        setattr(registry, change, getattr(registry, change) - 1)
        with pytest.raises(TrustError) as caught:
            check_high_water(open_trust(_signed(registry), key, bounds), marks)
        assert caught.value.code == "trust_rollback" and caught.value.detail.startswith(detail)
        setattr(registry, change, getattr(registry, change) + 1)
    with pytest.raises(TrustError) as caught:
        check_high_water(trust, HighWater(3, {0: registry.list_issued_at, 1: 5}))
    assert caught.value.detail == "status list 1 disappeared"
    assert marks.raised_to(open_trust(_signed(registry), key, bounds)) == marks  # marks never go down
    lower = HighWater(9, {0: registry.list_issued_at + 100})
    assert lower.raised_to(trust) == lower


def test_after_cache_loss_a_replayed_older_status_list_is_refused(
    tmp_path: Path, registry: FakeRegistry, url: str
) -> None:
    """The attack: keep the status list from before a revocation, delete the verifier's cache, replay
    the old list while it is still within its validity; the revoked certificate would verify valid."""
    text = registry.world.qr()
    old_list = registry.status_list()
    store = _store(tmp_path, registry, url)
    store.sync(registry.now)
    registry.status.set(INDEX, Status.INVALID)
    registry.list_issued_at += 1
    store.sync(registry.now)
    (tmp_path / "trust.cbor").unlink()
    registry.status_list_override = old_list
    verifier = Verifier(VerifierConfig(cache_dir=tmp_path, registry_url=url, registry_key=registry.signer.public_key),
                        clock=lambda: registry.now)  # fmt: skip
    with pytest.raises(TrustError) as caught:
        verifier.store.sync(registry.now)
    assert caught.value.code == "trust_rollback" and "status list 0" in caught.value.detail
    assert verifier.verify_text(text, online=False).result == "indeterminate"  # never "valid"
    registry.status_list_override = None
    verifier.store.sync(registry.now)
    assert verifier.verify_text(text, online=False).code == "revoked"


@pytest.mark.parametrize("older", ["directory", "status_list"])
def test_an_older_cache_bundle_planted_in_the_folder_is_refused_on_load(
    tmp_path: Path, registry: FakeRegistry, url: str, older: str
) -> None:
    _store(tmp_path, registry, url).sync(registry.now)
    planted = (tmp_path / "trust.cbor").read_bytes()
    if older == "directory":
        registry.sequence += 1
    else:
        registry.list_issued_at += 1
    _store(tmp_path, registry, url).sync(registry.now)
    (tmp_path / "trust.cbor").write_bytes(planted)
    store = _store(tmp_path, registry, None)
    assert store.current() is None
    assert store.last_error is not None and store.last_error.code == "trust_rollback"


def test_a_former_bare_sequence_high_water_file_is_still_honoured(
    tmp_path: Path, registry: FakeRegistry, url: str
) -> None:
    (tmp_path / "sequence.high-water").write_text("5")
    with pytest.raises(TrustError) as caught:
        _store(tmp_path, registry, url).sync(registry.now)
    assert caught.value.code == "trust_rollback"
    registry.sequence = 5
    _store(tmp_path, registry, url).sync(registry.now)
    marks = json.loads((tmp_path / "sequence.high-water").read_text())
    assert marks == {"directory_sequence": 5, "status_lists": {"0": registry.list_issued_at}}


def test_sync_refuses_a_snapshot_with_a_bad_signature(
    tmp_path: Path, registry: FakeRegistry, url: str
) -> None:
    registry.trust_list_override = sign_document(
        registry.directory().to_payload(), Signer.generate(), TYP_DIRECTORY
    )
    store = _store(tmp_path, registry, url)
    with pytest.raises(TrustError) as caught:
        store.sync(registry.now)
    assert caught.value.code == "trust_signature"
    assert store.current() is None and not (tmp_path / "trust.cbor").exists()
    registry.trust_list_override = None
    registry.status_list_override = sign_document({"not": "a list"}, registry.signer, TYP_STATUS_LIST)
    with pytest.raises(TrustError) as caught:
        store.sync(registry.now)
    assert caught.value.code == "trust_invalid"


def test_sync_without_a_pinned_key_or_registry(tmp_path: Path) -> None:
    with pytest.raises(TrustError) as caught:
        TrustStore(VerifierConfig(cache_dir=tmp_path, registry_url="http://127.0.0.1:9")).sync(0)
    assert caught.value.code == "registry_key_missing"
    key = Signer.generate().public_key
    store = TrustStore(VerifierConfig(cache_dir=tmp_path, registry_url=f"http://127.0.0.1:{free_port()}",
                                      registry_key=key, timeout=2))  # fmt: skip
    with pytest.raises(TrustError) as caught:
        store.sync(0)
    assert caught.value.code == "trust_unreachable"


def test_registry_key_from_fingerprint_or_jwk_file(tmp_path: Path, registry: FakeRegistry, url: str) -> None:
    raw = registry.signer.public_key.raw
    assert load_registry_key(hashlib.sha256(raw).hexdigest(), url).raw == raw
    with pytest.raises(TrustError) as caught:
        load_registry_key("ab" * 32, url)
    assert caught.value.code == "registry_key_mismatch"
    path = tmp_path / "registry.jwk"
    path.write_text(json.dumps(to_jwk(registry.signer.public_key)), encoding="utf-8")
    assert load_registry_key(str(path)).raw == raw
    path.write_text(json.dumps({"kty": "OKP", "crv": "Ed25519", "x": "AAAA"}), encoding="utf-8")
    with pytest.raises(TrustError) as caught:
        load_registry_key(str(path))
    assert caught.value.code == "registry_key_invalid"


def test_background_refresh_picks_up_a_new_snapshot(tmp_path: Path, registry: FakeRegistry, url: str) -> None:
    store = _store(tmp_path, registry, url, min_ttl=0, max_ttl=1)
    store.sync(int(time.time()))
    registry.sequence = 2
    store.start_background_refresh()
    try:
        deadline = time.monotonic() + 20
        while (current := store.current()) is None or current.directory.sequence != 2:
            assert time.monotonic() < deadline, "the background refresh never fetched sequence 2"
            time.sleep(0.05)
    finally:
        store.stop()


# --- Verifier: online checks against the registry, falling back offline ----------------------


def _verifier(tmp_path: Path, registry: FakeRegistry, url: str) -> Verifier:
    config = VerifierConfig(cache_dir=tmp_path, registry_url=url, registry_key=registry.signer.public_key)
    verifier = Verifier(config, clock=lambda: registry.now)
    verifier.store.sync(registry.now)
    return verifier


def _verify(verifier: Verifier, path: str, text: str, **options: Any) -> Verdict:
    """One verification along the CLI's blocking path or the service's asynchronous one."""
    if path == "blocking":
        return verifier.verify_text(text, **options)

    async def on_a_loop() -> Verdict:
        try:
            return await verifier.verify_text_async(text, **options)
        finally:
            await verifier.aclose()

    # A thread of its own: in a worker where Playwright ran, this thread already has a running loop.
    with ThreadPoolExecutor(1) as thread:
        return thread.submit(asyncio.run, on_a_loop()).result()


PATHS = pytest.mark.parametrize("path", ["blocking", "async"])


@PATHS
def test_online_verification_checks_the_registry_record(
    tmp_path: Path, registry: FakeRegistry, url: str, path: str
) -> None:
    verifier = _verifier(tmp_path, registry, url)
    text = registry.world.qr()
    registry.publish(text)
    verdict = _verify(verifier, path, text)
    assert (verdict.result, verdict.mode, len(verdict.checks)) == ("valid", "online", 9)
    registry.publish(text, "revoked")
    assert _verify(verifier, path, text).code == "revoked"
    registry.records.clear()
    assert _verify(verifier, path, text).code == "record_missing"
    offline = _verify(verifier, path, text, online=False)
    assert (offline.result, offline.mode, len(offline.checks)) == ("valid", "offline", 8)
    verifier.stop()


@PATHS
@pytest.mark.parametrize("match", [True, False])
def test_online_holder_confirmation(
    tmp_path: Path, registry: FakeRegistry, url: str, path: str, match: bool
) -> None:
    verifier = _verifier(tmp_path, registry, url)
    text = registry.world.qr()
    registry.publish(text)
    registry.holder_match = match
    verdict = _verify(verifier, path, text, holder=HolderInput("张三丰", "11010519491231002X"))
    assert verdict.holder_confirmation == {
        "method": "online_registry",
        "name_match": True,  # the name agrees with the QR's, so a registry's no is about the number
        "id_match": match,
    }
    assert verdict.mode == "online" and verdict.notes == ()
    assert verdict.outcome == ("valid" if match else "holder_mismatch") and verdict.valid == match
    verifier.stop()


@PATHS
def test_unreachable_registry_gives_the_offline_verdict_with_a_note(
    tmp_path: Path, registry: FakeRegistry, path: str
) -> None:
    with serve_app(registry.app) as url:
        verifier = _verifier(tmp_path, registry, url)
    verdict = _verify(verifier, path, registry.world.qr())  # the registry is gone now
    assert (verdict.result, verdict.mode) == ("valid", "offline")
    assert [note["code"] for note in verdict.notes] == ["registry_unreachable"]
    summary = verifier.trust_summary()
    assert summary["available"] and summary["fresh"] and summary["sequence"] == 1
    assert summary["age_seconds"] == 60 and summary["registry_url"] == url
    verifier.stop()


@PATHS
def test_a_registry_url_that_is_not_http_gives_the_offline_verdict_with_a_note(
    tmp_path: Path, registry: FakeRegistry, url: str, path: str
) -> None:
    synced = _verifier(tmp_path, registry, url)
    config = replace(synced.config, registry_url="ftp://registry.test")
    verifier = Verifier(config, clock=lambda: registry.now, store=synced.store)
    text = registry.world.qr()
    registry.publish(text)
    verdict = _verify(verifier, path, text)
    assert (verdict.result, verdict.mode) == ("valid", "offline")
    assert [note["code"] for note in verdict.notes] == ["registry_unreachable"]
    verifier.stop()


def test_trust_summary_without_data(tmp_path: Path) -> None:
    summary = Verifier(VerifierConfig(cache_dir=tmp_path)).trust_summary()
    assert summary["available"] is False and summary["sequence"] is None and summary["fresh"] is False


def test_revocation_reaches_the_verifier_through_sync(
    tmp_path: Path, registry: FakeRegistry, url: str
) -> None:
    verifier = _verifier(tmp_path, registry, url)
    text = registry.world.qr()
    assert verifier.verify_text(text, online=False).valid
    registry.status.set(INDEX, Status.SUSPENDED)
    registry.list_issued_at += 1
    verifier.store.sync(registry.now)
    assert verifier.verify_text(text, online=False).code == "suspended"
    verifier.stop()


@PATHS
def test_a_fallback_offline_keeps_the_warnings_of_the_offline_verdict(
    tmp_path: Path, registry: FakeRegistry, path: str
) -> None:
    """Issue 11 point 6: the key revoked and the institution removed after the issue date are the
    only hints of a back-dated forgery; falling back offline must add its note, not replace them."""
    world = registry.world
    removed = (StatusChange(ACTIVE, date(2020, 1, 1), 1), StatusChange(REMOVED, ISSUE + timedelta(days=1), 2))
    registry.institution = world.institution(
        statuses=removed, keys=(world.key_entry(revoked=ISSUE + timedelta(days=1)),)
    )
    with serve_app(registry.app) as url:
        verifier = _verifier(tmp_path, registry, url)
        text = world.qr()
        registry.publish(text)
        online = _verify(verifier, path, text)
        assert (online.result, online.mode, online.notes) == ("valid", "online", ())
    fallback = _verify(verifier, path, text)  # the registry is gone now
    assert (fallback.result, fallback.mode) == ("valid", "offline")
    codes = [note["code"] for note in fallback.notes]
    assert codes == ["key_later_revoked", "institution_later_removed", "registry_unreachable"]
    assert [note["code"] for note in fallback.to_json()["notes"]] == codes
    verifier.stop()


@PATHS
def test_an_unreachable_holder_check_keeps_the_online_verdict_and_says_so(
    tmp_path: Path, registry: FakeRegistry, url: str, path: str
) -> None:
    verifier = _verifier(tmp_path, registry, url)
    text = registry.world.qr()
    registry.publish(text)
    registry.holder_match = "yes"  # a registry answering nonsense
    verdict = _verify(verifier, path, text, holder=HolderInput("张三丰", "11010519491231002X"))
    assert (verdict.result, verdict.mode) == ("valid", "online")
    assert [note["code"] for note in verdict.notes] == ["holder_offline"]
    assert verdict.holder_confirmation is not None
    assert verdict.holder_confirmation["method"] != "online_registry"
    verifier.stop()


def test_the_service_verifies_online_and_keeps_every_note_over_http(
    tmp_path: Path, registry: FakeRegistry
) -> None:
    """The HTTP service's own path (the pooled asynchronous client, uvicorn on httptools + uvloop):
    valid online while the registry answers, then the offline verdict with all its notes."""
    world = registry.world
    registry.institution = world.institution(keys=(world.key_entry(revoked=ISSUE + timedelta(days=1)),))
    text = world.qr()
    registry.publish(text)
    with serve_app(registry.app) as registry_url:
        verifier = _verifier(tmp_path, registry, registry_url)
        with serve_app(create_app(verifier), http="httptools", loop="uvloop") as url:
            online = httpx.post(f"{url}/api/v1/verify", json={"qr": text}).json()
            assert (online["result"], online["mode"], online["notes"]) == ("valid", "online", [])
            registry.publish(text, "revoked")
            assert httpx.post(f"{url}/api/v1/verify", json={"qr": text}).json()["code"] == "revoked"
            registry.publish(text)
    with serve_app(create_app(verifier), http="httptools", loop="uvloop") as url:  # the registry is gone
        answer = httpx.post(f"{url}/api/v1/verify", json={"qr": text})
    verdict = answer.json()
    assert answer.headers["content-type"] == "application/json"
    assert (verdict["result"], verdict["mode"]) == ("valid", "offline")
    assert [note["code"] for note in verdict["notes"]] == ["key_later_revoked", "registry_unreachable"]
    assert all(note["message_zh"] and note["message_en"] for note in verdict["notes"])
    verifier.stop()
