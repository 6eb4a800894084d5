"""The issuance journal: one batch per directory, QR texts final once recorded, decisions that keep
their certificate numbers, and a process killed inside a transaction leaving the state before it."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from issuer import journal as jn
from issuer.journal import Decision, Journal, JournalError

ROWS = [(2, {"holder_name": "王建国", "level": 3}), (3, {"holder_name": "李秀英", "level": 4})]


def _certificate(number: str) -> dict[str, object]:
    return {"certificate_number": number, "issue_date": "2026-11-24", "status": {"list": 0, "index": 7}}


def _started(tmp_path: Path) -> Journal:
    journal = Journal.open(tmp_path)
    journal.start("batch-1", "sha-1", "Y000011000001", ROWS)
    return journal


def test_start_records_rows_in_batch_order_with_roster_numbers(tmp_path: Path) -> None:
    with _started(tmp_path) as journal:
        rows = journal.rows()
        assert [(r.row, r.roster_row, r.fields["holder_name"], r.state) for r in rows] == [
            (1, 2, "王建国", jn.SUBMITTED),
            (2, 3, "李秀英", jn.SUBMITTED),
        ]
        assert journal.meta("batch_id") == "batch-1"
        assert not journal.complete()
    assert (tmp_path / jn.FILENAME).is_file()


def test_starting_again_with_the_same_batch_is_harmless(tmp_path: Path) -> None:
    with _started(tmp_path) as journal:
        journal.start("batch-1", "sha-1", "Y000011000001", ROWS)
        assert len(journal.rows()) == 2


def test_each_row_reads_pages_and_sees_every_row_once_while_rows_are_written(tmp_path: Path) -> None:
    """The run's stages page through the journal (memory flat in the roster) and write as they go."""
    with Journal.open(tmp_path) as journal:
        journal.start(
            "batch-1", "sha-1", "Y000011000001", [(n + 2, {"holder_name": f"人{n}"}) for n in range(7)]
        )
        seen = []
        for row in journal.each_row(page=3):
            seen.append(row.row)
            journal.record_signed([(row.row, f"SP2:{row.row}")])  # a write between two rows handed out
        assert seen == [1, 2, 3, 4, 5, 6, 7]
        assert [r.qr for r in journal.rows()] == [f"SP2:{n}" for n in range(1, 8)]


@pytest.mark.parametrize(("batch_id", "sha"), [("batch-2", "sha-1"), ("batch-1", "sha-2")])
def test_another_batch_in_the_same_directory_is_refused(tmp_path: Path, batch_id: str, sha: str) -> None:
    _started(tmp_path).close()
    with Journal.open(tmp_path) as journal, pytest.raises(JournalError) as raised:
        journal.require_batch(batch_id, sha)
    assert raised.value.code == "journal_other_batch"
    assert "--out" in raised.value.message_en


def test_a_recorded_qr_text_is_final(tmp_path: Path) -> None:
    with _started(tmp_path) as journal:
        journal.record_signed([(1, "SP2:AAA")])
        journal.record_signed([(1, "SP2:AAA")])
        with pytest.raises(JournalError) as raised:
            journal.record_signed([(1, "SP2:BBB")])
        assert raised.value.code == "journal_signature_changed"
        assert journal.rows()[0].qr == "SP2:AAA"


def test_signing_an_unknown_row_is_refused(tmp_path: Path) -> None:
    with _started(tmp_path) as journal, pytest.raises(JournalError) as raised:
        journal.record_signed([(9, "SP2:AAA")])
    assert raised.value.code == "journal_unknown_row"


def test_decisions_keep_the_certificate_number(tmp_path: Path) -> None:
    with _started(tmp_path) as journal:
        journal.record_decisions([Decision(1, jn.APPROVED, _certificate("Y000011000001263000001"))])
        journal.record_decisions([Decision(1, jn.APPROVED, _certificate("Y000011000001263000001"))])
        with pytest.raises(JournalError) as raised:
            journal.record_decisions([Decision(1, jn.APPROVED, _certificate("Y000011000001263000002"))])
        assert raised.value.code == "journal_number_changed"
        certificate = journal.rows()[0].certificate
        assert certificate is not None
        assert certificate["certificate_number"] == "Y000011000001263000001"


def test_final_states_are_not_reopened_by_later_decisions(tmp_path: Path) -> None:
    with _started(tmp_path) as journal:
        journal.record_decisions(
            [
                Decision(1, jn.APPROVED, _certificate("Y000011000001263000001")),
                Decision(2, jn.REJECTED, code="review_rejected", reason="照片不清晰"),
            ]
        )
        journal.record_signed([(1, "SP2:AAA")])
        journal.record_published([1])
        journal.record_decisions([Decision(1, jn.APPROVED), Decision(2, jn.APPROVED)])
        assert [(r.state, r.reason) for r in journal.rows()] == [
            (jn.PUBLISHED, None),
            (jn.REJECTED, "照片不清晰"),
        ]
        assert journal.complete()


def test_a_refused_publication_keeps_the_row_open_for_the_next_run(tmp_path: Path) -> None:
    with _started(tmp_path) as journal:
        journal.record_decisions(
            [Decision(n, jn.APPROVED, _certificate(f"Y00001100000126300000{n}")) for n in (1, 2)]
        )
        journal.record_publish_refused([(1, "key_unknown", "not registered")])
        journal.record_published([2])
        first = journal.rows()[0]
        assert (first.state, first.code) == (jn.APPROVED, "key_unknown")
        assert not journal.complete()
        journal.record_published([1])
        assert journal.rows()[0].code is None
        assert journal.complete()


