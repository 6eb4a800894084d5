"""``skillpass revoke | suspend | reinstate`` and key rotation against a real registry: what the public
query and the signed status list say afterwards, and bilingual errors (never tracebacks) when the
certificate, the token or the registry is wrong."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_issuer_run_flow import issued
from test_issuer_run_support import (
    CODE,
    PASSPHRASE,
    World,
    journal_batch_id,
    registry_world,
    roster_rows,
    today,
    write_roster,
)

from credential import decode
from credential.status_list import Status, StatusList
from credential.status_token import open_status_list_token
from issuer.manifest import read_manifest_json
from keys import from_jwk, read_private_key
from skillpass.cli import main


@pytest.fixture(autouse=True)
def _passphrase(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SKILLPASS_KEY_PASSPHRASE", PASSPHRASE)


def _status_list(world: World) -> StatusList:
    registry_key = from_jwk(world.ok("GET", "/api/v1/registry-key"))
    token = world.call("GET", "/api/v1/status-lists/0").content
    return open_status_list_token(token, registry_key).status_list


def _change(world: World, action: str, number: str, *extra: str) -> int:
    category = [] if action == "reinstate" else ["--category", "issued_in_error"]
    return main(
        [action, number, "--reason", "核查 check", *category, "--credentials", str(world.credentials), *extra]
    )


def test_revoke_suspend_reinstate_change_query_and_status_list(
    database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with registry_world(database_url, tmp_path) as world:
        rows = issued(world, tmp_path, 2)["rows"]
        (first, second) = rows
        indices = [
            decode((tmp_path / "out" / r["files"]["txt"]).read_text().strip()).claims.status_index
            for r in rows
        ]

        assert _change(world, "revoke", first["certificate_number"]) == 0
        assert _change(world, "suspend", second["certificate_number"]) == 0
        assert "revoked" in capsys.readouterr().out
        assert world.status(first["certificate_number"], first["holder_name"]) == "revoked"
        assert world.status(second["certificate_number"], second["holder_name"]) == "suspended"
        bits = _status_list(world)
        assert (bits.get(indices[0]), bits.get(indices[1])) == (Status.INVALID, Status.SUSPENDED)

        assert _change(world, "reinstate", second["certificate_number"]) == 0
        assert world.status(second["certificate_number"], second["holder_name"]) == "valid"
        assert _status_list(world).get(indices[1]) == Status.VALID

        assert _change(world, "reinstate", first["certificate_number"]) == 3  # revocation is final
        said = capsys.readouterr().err
        assert "status_change_invalid" in said and "Traceback" not in said
        assert world.status(first["certificate_number"], first["holder_name"]) == "revoked"


def test_errors_are_bilingual_and_actionable(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with registry_world(f"sqlite:///{tmp_path / 'r.sqlite3'}", tmp_path) as world:
        assert _change(world, "revoke", "Y000011000001263999999") == 2
        assert "[not_found]" in capsys.readouterr().err

        wrong = tmp_path / "wrong-token.json"
        wrong.write_text(
            json.dumps({"registry": world.url, "institution_code": CODE, "token": "skp_" + "A" * 43})
        )
        wrong.chmod(0o600)
        assert (
            main(
                [
                    "suspend",
                    "Y000011000001263000001",
                    "--reason",
                    "x",
                    "--category",
                    "other",
                    "--credentials",
                    str(wrong),
                ]
            )
            == 3
        )
        said = capsys.readouterr().err
        assert "[unauthenticated]" in said and "令牌" in said and "token" in said

        assert _change(world, "revoke", "Y000011000001263000001", "--registry", "http://127.0.0.1:9") == 3
        said = capsys.readouterr().err
        assert "[registry_unreachable]" in said and "http://127.0.0.1:9" in said

        broken = tmp_path / "broken.json"
        broken.write_text("{not json")
        assert (
            main(
                [
                    "revoke",
                    "Y000011000001263000001",
                    "--reason",
                    "x",
                    "--category",
                    "other",
                    "--credentials",
                    str(broken),
                ]
            )
            == 2
        )
        assert "[credentials_invalid]" in capsys.readouterr().err
        missing = ["issue", "r.csv", "--credentials", str(tmp_path / "none.json"), "--out", str(tmp_path)]
        assert main(missing) == 2
        assert "[credentials_unreadable]" in capsys.readouterr().err
        assert "Traceback" not in capsys.readouterr().err


def test_open_credentials_file_draws_a_warning(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with registry_world(f"sqlite:///{tmp_path / 'r.sqlite3'}", tmp_path) as world:
        world.credentials.chmod(0o644)
        assert _change(world, "revoke", "Y000011000001263999999") == 2
        assert "chmod 600" in capsys.readouterr().err


def test_key_rotation_keeps_old_certificates_and_signs_new_ones(
    database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with registry_world(database_url, tmp_path) as world:
        old_rows = issued(world, tmp_path, 1)["rows"]
        new_key = tmp_path / "new.key"
        rotate = ["--credentials", str(world.credentials), "--key", str(world.key), "--out", str(new_key)]
        assert main(["issuer", "rotate-key", *rotate]) == 0
        assert "retired" in capsys.readouterr().out
        assert main(["issuer", "rotate-key", *rotate]) == 0  # a repeated rotation changes nothing
        new = read_private_key(new_key, PASSPHRASE)
        keys = {k["kid"]: k for k in world.ok("GET", f"/api/v1/institutions/{CODE}")["keys"]}
        assert keys[world.signer.public_key.kid_b64]["retired"] == today().isoformat()
        assert keys[new.public_key.kid_b64]["retired"] is None
        assert len(keys) == 2
        assert world.status(old_rows[0]["certificate_number"], old_rows[0]["holder_name"]) == "valid"

        world.key = new_key
        later = tmp_path / "later"
        later.mkdir()
        new_rows = issued(world, later, 1, start=500)["rows"]
        text = (later / "out" / new_rows[0]["files"]["txt"]).read_text().strip()
        assert decode(text).kid == new.kid
        assert new_rows[0]["state"] == "published"

        # The first batch again (its id named: a new directory otherwise starts a new, random one),
        # into a new directory, with the new key: its certificate is already published with the old
        # key's credential, so the new one is not passed off as it.
        elsewhere = tmp_path / "elsewhere"
        args = [
            "issue",
            str(tmp_path / "roster.csv"),
            "--credentials",
            str(world.credentials),
            "--key",
            str(new_key),
            "--batch-id",
            journal_batch_id(tmp_path / "out"),
            "--without-photos",
        ]
        assert main([*args, "--out", str(elsewhere), "--workers", "1"]) == 1
        [row] = read_manifest_json(elsewhere)["rows"]
        assert (row["state"], row["code"]) == ("rejected", "published_elsewhere")
        assert set(world.publications().values()) == {1}


def test_signing_with_an_unregistered_key_is_refused_before_anything_is_signed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with registry_world(f"sqlite:///{tmp_path / 'r.sqlite3'}", tmp_path) as world:
        stranger = tmp_path / "stranger.key"
        assert main(["keys", "generate", "--out", str(stranger)]) == 0
        roster = write_roster(tmp_path / "roster.csv", roster_rows(1))
        out = tmp_path / "out"
        args = ["issue", str(roster), "--credentials", str(world.credentials), "--without-photos", "--key"]
        args.append(str(stranger))
        assert main([*args, "--out", str(out)]) == 4
        capsys.readouterr()
        [submitted] = world.batches()
        world.approve_all(journal_batch_id(out))
        assert submitted["batch_id"] == world.batch_digest(journal_batch_id(out))
        assert main([*args, "--out", str(out)]) == 2
        said = capsys.readouterr().err
        assert "[key_not_registered]" in said
        assert world.publications() == {}
        assert main([*args[:-1], str(world.key), "--out", str(out), "--svg"]) == 0
        manifest = read_manifest_json(out)
        assert manifest["counts"]["published"] == 1
        [row] = manifest["rows"]  # --svg: the QR as an SVG file too, named in the manifest
        assert (out / row["files"]["svg"]).read_text("utf-8").lstrip().startswith("<?xml")


def test_help_lists_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    listed = capsys.readouterr().out
    for command in ("issue", "revoke", "suspend", "reinstate", "issuer"):
        assert command in listed
