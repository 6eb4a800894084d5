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
from credential.status_list import Status
from keys import to_jwk

SKILLPASS = str(Path(sys.executable).parent / "skillpass")


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([SKILLPASS, *args], capture_output=True, text=True, timeout=120, check=False)


REVOKED_INDEX, SUSPENDED_INDEX = 1001, 1002


@pytest.fixture(scope="module")
def registry() -> FakeRegistry:
    fake = FakeRegistry(World())
    fake.status.set(REVOKED_INDEX, Status.INVALID)
    fake.status.set(SUSPENDED_INDEX, Status.SUSPENDED)
    return fake


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
    assert done.stdout.startswith("✓ 有效 / Valid [valid]") and "中国国家铁路集团有限公司" in done.stdout
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
    assert "? 无法确定 / Indeterminate [indeterminate: trust_missing]" in done.stdout


def test_usage_errors_exit_2(tmp_path: Path, registry: FakeRegistry, cache: Path) -> None:
    done = _run("verify", registry.world.qr(), "--cache-dir", str(cache), "--name", "张三丰")
    assert done.returncode == 2 and "holder_incomplete" in done.stderr
    for missing in ("nonexistent.png", str(tmp_path / "no-such-folder" / "certificate")):
        done = _run("verify", missing, "--cache-dir", str(cache))
        assert (done.returncode, done.stdout) == (2, ""), done.stdout
        assert (
            "input_missing" in done.stderr and "找不到文件" in done.stderr and "no such file" in done.stderr
        )
    done = _run("verify", str(tmp_path), "--cache-dir", str(cache))
    assert (done.returncode, done.stdout) == (2, "") and "input_is_folder" in done.stderr


def _outcome_inputs(world: World, tmp_path: Path) -> dict[str, list[str]]:
    """Arguments to ``skillpass verify`` that produce each outcome offline, besides indeterminate."""
    not_an_image = tmp_path / "notes.bin"
    not_an_image.write_bytes(b"\x00\x01 not a picture")
    no_qr = tmp_path / "blank.png"
    no_qr.write_bytes(qrimage.render_png("https://example.org/menu"))  # someone else's QR code
    return {
        "valid": [world.qr()],
        "invalid": [tampered(world.qr())],
        "holder_mismatch": [world.qr(), "--name", "张三丰", "--id-number", "110105194912310021"],
        "revoked": [world.qr(status_index=REVOKED_INDEX)],
        "suspended": [world.qr(status_index=SUSPENDED_INDEX)],
        "unrecognized": [str(not_an_image)],
        "unrecognized_qr": [str(no_qr)],
    }


@pytest.mark.parametrize(
    ("case", "exit_code", "headline"),
    [
        ("valid", 0, "✓ 有效 / Valid"),
        ("invalid", 1, "✗ 无效 / Invalid"),
        ("holder_mismatch", 4, "≠ 持证人不符 / Holder does not match"),
        ("revoked", 5, "⊘ 已撤销 / Revoked"),
        ("suspended", 6, "‖ 已暂停 / Suspended"),
        ("unrecognized", 7, "○ 未识别为证书 / Not a recognised certificate"),
        ("unrecognized_qr", 7, "○ 未识别为证书 / Not a recognised certificate"),
    ],
)
def test_each_outcome_has_its_exit_code_and_words(
    tmp_path: Path, registry: FakeRegistry, cache: Path, case: str, exit_code: int, headline: str
) -> None:
    done = _run("verify", *_outcome_inputs(registry.world, tmp_path)[case], "--cache-dir", str(cache))
    assert done.returncode == exit_code, done.stdout + done.stderr
    assert done.stdout.startswith(headline), done.stdout
    assert "核验时间 verified at:" in done.stdout and " CST" in done.stdout
    json_done = _run(
        "verify", *_outcome_inputs(registry.world, tmp_path)[case], "--cache-dir", str(cache), "--json"
    )
    assert json_done.returncode == exit_code
    verdict = json.loads(json_done.stdout)
    assert verdict["outcome"] == case.removesuffix("_qr") and verdict["valid"] is (case == "valid")


def test_revoked_fields_are_shown_and_the_status_line_says_as_of(registry: FakeRegistry, cache: Path) -> None:
    done = _run("verify", registry.world.qr(status_index=REVOKED_INDEX), "--cache-dir", str(cache))
    assert "证书真实，但已被撤销" in done.stdout and "的状态列表为准" in done.stdout
    assert "持证人 holder: 张三丰" in done.stdout


def test_online_verify_and_holder_confirmation(registry: FakeRegistry, url: str, cache: Path) -> None:
    text = registry.world.qr()
    registry.publish(text)
    done = _run("verify", text, "--registry", url, "--cache-dir", str(cache), "--json",
                "--name", "张三丰", "--id-number", "11010519491231002X")  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    verdict = json.loads(done.stdout)
    assert verdict["mode"] == "online" and len(verdict["checks"]) == 9
    assert verdict["holder_confirmation"]["method"] == "online_registry"


def test_online_revocation_date_and_category_come_from_the_registry(
    registry: FakeRegistry, url: str, cache: Path
) -> None:
    text = registry.world.qr()
    registry.publish(text, "revoked")
    registry.records["Y000011000001263000001"] |= {
        "status_date": "2026-11-24",
        "reason_category": "holder_request",
    }
    try:
        done = _run("verify", text, "--registry", url, "--cache-dir", str(cache))
    finally:
        registry.publish(text)
    assert done.returncode == 5, done.stdout + done.stderr
    assert "证书真实，但已于 2026-11-24 撤销（原因类别：持证人申请）" in done.stdout
    assert "[未通过 FAIL] status:" in done.stdout  # the registry's answer decides the status line


def test_status_reports_the_cache(cache: Path) -> None:
    done = _run("verifier", "status", "--cache-dir", str(cache))
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["available"] and summary["sequence"] == 1


def test_verify_several_files_with_a_report(tmp_path: Path, registry: FakeRegistry, cache: Path) -> None:
    """`skillpass verify FILE... --report`: every certificate in every file, one row each."""
    world = registry.world
    first, second = tmp_path / "a.png", tmp_path / "b.txt"
    first.write_bytes(qrimage.render_png(world.qr()))
    second.write_text(world.qr(status_index=REVOKED_INDEX), encoding="utf-8")
    report = tmp_path / "report.csv"
    done = _run("verify", str(first), str(second), "--cache-dir", str(cache), "--report", str(report))
    assert done.returncode == 8, done.stdout + done.stderr  # not every certificate is valid
    assert "✓ 有效 / Valid [valid]" in done.stdout and "⊘ 已撤销 / Revoked [revoked]" in done.stdout
    assert "共 2 份证书 certificates" in done.stdout
    lines = report.read_text(encoding="utf-8-sig").splitlines()
    assert len(lines) == 3 and "a.png" in lines[1] and "已撤销 Revoked" in lines[2]
    done = _run("verify", str(first), str(first), "--cache-dir", str(cache), "--json")
    assert done.returncode == 0 and len(json.loads(done.stdout)["results"]) == 2


def test_serve_refuses_a_trusted_proxy_that_is_not_an_address() -> None:
    for argv in (["--trusted-proxy", "nginx.internal"], ["--trusted-proxy", "10.0.0.0/33"]):
        refused = _run("verifier", "serve", "--port", "9", *argv)
        assert refused.returncode != 0 and "proxy_invalid" in refused.stderr, refused.stderr
        assert "Traceback" not in refused.stderr