def test_rendered_files_are_recorded(tmp_path: Path) -> None:
    with _started(tmp_path) as journal:
        journal.record_files([(2, {"pdf": "certificates/X.pdf"})])
        assert [r.files for r in journal.rows()] == [None, {"pdf": "certificates/X.pdf"}]


def test_sigkill_inside_a_transaction_leaves_the_state_before_it(tmp_path: Path) -> None:
    """A real process is killed while ``record_signed`` holds its transaction open: the row signed in
    that transaction must not appear, the one committed before it must."""
    _started(tmp_path).close()
    script = textwrap.dedent(
        f"""
        import os, signal
        from pathlib import Path
        from issuer.journal import Journal
        journal = Journal.open(Path({str(tmp_path)!r}))
        journal.record_signed([(1, "SP2:COMMITTED")])
        def rows():
            yield (2, "SP2:TORN")
            os.kill(os.getpid(), signal.SIGKILL)
        journal.record_signed(rows())
        """
    )
    done = subprocess.run([sys.executable, "-c", script], env=os.environ.copy(), check=False)
    assert done.returncode == -9
    with Journal.open(tmp_path) as journal:
        assert [r.qr for r in journal.rows()] == ["SP2:COMMITTED", None]


def test_a_new_output_directory_and_the_journal_are_owner_only(tmp_path: Path) -> None:
    out = tmp_path / "new" / "out"
    with Journal.open(out) as journal:
        journal.start("batch-1", "sha-1", "Y000011000001", ROWS)
    assert out.stat().st_mode & 0o777 == 0o700
    assert (out / jn.FILENAME).stat().st_mode & 0o777 == 0o600
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o755)
    shared.chmod(0o755)
    Journal.open(shared).close()
    assert shared.stat().st_mode & 0o777 == 0o755  # an existing directory is left as it is


def test_forgetting_id_numbers_leaves_only_the_masked_form(tmp_path: Path) -> None:
    full = "11010519800101001X"
    rows = [
        (2, {"holder_name": "王建国", "id_number": full}),
        (3, {"holder_name": "李秀英", "id_number": "A1234567"}),
    ]
    with Journal.open(tmp_path) as journal:
        journal.start("batch-1", "sha-1", "Y000011000001", rows)
        journal.forget_id_numbers()
        journal.forget_id_numbers()  # idempotent: the masked form is not masked again
        assert [r.fields["id_number"] for r in journal.rows()] == ["*" * 14 + "001X", "****4567"]
        assert journal.rows()[0].fields["holder_name"] == "王建国"
    stored = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith(jn.FILENAME))
    assert full.encode() not in stored and b"A1234567" not in stored


def test_the_journal_runs_with_full_synchronous_durability(tmp_path: Path) -> None:
    """FULL (2) syncs the WAL at every commit; NORMAL (1) in WAL mode may lose the last commits on power
    loss, and a lost QR text would be signed again. Both are per connection, so the journal's own is read."""
    for _ in range(2):  # a new journal, then the same one reopened
        with _started(tmp_path) as journal:
            connection = journal._db
            assert connection.execute("PRAGMA synchronous").fetchone() == (2,)
            assert connection.execute("PRAGMA journal_mode").fetchone() == ("wal",)


def test_a_call_that_fails_part_way_leaves_nothing_behind(tmp_path: Path) -> None:
    """Each call is one transaction: an error on its last item rolls back the items before it."""
    with _started(tmp_path) as journal:
        with pytest.raises(JournalError) as unknown:
            journal.record_signed([(1, "SP1:AAA"), (2, "SP1:BBB"), (9, "SP1:CCC")])
        assert unknown.value.code == "journal_unknown_row"
        assert [r.qr for r in journal.rows()] == [None, None]

        journal.record_decisions([Decision(2, jn.APPROVED, _certificate("Y000011000001263000002"))])
        with pytest.raises(JournalError) as renumbered:
            journal.record_decisions(
                [
                    Decision(1, jn.APPROVED, _certificate("Y000011000001263000001")),
                    Decision(2, jn.APPROVED, _certificate("Y000011000001263000009")),
                ]
            )
        assert renumbered.value.code == "journal_number_changed"
        assert [(r.state, r.certificate) for r in journal.rows()] == [
            (jn.SUBMITTED, None),
            (jn.APPROVED, _certificate("Y000011000001263000002")),
        ]

    with Journal.open(tmp_path / "other") as journal:
        with pytest.raises(TypeError):  # the last row cannot be stored: not even the batch is recorded
            journal.start("batch-2", "sha-2", "Y000011000001", [*ROWS, (4, {"photo": object()})])
        assert journal.meta("batch_id") is None and journal.rows() == []


def test_decisions_over_several_pages_each_reach_their_row(tmp_path: Path) -> None:
    """Decisions are written a page at a time: over more rows than a page, in any order, each row gets
    its own decision, a decision for a row the journal lacks changes nothing, and a final row stays."""
    count = 2 * jn._PAGE_ROWS + 7
    with Journal.open(tmp_path) as journal:
        journal.start("b", "sha", "Y000011000001", [(n + 1, {"holder_name": f"h{n}"}) for n in range(count)])
        journal.record_rejected([(5, "c", "r")])
        numbers = {row: f"Y000011000001263{row:06d}" for row in range(1, count + 1)}
        decisions = [Decision(row, jn.APPROVED, _certificate(numbers[row])) for row in reversed(numbers)]
        journal.record_decisions([*decisions, Decision(count + 50, jn.APPROVED)])
        rows = journal.rows()
    assert len(rows) == count
    for row in rows:
        if row.row == 5:
            assert (row.state, row.certificate) == (jn.REJECTED, None)
        else:
            assert row.state == jn.APPROVED
            assert row.certificate is not None
            assert row.certificate["certificate_number"] == numbers[row.row]
