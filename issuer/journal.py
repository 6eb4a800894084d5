"""The issuance run's local journal: what has already happened, so a rerun never does it twice.

One SQLite file in the output directory (WAL, ``synchronous=FULL``): a process killed at any
instant leaves either the state before or after the last commit, never a torn one. The journal
holds the submitted rows (so a resumed run needs neither the roster's parsing nor its
validation again), the registry's decisions and certificate numbers, every signed QR text,
rendered files and published rows. A QR text, once recorded, is final: recording a different
one for the same row is refused, so a certificate is never signed into two different
credentials.
"""

from __future__ import annotations

import functools
import os
import sqlite3
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from common.errors import SkillpassError
from common.paging import in_pages
from credential import MaskedId

FILENAME = ".skillpass-journal.sqlite3"
SCHEMA_VERSION = "1"

# Row states. ``approved`` rows are signed, rendered and published in turn.
SUBMITTED, APPROVED, PUBLISHED = "submitted", "approved", "published"
INVALID, REJECTED = "invalid", "rejected"
FINAL_STATES = frozenset({PUBLISHED, INVALID, REJECTED})
_PAGE_ROWS = 500  # rows read at a time by ``each_row``
# The columns in the order ``_journal_row`` reads them.
_SELECT_ROWS = "SELECT row, roster_row, fields, state, certificate, qr, files, code, reason FROM rows"
_PAGE_AFTER = _SELECT_ROWS + " WHERE row > ? ORDER BY row LIMIT ?"
_ONE_ROW = _SELECT_ROWS + " WHERE row = ?"
_MASK_ID_NUMBERS = (
    "UPDATE rows SET fields = json_set(fields, '$.id_number', masked_id(json_extract(fields, '$.id_number')))"
)
# What a report says of each row, its JSON columns read by SQLite (``RowSummary``).
_SUMMARY_PAGE_AFTER = (
    "SELECT row, roster_row, state, code, reason, json_extract(fields, '$.holder_name'),"
    " json_extract(certificate, '$.certificate_number'), files FROM rows WHERE row > ? ORDER BY row LIMIT ?"
)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS rows (
    row INTEGER PRIMARY KEY,
    roster_row INTEGER NOT NULL,
    fields TEXT NOT NULL,
    state TEXT NOT NULL,
    certificate TEXT,
    qr TEXT,
    files TEXT,
    code TEXT,
    reason TEXT
);
"""


class JournalError(SkillpassError):
    """The journal refuses an operation; ``code`` is stable, the messages are for people."""


@dataclass(frozen=True)
class JournalRow:
    """One roster row as the journal knows it; ``row`` is its 1-based position in the batch.

    The JSON columns (``fields``, ``certificate``, ``files``) are decoded when first read: most passes over
    the journal look only at a row's state and QR text, and a run makes about nine of them, each decoding
    every row's columns cost ~30 µs a row (a quarter of a millisecond of every certificate)."""

    row: int
    roster_row: int
    state: str
    qr: str | None
    code: str | None
    reason: str | None
    fields_json: str
    certificate_json: str | None
    files_json: str | None

    @functools.cached_property
    def fields(self) -> dict[str, Any]:
        """The roster row's values, as submitted."""
        decoded: dict[str, Any] = orjson.loads(self.fields_json)
        return decoded

    @functools.cached_property
    def certificate(self) -> dict[str, Any] | None:
        """The certificate document the registry approved, once it has."""
        return None if self.certificate_json is None else _object(self.certificate_json)

    @functools.cached_property
    def files(self) -> dict[str, str] | None:
        """The rendered files (paths relative to the output directory), once written."""
        return None if self.files_json is None else _object(self.files_json)


@dataclass(frozen=True)
class RowSummary:
    """A row as the manifest names it: where it stands and why, its holder, number and files."""

    row: int
    roster_row: int
    state: str
    code: str | None
    reason: str | None
    holder_name: str
    certificate_number: str | None
    files: dict[str, str] | None


