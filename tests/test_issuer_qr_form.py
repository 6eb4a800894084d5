"""Which printed form `skillpass issue` puts in the certificates' QR codes: the URL form by default
when a verifier is configured (``--verifier-url``, else ``SKILLPASS_VERIFIER_URL``, else the first
official verifier host of the registry's signed directory), the plain form with ``--plain-qr`` or
when nothing names a verifier. The PNG is read back with zxing-cpp."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image
from test_issuer_run_support import PASSPHRASE, World, issue_args, registry_world, roster_rows, write_roster

from common import qrimage
from credential import decode, verify
from issuer.manifest import read_manifest_json
from skillpass.cli import main


@pytest.fixture(autouse=True)
def _passphrase(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SKILLPASS_KEY_PASSPHRASE", PASSPHRASE)
    monkeypatch.delenv("SKILLPASS_VERIFIER_URL", raising=False)


def _printed(world: World, tmp_path: Path, name: str, start: int, *extra: str) -> str:
    """Issue one row all the way (batch ``name``); the QR text its PNG holds, which must equal its
    ``.txt`` and verify with the institution's key."""
    roster = write_roster(tmp_path / f"{name}.csv", roster_rows(1, start=start))
    out = tmp_path / name
    args = [str(a) for a in issue_args(world, roster, out, "--batch-id", name, *extra)]
    assert main(args) == 4
    world.approve_all(name)
    assert main(args) == 0
    [row] = read_manifest_json(out)["rows"]
    [text] = qrimage.read_texts(Image.open(out / row["files"]["png"]))
    assert (out / row["files"]["txt"]).read_text().strip() == text
    verify(decode(text), world.signer.public_key)
    return text


def test_the_registry_s_first_official_verifier_host_by_default(tmp_path: Path) -> None:
    hosts = ("verify.example.cn", "127.0.0.1:8701")
    with registry_world(f"sqlite:///{tmp_path / 'r.sqlite3'}", tmp_path, verifier_hosts=hosts) as world:
        text = _printed(world, tmp_path, "by-default", 0)
        assert text.startswith("HTTPS://VERIFY.EXAMPLE.CN/#SP2.")
        assert decode(text).verifier_host == "verify.example.cn"
        assert _printed(world, tmp_path, "plain", 1, "--plain-qr").startswith("SP2:")
        named = _printed(world, tmp_path, "named", 2, "--verifier-url", "https://check.example.cn")
        assert named.startswith("HTTPS://CHECK.EXAMPLE.CN/#SP2.")


def test_the_environment_names_the_verifier_when_the_flag_does_not(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with registry_world(f"sqlite:///{tmp_path / 'r.sqlite3'}", tmp_path) as world:
        assert _printed(world, tmp_path, "none", 0).startswith("SP2:")  # nothing names a verifier
        monkeypatch.setenv("SKILLPASS_VERIFIER_URL", "http://127.0.0.1:8701")
        assert _printed(world, tmp_path, "from-env", 1).startswith("HTTP://127.0.0.1:8701/#SP2.")


def test_a_bad_verifier_url_submits_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with registry_world(f"sqlite:///{tmp_path / 'r.sqlite3'}", tmp_path) as world:
        roster = write_roster(tmp_path / "roster.csv", roster_rows(1))
        for url in ("http://verify.example.cn", "https://verify.example.cn/path", "ftp://x", "https://"):
            monkeypatch.setenv("SKILLPASS_VERIFIER_URL", url)
            assert main([str(a) for a in issue_args(world, roster, tmp_path / "out")]) == 2, url
            said = capsys.readouterr().err
            assert "[verifier_url_invalid]" in said and "核验网址" in said and "Traceback" not in said
        monkeypatch.delenv("SKILLPASS_VERIFIER_URL")
        assert main([str(a) for a in issue_args(world, roster, tmp_path / "out", "--verifier-url", "x")]) == 2
        assert "[verifier_url_invalid]" in capsys.readouterr().err
        assert world.batches() == []
