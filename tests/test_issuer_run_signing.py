"""Signing in ``skillpass issue``: a key the registry would not accept on the issue date is refused before
anything is signed, and a resumed run signs only the rows no earlier run signed.

Signatures are counted, not compared: Ed25519 is deterministic, so a row signed twice gives the same QR
text and only a count shows the second signature. The run's real key is wrapped in ``CountingSigner``,
a ``Signer`` over the same seed that counts its signatures (registry signatures are not counted)."""

from __future__ import annotations

import signal
from datetime import timedelta
from pathlib import Path

import pytest
from test_issuer_run_support import (
    CODE,
    PASSPHRASE,
    World,
    issue_args,
    journal_batch_id,
    registry_world,
    roster_rows,
    skillpass,
    today,
    write_roster,
)

import issuer.run
from issuer.journal import Journal
from issuer.manifest import read_manifest_json
from keys import Signer, read_private_key, to_jwk, write_private_key
from skillpass.cli import main


class CountingSigner(Signer):
    """The run's own key, counting what it signs."""

    signatures = 0

    def sign(self, message: bytes) -> bytes:
        CountingSigner.signatures += 1
        return super().sign(message)


@pytest.fixture(autouse=True)
def _counting_key(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every key file the run reads becomes a ``CountingSigner`` over the same seed."""
    monkeypatch.setenv("SKILLPASS_KEY_PASSPHRASE", PASSPHRASE)
    read = read_private_key

    def read_counting(path: Path, passphrase: str) -> Signer:
        return CountingSigner(read(path, passphrase).seed_for_storage())

    monkeypatch.setattr(issuer.run, "read_private_key", read_counting)
    CountingSigner.signatures = 0


def _issue(world: World, roster: Path, out: Path, *extra: str | Path) -> int:
    return main([str(a) for a in issue_args(world, roster, out, *extra)])


def _reviewed(world: World, roster: Path, out: Path) -> None:
    """Submitted by a first run, then approved by the reviewer."""
    assert _issue(world, roster, out) == 4
    world.approve_all(journal_batch_id(out))


def test_a_key_whose_window_misses_the_issue_date_is_refused_before_signing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with registry_world(f"sqlite:///{tmp_path / 'r.sqlite3'}", tmp_path) as world:
        roster = write_roster(tmp_path / "roster.csv", roster_rows(3))
        out = tmp_path / "out"
        _reviewed(world, roster, out)
        later = Signer.generate()  # registered, but valid only from tomorrow
        write_private_key(tmp_path / "later.key", later, PASSPHRASE)
        tomorrow = (today() + timedelta(days=1)).isoformat()
        body = {"jwk": to_jwk(later.public_key), "valid_from": tomorrow}
        world.ok("POST", f"/api/v1/institutions/{CODE}/keys", "institution", json=body)
        # and the key registered from today, revoked from today
        kid = world.signer.public_key.kid_b64
        world.ok(
            "POST", f"/api/v1/institutions/{CODE}/keys/{kid}/revoke", "institution", json={"reason": "x"}
        )
        capsys.readouterr()
        for key in (tmp_path / "later.key", world.key):
            assert _issue(world, roster, out, "--key", key) == 2
            assert "key_not_valid" in capsys.readouterr().err
            assert CountingSigner.signatures == 0
            with Journal.open(out) as journal:
                assert [row.qr for row in journal.rows()] == [None] * 3
        assert world.publications() == {}


def test_a_resumed_run_signs_only_the_rows_not_yet_signed(tmp_path: Path) -> None:
    with registry_world(f"sqlite:///{tmp_path / 'r.sqlite3'}", tmp_path) as world:
        roster = write_roster(tmp_path / "roster.csv", roster_rows(4))
        out = tmp_path / "out"
        _reviewed(world, roster, out)
        # A run killed right after every row's QR text was committed to the journal.
        crashed = skillpass(*issue_args(world, roster, out), crash_at="signed:1")
        assert crashed.returncode == -signal.SIGKILL, crashed.stderr
        with Journal.open(out) as journal:
            signed = [row.qr for row in journal.rows()]
        assert all(signed)
        assert _issue(world, roster, out) == 0
        assert CountingSigner.signatures == 0
        manifest = read_manifest_json(out)
        assert [(out / r["files"]["txt"]).read_text().strip() for r in manifest["rows"]] == signed
        # The counter does see this key's signatures: a fresh roster signs each of its rows once.
        fresh = write_roster(tmp_path / "fresh.csv", roster_rows(3, start=100))
        _reviewed(world, fresh, tmp_path / "fresh")
        assert _issue(world, fresh, tmp_path / "fresh") == 0
        assert CountingSigner.signatures == 3


def test_each_page_of_rows_is_signed_while_the_pages_before_it_are_drawn(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Signing runs ahead of rendering by a page: a page of rows is signed, recorded and handed to the
    renderer before the next page is signed. Rendering in this process (``--workers 1``) with pages of
    two rows, the rows of the first page have their PDFs by the time the last row is signed; a run that
    signed every row before drawing any (as this one once did) finds no PDF at any signature."""
    monkeypatch.setattr(issuer.run, "_SIGN_COMMIT_EVERY", 2)
    out = tmp_path / "out"
    drawn_at_each_signature: list[int] = []

    class Watching(CountingSigner):
        def sign(self, message: bytes) -> bytes:
            drawn_at_each_signature.append(len(list((out / "certificates").glob("*.pdf"))))
            return super().sign(message)

    read = read_private_key
    monkeypatch.setattr(
        issuer.run, "read_private_key", lambda path, phrase: Watching(read(path, phrase).seed_for_storage())
    )
    with registry_world(f"sqlite:///{tmp_path / 'r.sqlite3'}", tmp_path) as world:
        roster = write_roster(tmp_path / "roster.csv", roster_rows(5))
        _reviewed(world, roster, out)
        assert _issue(world, roster, out, "--workers", "1") == 0
    assert len(drawn_at_each_signature) == 5
    assert drawn_at_each_signature[:2] == [0, 0]
    assert drawn_at_each_signature[-1] >= 2
    manifest = read_manifest_json(out)
    assert [r["state"] for r in manifest["rows"]] == ["published"] * 5
