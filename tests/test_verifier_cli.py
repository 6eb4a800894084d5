"""``skillpass verify`` and ``skillpass verifier sync|status`` as real processes.

Trust data comes from ``FakeRegistry`` (see tests/test_verifier_trust.py: a fake of the
registry's public API, served on loopback) through ``skillpass verifier sync``; verification then
runs offline from the cache, on QR text, a .txt file and a PNG, and online against the fake.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from harness.servers import serve_app
from test_verifier_engine import World, tampered
from test_verifier_trust import FakeRegistry

from common import qrimage
from keys import to_jwk

SKILLPASS = str(Path(sys.executable).parent / "skillpass")


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([SKILLPASS, *args], capture_output=True, text=True, timeout=120, check=False)


@pytest.fixture(scope="module")
def registry() -> FakeRegistry:
    return FakeRegistry(World())


@pytest.fixture(scope="module")
def url(registry: FakeRegistry) -> Iterator[str]:
    with serve_app(registry.app) as base:
        yield base


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory, registry: FakeRegistry, url: str) -> Path:
    """A cache filled by `skillpass verifier sync` with the key pinned from a JWK file."""
    directory = tmp_path_factory.mktemp("verifier-cache")
    key_file = directory.parent / "registry.jwk"
    key_file.write_text(json.dumps(to_jwk(registry.signer.public_key)), encoding="utf-8")
    done = _run(
        "verifier", "sync", "--registry", url, "--registry-key", str(key_file), "--cache-dir", str(directory)
    )
    assert done.returncode == 0, done.stderr
    assert "sequence 1" in done.stdout
    return directory


def test_verify_text_offline_is_valid(registry: FakeRegistry, cache: Path) -> None:
    done = _run("verify", registry.world.qr(), "--cache-dir", str(cache))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "有效 VALID" in done.stdout and "中国国家铁路集团有限公司" in done.stdout
    assert done.stdout.count("[通过 pass]") == 8 and "离线 offline" in done.stdout


def test_verify_png_and_txt_files(tmp_path: Path, registry: FakeRegistry, cache: Path) -> None:
    text = registry.world.qr()
    png, txt = tmp_path / "certificate.png", tmp_path / "certificate.txt"
    png.write_bytes(qrimage.render_png(text))
    txt.write_text(text + "\n", encoding="utf-8")
    for path in (png, txt):
        done = _run("verify", str(path), "--cache-dir", str(cache), "--json")
        assert done.returncode == 0, done.stdout + done.stderr
        verdict = json.loads(done.stdout)
        assert (
            verdict["valid"] is True
            and verdict["credential"]["certificate_number"] == "Y000011000001263000001"
        )


def test_tampered_is_invalid_exit_1(registry: FakeRegistry, cache: Path) -> None:
    done = _run("verify", tampered(registry.world.qr()), "--cache-dir", str(cache), "--json")
    assert done.returncode == 1
    verdict = json.loads(done.stdout)
    assert (verdict["result"], verdict["code"]) == ("invalid", "signature_invalid")
    failed = [c for c in verdict["checks"] if c["outcome"] == "fail"]
    assert [c["code"] for c in failed] == ["signature"]


def test_no_trust_data_is_indeterminate_exit_3(tmp_path: Path, registry: FakeRegistry) -> None:
    done = _run("verify", registry.world.qr(), "--cache-dir", str(tmp_path))
    assert done.returncode == 3
    assert "无法判断 INDETERMINATE" in done.stdout and "trust_missing" in done.stdout


def test_usage_errors_exit_2(tmp_path: Path, registry: FakeRegistry, cache: Path) -> None:
    done = _run("verify", registry.world.qr(), "--cache-dir", str(cache), "--name", "张三丰")
    assert done.returncode == 2 and "holder_incomplete" in done.stderr
    not_an_image = tmp_path / "notes.bin"
    not_an_image.write_bytes(b"\x00\x01 not a picture")
    done = _run("verify", str(not_an_image), "--cache-dir", str(cache))
    assert done.returncode == 2 and "image_unsupported" in done.stderr


def test_online_verify_and_holder_confirmation(registry: FakeRegistry, url: str, cache: Path) -> None:
    text = registry.world.qr()
    registry.publish(text)
    done = _run("verify", text, "--registry", url, "--cache-dir", str(cache), "--json",
                "--name", "张三丰", "--id-number", "11010519491231002X")  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    verdict = json.loads(done.stdout)
    assert verdict["mode"] == "online" and len(verdict["checks"]) == 9
    assert verdict["holder_confirmation"]["method"] == "online_registry"


def test_status_reports_the_cache(cache: Path) -> None:
    done = _run("verifier", "status", "--cache-dir", str(cache))
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["available"] and summary["sequence"] == 1