@dataclass(frozen=True)
class Decision:
    """The registry's verdict on a row: state, certificate document once approved, and why not."""

    row: int
    state: str
    certificate: Mapping[str, Any] | None = None
    code: str | None = None
    reason: str | None = None


class Journal:
    """A run's journal; open it with ``Journal.open(out_dir)`` and close it when done."""

    def __init__(self, db: sqlite3.Connection, path: Path) -> None:
        self._db = db
        self.path = path

    @classmethod
    def open(cls, out_dir: Path) -> Journal:
        """Open (creating if needed) the journal in ``out_dir``."""
        path = out_dir / FILENAME
        try:
            make_private_dir(out_dir)
            # Rows hold full ID numbers until the run is complete: owner only. SQLite gives its WAL
            # and shared-memory files the database file's permissions.
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
            db = sqlite3.connect(path, isolation_level=None)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=FULL")
            db.create_function("masked_id", 1, _masked_id, deterministic=True)
            db.executescript(_SCHEMA)
        except (OSError, sqlite3.Error) as e:
            raise JournalError(
                "journal_unusable",
                f"无法打开日志文件 {path}：{e}",
                f"cannot open the journal {path}: {e}",
            ) from e
        return cls(db, path)

    def close(self) -> None:
        """Close the database (everything is already committed)."""
        self._db.close()

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # Binding to one batch --------------------------------------------------------------------

    def meta(self, key: str) -> str | None:
        """A recorded fact about the run, e.g. ``batch_id``."""
        found = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if found is None else str(found[0])

    def set_meta(self, key: str, value: str) -> None:
        """Record a fact about the run (committed at once)."""
        with self._transaction():
            self._db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    def require_batch(self, batch_id: str, roster_sha256: str) -> None:
        """Refuse to mix two batches in one output directory."""
        recorded = self.meta("batch_id")
        if recorded is not None and (recorded != batch_id or self.meta("roster_sha256") != roster_sha256):
            raise JournalError(
                "journal_other_batch",
                f"输出目录已属于另一批次（{recorded}）：请为这份名册使用新的 --out 目录",
                f"the output directory belongs to another batch ({recorded}): use a new --out "
                "directory for this roster",
            )

    def start(
        self,
        batch_id: str,
        roster_sha256: str,
        institution_code: str,
        rows: Sequence[tuple[int, Mapping[str, Any]]],
    ) -> None:
        """Record the batch and the rows about to be submitted, in one transaction."""
        self.require_batch(batch_id, roster_sha256)
        with self._transaction():
            for key, value in (
                ("schema", SCHEMA_VERSION),
                ("batch_id", batch_id),
                ("roster_sha256", roster_sha256),
                ("institution_code", institution_code),
            ):
                self._db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))
            self._db.executemany(
                "INSERT OR IGNORE INTO rows (row, roster_row, fields, state) VALUES (?, ?, ?, ?)",
                [(i, number, _dump(fields), SUBMITTED) for i, (number, fields) in enumerate(rows, start=1)],
            )

    # Progress of the rows --------------------------------------------------------------------

    def rows(self) -> list[JournalRow]:
        """Every row, in batch order, all at once (a whole batch's report; the run's stages use ``each_row``)."""
        return list(self.each_row())

    def each_row(self, page: int = _PAGE_ROWS) -> Iterator[JournalRow]:
        """Every row in batch order, read ``page`` rows at a time, so that a stage's memory does not grow with
        the roster. Rows may be written between two rows handed out: each page is read whole, and the next
        one starts after the last row number seen."""
        return map(_journal_row, self._paged(_PAGE_AFTER, page))

    def each_summary(self) -> Iterator[RowSummary]:
        """Every row as a report names it (``RowSummary``), in batch order, a page at a time. SQLite reads the
        holder's name and the certificate number out of the JSON columns: a manifest decodes none of them."""
        for r in self._paged(_SUMMARY_PAGE_AFTER, _PAGE_ROWS):
            files = None if r[7] is None else _object(r[7])
            yield RowSummary(r[0], r[1], r[2], r[3], r[4], str(r[5] or ""), r[6], files)

    def _paged(self, query: str, page: int) -> Iterator[tuple[Any, ...]]:
        """The rows ``query`` (``... WHERE row > ? ORDER BY row LIMIT ?``) selects, ``page`` at a time."""
        last = 0
        while True:
            found = self._db.execute(query, (last, page)).fetchall()
            if not found:
                return
            yield from found
            last = found[-1][0]

    def _row(self, row: int) -> JournalRow | None:
        found = self._db.execute(_ONE_ROW, (row,)).fetchone()
        return None if found is None else _journal_row(found)

    def record_decisions(self, decisions: Iterable[Decision]) -> None:
        """Record the registry's decisions; an approved row's certificate number never changes.

        A page of decisions at a time: one query reads those rows' states and certificates, one statement
        writes them (a query and an update per row cost a tenth of a millisecond each, a second or two
        for a 10,000-row batch), and no more than a page of rows is held."""
        with self._transaction():
            for page in in_pages(decisions, _PAGE_ROWS):
                before = {
                    r[0]: (r[1], r[2]) for r in self._columns("state, certificate", [d.row for d in page])
                }
                updates = []
                for decision in page:
                    if decision.row not in before or before[decision.row][0] in FINAL_STATES:
                        continue
                    stored = before[decision.row][1]
                    if decision.certificate is not None:
                        _require_same_number(decision.row, stored, decision.certificate)
                        stored = _dump(decision.certificate)
                    before[decision.row] = (decision.state, stored)
                    updates.append((decision.state, stored, decision.code, decision.reason, decision.row))
                self._db.executemany(
                    "UPDATE rows SET state = ?, certificate = ?, code = ?, reason = ? WHERE row = ?", updates
                )

    def record_signed(self, signed: Iterable[tuple[int, str]]) -> None:
        """Record QR texts; a row keeps its first QR text forever (a page of rows read by one query)."""
        with self._transaction():
            for page in in_pages(signed, _PAGE_ROWS):
                before = dict(self._columns("qr", [row for row, _ in page]))
                for row, qr in page:
                    if row not in before:
                        raise _unknown_row(row)
                    if before[row] is not None and before[row] != qr:
                        raise JournalError(
                            "journal_signature_changed",
                            f"第 {row} 行已签名为另一份凭证：拒绝重复签发",
                            f"row {row} was already signed into a different credential: refusing to issue it twice",
                        )
                    before[row] = qr
                self._db.executemany("UPDATE rows SET qr = ? WHERE row = ?", [(qr, row) for row, qr in page])

    def record_files(self, files: Iterable[tuple[int, Mapping[str, str]]]) -> None:
        """Record the rendered files of rows (paths relative to the output directory)."""
        with self._transaction():
            self._db.executemany(
                "UPDATE rows SET files = ? WHERE row = ?", [(_dump(paths), row) for row, paths in files]
            )

    def record_published(self, rows: Iterable[int]) -> None:
        """Record rows the registry now publishes."""
        with self._transaction():
            self._db.executemany(
                "UPDATE rows SET state = ?, code = NULL, reason = NULL WHERE row = ?",
                [(PUBLISHED, row) for row in rows],
            )

    def record_publish_refused(self, refusals: Iterable[tuple[int, str, str]]) -> None:
        """Record why the registry refused to publish rows ``(row, code, reason)``.

        The rows stay approved: the cause (say, a key not yet registered) may be fixed, and the
        next run tries again.
        """
        with self._transaction():
            self._db.executemany(
                "UPDATE rows SET code = ?, reason = ? WHERE row = ?",
                [(code, reason, row) for row, code, reason in refusals],
            )

    def record_rejected(self, rejections: Iterable[tuple[int, str, str]]) -> None:
        """Close rows for good as rejected ``(row, code, reason)``, whatever their state."""
        with self._transaction():
            self._db.executemany(
                "UPDATE rows SET state = ?, code = ?, reason = ? WHERE row = ?",
                [(REJECTED, code, reason, row) for row, code, reason in rejections],
            )

    def complete(self) -> bool:
        """Whether every row reached a final state (published, invalid or rejected)."""
        total, final = self._db.execute(
            "SELECT COUNT(*), COUNT(*) FILTER (WHERE state IN (?, ?, ?)) FROM rows", tuple(FINAL_STATES)
        ).fetchone()
        return bool(total) and total == final

    def forget_id_numbers(self) -> None:
        """Replace every full ID number by its masked form, leaving no copy in the files.

        Called once every row is final and rendering has finished (the run's ``_finished``): a completed
        run never reads the roster fields again (a rerun only reports), so the clear numbers need not stay.
        """
        if self.meta("id_numbers") == "masked":
            return
        with self._transaction():  # one statement: SQLite edits each row's JSON, Python only masks
            self._db.execute(_MASK_ID_NUMBERS)
            self._db.execute("INSERT OR REPLACE INTO meta VALUES ('id_numbers', 'masked')")
        self._db.execute("VACUUM")  # rewrites every page: no freed space keeps an old value
        self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # and the WAL keeps no old page

    def _columns(self, columns: str, rows: Sequence[int]) -> list[tuple[Any, ...]]:
        """``row`` and ``columns`` (names written here, never input) of a page of rows, by one query."""
        marks = ",".join("?" * len(rows))
        query = f"SELECT row, {columns} FROM rows WHERE row IN ({marks})"  # noqa: S608 (only names and ?s)
        return self._db.execute(query, rows).fetchall()

    def _transaction(self) -> _Transaction:
        return _Transaction(self._db)


