"""Crash safety: ``skillpass issue`` runs as a real process and is SIGKILLed at chosen points (the run's
``SKILLPASS_TEST_CRASH_AT`` hook); the same command run again finishes the job with the certificate
numbers the registry allocated, every number unique, nothing published twice, and the same manifest as a
run that was never interrupted. Then a further rerun changes nothing."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_issuer_run_support import (
    PASSPHRASE,
    World,
    issue_args,
    journal_batch_id,
    registry_world,
    roster_rows,
    skillpass,
    write_roster,
)

from issuer.manifest import read_manifest_json
from skillpass.cli import main

ROWS = 5
# (where the process dies, whether the reviewer has approved by then)
CRASH_POINTS = [
    ("submitted:1", False),  # batch recorded in the journal and sent, before the run says so
    ("sign:3", True),  # three rows signed, none of them committed to the journal
    ("signed:1", True),  # every row signed and committed, nothing rendered
    ("rendered:1", True),  # files written, batch PDF not yet
    ("publish:1", True),  # first chunk accepted by the registry, the journal does not know yet
    ("publish:3", True),  # last chunk accepted, manifest not written
]


@pytest.fixture(autouse=True)
def _passphrase(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SKILLPASS_KEY_PASSPHRASE", PASSPHRASE)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    tmp = tmp_path_factory.mktemp("crash-registry")
    with registry_world(f"sqlite:///{tmp / 'registry.sqlite3'}", tmp) as running:
        yield running


def _run(world: World, roster: Path, out: Path) -> int:
    """The same command in this process (quicker; only the crashing run needs its own process)."""
    return main([str(a) for a in issue_args(world, roster, out, "--publish-chunk", "2")])


def _crash(world: World, roster: Path, out: Path, crash_at: str) -> int:
    done = skillpass(*issue_args(world, roster, out, "--publish-chunk", "2"), crash_at=crash_at)
    assert "Traceback" not in done.stderr, done.stderr
    return done.returncode


@pytest.mark.parametrize(("crash_at", "reviewed_first"), CRASH_POINTS)
def test_killed_and_run_again_finishes_exactly_once(
    world: World, tmp_path: Path, crash_at: str, reviewed_first: bool
) -> None:
    serial = 1000 * (CRASH_POINTS.index((crash_at, reviewed_first)) + 1)
    roster = write_roster(tmp_path / "roster.csv", roster_rows(ROWS, start=serial))
    out = tmp_path / "out"
    if reviewed_first:
        assert _run(world, roster, out) == 4
        world.approve_all(journal_batch_id(out))
    assert _crash(world, roster, out, crash_at) == -signal.SIGKILL
    if not reviewed_first:
        assert _run(world, roster, out) == 4
        world.approve_all(journal_batch_id(out))
    batch_id = journal_batch_id(out)
    assert _run(world, roster, out) == 0

    manifest = read_manifest_json(out)
    report = world.ok("GET", f"/api/v1/batches/{batch_id}", "institution")
    approved = [r["certificate"]["certificate_number"] for r in report["rows"]]
    assert [r["certificate_number"] for r in manifest["rows"]] == approved
    assert [r["state"] for r in manifest["rows"]] == ["published"] * ROWS
    assert len(set(approved)) == ROWS
    published = world.publications()
    assert all(published[n] == 1 for n in approved), published
    assert sum(1 for b in world.batches() if b["batch_id"] == world.batch_digest(batch_id)) == 1

    txt = [(out / r["files"]["txt"]).read_text() for r in manifest["rows"]]
    assert manifest == _uninterrupted_manifest(manifest, out)
    before = (out / "manifest.json").read_bytes(), (out / "manifest.csv").read_bytes(), txt
    events = len(world.events())
    assert _run(world, roster, out) == 0
    after = (out / "manifest.json").read_bytes(), (out / "manifest.csv").read_bytes(), txt
    assert after == before
    assert len(world.events()) == events


def _uninterrupted_manifest(manifest: dict[str, object], out: Path) -> dict[str, object]:
    """What a run that never crashed writes: every row published with its three files named after its number."""
    rows = []
    for row in manifest["rows"]:  # type: ignore[attr-defined]
        number = row["certificate_number"]
        files = {kind: f"certificates/{number}.{kind}" for kind in ("pdf", "png", "txt")}
        assert all((out / path).is_file() for path in files.values())
        rows.append({**row, "state": "published", "code": None, "reason": None, "files": files})
    return {
        **manifest,
        "rows": rows,
        "batch_pdf": "batch.pdf",
        "counts": {"published": ROWS, "rejected": 0, "invalid": 0, "pending": 0},
    }
