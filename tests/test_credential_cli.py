"""The `skillpass keys` and `skillpass credential` commands, run as a person would run them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from credential_fixtures import EXAMPLES
from PIL import Image

from common import qrimage

PASS = "institution passphrase"


def run(*args: str, passphrase: str | None = PASS) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "SKILLPASS_KEY_PASSPHRASE"}
    if passphrase is not None:
        env["SKILLPASS_KEY_PASSPHRASE"] = passphrase
    return subprocess.run(
        [sys.executable, "-m", "skillpass.cli", *args], capture_output=True, text=True, env=env, check=False
    )


@pytest.fixture(scope="module")
def key_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("keys") / "institution.key"
    result = run("keys", "generate", "--out", str(path))
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["kty"] == "OKP"
    return path


def test_encode_then_decode_with_and_without_the_key(key_file: Path, tmp_path: Path) -> None:
    jwk = tmp_path / "public.jwk"
    exported = run("keys", "export-public", str(key_file))
    jwk.write_text(exported.stdout)
    png, svg = tmp_path / "c.png", tmp_path / "c.svg"
    encoded = run(
        "credential",
        "encode",
        "--key",
        str(key_file),
        "--data",
        str(EXAMPLES / "certificate-typical.json"),
        "--png",
        str(png),
        "--svg",
        str(svg),
    )
    assert encoded.returncode == 0, encoded.stderr
    text = encoded.stdout.strip()
    assert qrimage.read_texts(Image.open(png)) == [text]
    assert "<svg" in svg.read_text()

    unchecked = run("credential", "decode", text, "--json")
    assert json.loads(unchecked.stdout)["signature"] == "not_checked"
    plain = run("credential", "decode", text)
    assert "NOT checked" in plain.stdout and "张三丰" in plain.stdout

    checked = run("credential", "decode", text, "--public-key", str(jwk), "--json")
    assert checked.returncode == 0
    assert json.loads(checked.stdout)["claims"]["id_number_masked"] == "**************002X"


def test_decode_with_another_key_fails(key_file: Path, tmp_path: Path) -> None:
    other = tmp_path / "other.key"
    run("keys", "generate", "--out", str(other))
    jwk = tmp_path / "other.jwk"
    jwk.write_text(run("keys", "export-public", str(other)).stdout)
    text = run(
        "credential", "encode", "--key", str(key_file), "--data", str(EXAMPLES / "certificate-typical.json")
    )
    result = run("credential", "decode", text.stdout.strip(), "--public-key", str(jwk))
    assert result.returncode == 2
    assert "signature_invalid" in result.stderr and "Traceback" not in result.stderr


def test_wrong_passphrase_is_a_clear_error(key_file: Path) -> None:
    result = run("keys", "export-public", str(key_file), passphrase="not the passphrase")
    assert result.returncode == 2
    assert "key_passphrase_wrong" in result.stderr and "Traceback" not in result.stderr


def test_invalid_certificate_lists_every_problem(key_file: Path, tmp_path: Path) -> None:
    data = json.loads((EXAMPLES / "certificate-typical.json").read_text())
    data["id_number"] = "110105194912310021"
    data["level"] = 4
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(data, ensure_ascii=False))
    result = run("credential", "encode", "--key", str(key_file), "--data", str(bad))
    assert result.returncode == 2
    assert "/id_number" in result.stderr and "certno_level_mismatch" in result.stderr


def test_garbage_text_is_rejected_with_its_code() -> None:
    result = run("credential", "decode", "HELLO")
    assert result.returncode == 2 and "prefix_missing" in result.stderr


def test_help_lists_commands() -> None:
    result = subprocess.run(
        [str(Path(sys.executable).parent / "skillpass"), "--help"], capture_output=True, text=True
    )
    assert result.returncode == 0
    assert "keys" in result.stdout and "credential" in result.stdout


def test_encode_url_form_prints_and_draws_the_verifier_address(key_file: Path, tmp_path: Path) -> None:
    png = tmp_path / "url.png"
    data = str(EXAMPLES / "certificate-typical.json")
    encoded = run(
        "credential", "encode", "--key", str(key_file), "--data", data,
        "--form", "url", "--verifier-url", "https://verify.example.cn", "--png", str(png),
    )  # fmt: skip
    assert encoded.returncode == 0, encoded.stderr
    url = encoded.stdout.strip()
    assert url.startswith("HTTPS://VERIFY.EXAMPLE.CN/#SP2.")
    assert qrimage.read_texts(Image.open(png)) == [url]
    decoded = run("credential", "decode", url, "--json")
    assert decoded.returncode == 0, decoded.stderr
    assert json.loads(decoded.stdout)["claims"]["holder_name"] == "张三丰"


@pytest.mark.parametrize(
    ("extra", "code"),
    [
        (["--form", "url"], "verifier_url_required"),
        (["--verifier-url", "https://verify.example.cn"], "verifier_url_required"),
        (["--form", "url", "--verifier-url", "http://verify.example.cn"], "verifier_url_invalid"),
        (["--form", "url", "--verifier-url", "https://verify.example.cn/path"], "verifier_url_invalid"),
    ],
)
def test_encode_url_form_refuses_a_missing_or_bad_verifier_url(
    key_file: Path, extra: list[str], code: str
) -> None:
    data = str(EXAMPLES / "certificate-typical.json")
    result = run("credential", "encode", "--key", str(key_file), "--data", data, *extra)
    assert result.returncode != 0
    assert code in result.stderr and "Traceback" not in result.stderr