def _masked_id(value: object) -> str:
    """``masked_id`` in the journal's SQL: an ID number as printed (missing or null: empty)."""
    return MaskedId.of("" if value is None else str(value)).display()


def _journal_row(r: tuple[Any, ...]) -> JournalRow:
    return JournalRow(
        row=r[0],
        roster_row=r[1],
        fields_json=r[2],
        state=r[3],
        certificate_json=r[4],
        qr=r[5],
        files_json=r[6],
        code=r[7],
        reason=r[8],
    )


def _object(text: str) -> dict[str, Any]:
    decoded: dict[str, Any] = orjson.loads(text)
    return decoded


class _Transaction:
    """``BEGIN IMMEDIATE`` ... ``COMMIT`` (or ``ROLLBACK`` on error) on an autocommit connection."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def __enter__(self) -> None:
        self._db.execute("BEGIN IMMEDIATE")

    def __exit__(self, kind: type[BaseException] | None, *_: object) -> None:
        self._db.execute("COMMIT" if kind is None else "ROLLBACK")


def make_private_dir(path: Path) -> None:
    """Create ``path`` (and its parents) if needed; a directory created here is owner-only (0700)."""
    if not path.is_dir():
        path.mkdir(parents=True, exist_ok=True, mode=0o700)
        path.chmod(0o700)  # whatever the umask


def _require_same_number(row: int, stored: str | None, certificate: Mapping[str, Any]) -> None:
    """``stored``: the row's certificate as the journal holds it (JSON), if any."""
    if stored is None:
        return
    old, new = orjson.loads(stored).get("certificate_number"), certificate.get("certificate_number")
    if old != new:
        raise JournalError(
            "journal_number_changed",
            f"登记系统为第 {row} 行给出了不同的证书编号（{old} → {new}）：请联系登记系统管理员",
            f"the registry gave row {row} a different certificate number ({old} → {new}): "
            "contact the registry's administrator",
        )


def _unknown_row(row: int) -> JournalError:
    return JournalError("journal_unknown_row", f"日志中没有第 {row} 行", f"the journal has no row {row}")


def _dump(value: Mapping[str, Any]) -> str:
    """A JSON column: compact, keys sorted, by orjson (a tenth of ``json.dumps``'s time; a 10,000-row batch
    writes each row's fields, certificate and files once)."""
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode("utf-8")
