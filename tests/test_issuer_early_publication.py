"""Publication while rendering: each rendered chunk is published as soon as its files are recorded, so the
registry's share of the work runs beside the render workers. A chunk the registry refuses then is not lost:
the publication stage after rendering sends it again, and every certificate is published exactly once."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from pathlib import Path

import pytest
from harness.faulty_proxy import Answer, faulty_proxy
from test_issuer_run_support import (
    CODE,
    PASSPHRASE,
    World,
    issue_args,
    journal_batch_id,
    registry_world,
    roster_rows,
    skillpass,
    write_roster,
)

from issuer.client import RegistryClient
from issuer.manifest import read_manifest_json
from issuer.run import IssueRequest, run_issue

ROWS = 3


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    tmp = tmp_path_factory.mktemp("early-publication")
    with registry_world(f"sqlite:///{tmp / 'registry.sqlite3'}", tmp) as running:
        yield running


def _approved_numbers(world: World, out: Path) -> list[str]:
    report = world.ok("GET", f"/api/v1/batches/{journal_batch_id(out)}", "institution")
    return [r["certificate"]["certificate_number"] for r in report["rows"]]


def test_rendered_rows_are_published_before_the_publication_stage(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Killed right after rendering (before the publication stage begins), the registry already publishes
    every certificate once; the run made again finishes without publishing any a second time."""
    monkeypatch.setenv("SKILLPASS_KEY_PASSPHRASE", PASSPHRASE)
    roster = write_roster(tmp_path / "roster.csv", roster_rows(ROWS, start=7000))
    out = tmp_path / "out"
    args = issue_args(world, roster, out, "--publish-chunk", "2")
    assert skillpass(*args).returncode == 4
    world.approve_all(journal_batch_id(out))
    assert skillpass(*args, crash_at="rendered:1").returncode == -signal.SIGKILL

    numbers = _approved_numbers(world, out)
    published = world.publications()
    assert [published[n] for n in numbers] == [1] * ROWS

    assert skillpass(*args).returncode == 0
    assert [r["state"] for r in read_manifest_json(out)["rows"]] == ["published"] * ROWS
    published = world.publications()
    assert [published[n] for n in numbers] == [1] * ROWS


def test_a_chunk_refused_while_rendering_is_published_by_the_publication_stage(
    world: World, tmp_path: Path
) -> None:
    """The registry refuses the first chunk sent during rendering (403 from the proxy, which never
    reaches the registry): rendering goes on, and the publication stage publishes what is left."""
    roster = write_roster(tmp_path / "roster.csv", roster_rows(ROWS, start=7100))
    out = tmp_path / "out"
    request = IssueRequest(roster, out, CODE, world.key, workers=1, publish_chunk=2)
    with faulty_proxy(world.url) as proxy:
        client = RegistryClient(proxy.url, world.tokens["institution"], retries=1, sleep=lambda _: None)
        with client:
            assert run_issue(request, client, lambda: PASSPHRASE) == 4
            world.approve_all(journal_batch_id(out))
            path = f"/api/v1/batches/{journal_batch_id(out)}/publish"
            proxy.script("POST", path, Answer(403, b'{"code": "forbidden"}', "application/json"))
            assert run_issue(request, client, lambda: PASSPHRASE) == 0
        assert proxy.pending() == {}
        # The refused chunk, then the rows it held (and the third, unless it went early) once more.
        assert proxy.received("POST", path) == 3

    manifest = read_manifest_json(out)
    assert [r["state"] for r in manifest["rows"]] == ["published"] * ROWS
    assert all((out / r["files"]["pdf"]).is_file() for r in manifest["rows"])
    published = world.publications()
    assert [published[n] for n in _approved_numbers(world, out)] == [1] * ROWS
