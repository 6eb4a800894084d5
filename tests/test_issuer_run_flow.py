"""``skillpass issue`` end to end against a real registry on loopback, on SQLite and PostgreSQL:
roster → review (a reviewer approves over HTTP) → sign → render → publish → public query and status
list; a finished run run again changes nothing; dry runs; bad rosters submit nothing."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest
from test_issuer_run_support import (
    CODE,
    HEADERS,
    PASSPHRASE,
    World,
    issue_args,
    journal_batch_id,
    registry_world,
    roster_rows,
    write_roster,
)

from credential import decode, verify
from credential.status_list import Status
from credential.status_token import open_status_list_token
from issuer.manifest import read_manifest_json
from keys import from_jwk
from skillpass.cli import main


@pytest.fixture(autouse=True)
def _passphrase(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SKILLPASS_KEY_PASSPHRASE", PASSPHRASE)


def _issue(world: World, roster: Path, out: Path, *extra: str) -> int:
    return main([str(a) for a in issue_args(world, roster, out, *extra)])


def issued(world: World, tmp_path: Path, count: int = 3, start: int = 0) -> dict[str, Any]:
    """Issue a fresh roster of ``count`` rows all the way; returns manifest.json."""
    roster = write_roster(tmp_path / "roster.csv", roster_rows(count, start=start))
    out = tmp_path / "out"
    assert _issue(world, roster, out) == 4
    world.approve_all(journal_batch_id(out))
    assert _issue(world, roster, out) == 0
    return read_manifest_json(out)


def _status_bits(world: World) -> object:
    registry_key = from_jwk(world.ok("GET", "/api/v1/registry-key"))
    return open_status_list_token(
        world.call("GET", "/api/v1/status-lists/0").content, registry_key
    ).status_list


def test_roster_to_public_query(
    database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with registry_world(database_url, tmp_path) as world:
        roster = write_roster(tmp_path / "roster.csv", roster_rows(3))
        out = tmp_path / "out"

        assert _issue(world, roster, out) == 4
        assert "waiting for review" in capsys.readouterr().out
        assert not (out / "manifest.json").exists()
        [submitted] = world.batches()
        assert submitted["rows"] == 3 and submitted["invalid"] == 0

        batch_id = journal_batch_id(out)
        # Random, not a hash of the roster (which the public log once let anyone test guesses against).
        roster_hash = hashlib.sha256(roster.read_bytes() + b"\x00" + CODE.encode()).hexdigest()
        assert len(batch_id) == 32 and batch_id != roster_hash
        review = world.approve_all(batch_id)
        approved = {r["row"]: r["certificate"] for r in review["rows"]}
        assert _issue(world, roster, out) == 0

        manifest = read_manifest_json(out)
        rows = manifest["rows"]
        assert manifest["batch_id"] == batch_id
        assert manifest["counts"] == {"published": 3, "rejected": 0, "invalid": 0, "pending": 0}
        assert [r["row"] for r in rows] == [2, 3, 4]  # spreadsheet rows, under the header
        numbers = [r["certificate_number"] for r in rows]
        assert numbers == [approved[i]["certificate_number"] for i in (1, 2, 3)]
        assert len(set(numbers)) == 3
        assert (out / "batch.pdf").read_bytes().startswith(b"%PDF")
        bits = _status_bits(world)
        for row in rows:
            assert sorted(row["files"]) == ["pdf", "png", "txt"]  # the SVG only when asked for (--svg)
            for kind in ("pdf", "png", "txt"):
                assert (out / row["files"][kind]).is_file()
            parsed = decode((out / row["files"]["txt"]).read_text().strip())
            verify(parsed, world.signer.public_key)
            number = parsed.claims.with_institution(row["certificate_number"][:13]).certificate_number
            assert number == row["certificate_number"]
            assert parsed.claims.holder_name == row["holder_name"]
            assert world.status(row["certificate_number"], row["holder_name"]) == "valid"
            assert bits.get(parsed.claims.status_index) == Status.VALID  # type: ignore[attr-defined]
        assert set(world.publications().values()) == {1}


def test_a_finished_run_run_again_changes_nothing(database_url: str, tmp_path: Path) -> None:
    with registry_world(database_url, tmp_path) as world:
        issued(world, tmp_path, 2)
        out = tmp_path / "out"
        before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
        events = len(world.events())
        assert _issue(world, tmp_path / "roster.csv", out) == 0
        assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
        assert len(world.events()) == events


def test_an_output_directory_lost_and_rebuilt_gives_the_same_credentials(tmp_path: Path) -> None:
    with registry_world(f"sqlite:///{tmp_path / 'r.sqlite3'}", tmp_path) as world:
        first = issued(world, tmp_path, 2)
        again = tmp_path / "again"
        # The batch id (random) is in the manifest and was printed at submission: naming it resumes.
        assert _issue(world, tmp_path / "roster.csv", again, "--batch-id", first["batch_id"]) == 0
        rebuilt = read_manifest_json(again)
        assert rebuilt == first
        for row in first["rows"]:
            txt = row["files"]["txt"]
            assert (again / txt).read_bytes() == (tmp_path / "out" / txt).read_bytes()
        assert set(world.publications().values()) == {1}


def test_rejected_rows_are_reported_and_the_rest_published(tmp_path: Path) -> None:
    with registry_world(f"sqlite:///{tmp_path / 'r.sqlite3'}", tmp_path) as world:
        roster = write_roster(tmp_path / "roster.csv", roster_rows(3))
        out = tmp_path / "out"
        assert _issue(world, roster, out) == 4
        batch_id = journal_batch_id(out)
        decisions = [
            {"row": 1, "approve": True},
            {"row": 2, "approve": False, "reason": "照片不符"},
            {"row": 3, "approve": True},
        ]
        world.ok("POST", f"/api/v1/batches/{batch_id}/review", "reviewer", json={"decisions": decisions})
        assert _issue(world, roster, out) == 1
        rows = read_manifest_json(out)["rows"]
        assert [(r["state"], r["reason"]) for r in rows] == [
            ("published", None),
            ("rejected", "照片不符"),
            ("published", None),
        ]
        assert rows[1]["files"] == {}
        assert _issue(world, roster, out) == 1  # finished: reported again, nothing retried


def test_wait_polls_until_reviewed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with registry_world(f"sqlite:///{tmp_path / 'r.sqlite3'}", tmp_path) as world:
        roster = write_roster(tmp_path / "roster.csv", roster_rows(1))
        out = tmp_path / "out"
        assert _issue(world, roster, out, "--wait", "--timeout", "0.5", "--poll-interval", "0.1") == 4
        assert "waiting for review" in capsys.readouterr().out


def test_dry_run_validates_and_submits_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with registry_world(f"sqlite:///{tmp_path / 'r.sqlite3'}", tmp_path) as world:
        roster = write_roster(tmp_path / "roster.csv", roster_rows(2))
        out = tmp_path / "out"
        args = ["issue", str(roster), "--credentials", str(world.credentials), "--out", str(out), "--dry-run"]
        assert main(args) == 2  # no photos, and photo-less certificates not chosen
        assert "photo_required" in (out / "report.csv").read_text("utf-8-sig")
        args.append("--without-photos")
        assert main(args) == 0
        assert "dry run" in capsys.readouterr().out
        assert main([*args, "--registry", "http://127.0.0.1:9"]) == 0
        assert "NOT checked" in capsys.readouterr().err
        out_of_scope = write_roster(
            tmp_path / "bad.csv", [[*roster_rows(1)[0][:6], "1", roster_rows(1)[0][7]]]
        )
        assert main(["issue", str(out_of_scope), *args[2:]]) == 2
        assert "level_out_of_scope" in (out / "report.csv").read_text("utf-8-sig")
        assert world.batches() == []


def _bad_rosters(tmp_path: Path) -> dict[str, tuple[Path, str]]:
    """Each bad roster and the code its report or error must name."""
    good = roster_rows(3)
    wrong_check = [row[:] for row in good]
    wrong_check[1][2] = wrong_check[1][2][:-1] + ("0" if wrong_check[1][2][-1] != "0" else "1")
    other_occupation = [row[:] for row in good]
    other_occupation[0][3:5] = ["6-18-02-04", "焊工"]
    level_one = [row[:] for row in good]
    level_one[2][6] = "1"
    duplicated = [*good, good[0]]
    path = tmp_path / "bad"
    path.mkdir()
    gbk_unknown = path / "latin1.csv"
    gbk_unknown.write_bytes(b"\xff\xfe\x00garbage\x81\x30")
    not_sheet = path / "photo.xlsx"
    not_sheet.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(64))
    empty = path / "empty.csv"
    empty.write_bytes(b"")
    return {
        "wrong ID check character": (write_roster(path / "check.csv", wrong_check), "id_check_char"),
        "occupation out of scope": (
            write_roster(path / "scope.csv", other_occupation),
            "occupation_out_of_scope",
        ),
        "level not certified": (write_roster(path / "level.csv", level_one), "level_out_of_scope"),
        "duplicate rows": (write_roster(path / "dup.csv", duplicated), "duplicate_row"),
        "missing column": (write_roster(path / "col.csv", [r[1:] for r in good], HEADERS[1:]), "roster_"),
        "empty file": (empty, "roster_empty"),
        "not a spreadsheet": (not_sheet, "roster_"),
        "wrong encoding": (gbk_unknown, "roster_"),
    }


def test_bad_rosters_give_a_report_and_submit_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with registry_world(f"sqlite:///{tmp_path / 'r.sqlite3'}", tmp_path) as world:
        for name, (roster, code) in _bad_rosters(tmp_path).items():
            out = tmp_path / "out" / name.replace(" ", "-")
            assert _issue(world, roster, out) == 2, name
            said = capsys.readouterr().err
            assert code in said, (name, said)
            assert "Traceback" not in said
            if not code.startswith("roster_"):
                assert code in (out / "report.csv").read_text("utf-8-sig"), name
                assert "nothing was submitted" in said
        assert world.batches() == []
        assert world.publications() == {}


def test_a_batch_the_registry_finds_all_invalid_ends_at_once(
    database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with registry_world(database_url, tmp_path) as world:
        issued(world, tmp_path, count=2)
        roster = tmp_path / "roster.csv"
        capsys.readouterr()
        # The same people again under another batch id: every row is already certified.
        assert _issue(world, roster, tmp_path / "again", "--batch-id", "again") == 1
        err = capsys.readouterr().err
        assert err.count("duplicate_certified") == 2
        manifest = read_manifest_json(tmp_path / "again")
        assert manifest["counts"] == {"published": 0, "rejected": 0, "invalid": 2, "pending": 0}


def test_a_completed_run_keeps_no_full_id_number(database_url: str, tmp_path: Path) -> None:
    with registry_world(database_url, tmp_path) as world:
        rows = roster_rows(2)
        manifest = issued(world, tmp_path, count=2)
        assert manifest["counts"]["published"] == 2
        out = tmp_path / "out"
        stored = b"".join(p.read_bytes() for p in out.iterdir() if p.name.startswith(".skillpass-journal"))
        assert stored and not any(row[2].encode() in stored for row in rows)
        roster = tmp_path / "roster.csv"
        assert _issue(world, roster, out) == 0  # a rerun of the completed run still only reports
        assert (out / "certificates").is_dir() and out.stat().st_mode & 0o777 == 0o700
