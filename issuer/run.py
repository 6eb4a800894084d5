"""The issuance run: roster → validation → review → signing → rendering → publication → manifest
(publication starts with the first rendered rows, while the rest are drawn).

``run_issue`` is what ``skillpass issue`` does. Every step first asks the journal what is already
done, so the same command can be run again at any time — after the reviewer has acted, after a
crash, after the machine was switched off — and it carries on from where it stopped: the same
batch (its id is derived from the roster's content), the same certificate numbers (the registry
allocated them), the same QR texts (recorded once), nothing published twice. A finished run run
again only reports what it did.

Exit codes: 0 every row published; 1 finished, but some rows are not published (the manifest
says why); 2 the roster, credentials or key need fixing (nothing was submitted); 3 the registry
could not be used; 4 the batch waits for review.
"""

from __future__ import annotations

import collections
import contextlib
import ctypes
import dataclasses
import hashlib
import os
import secrets
import signal
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from enum import IntEnum
from pathlib import Path
from typing import Any, TextIO

from common.errors import SkillpassError
from common.paging import in_pages
from credential import CertificateClaims, encode, url_form
from credential.directory import KeyEntry, Scope
from issuer import journal as jn
from issuer.client import RegistryClient, RegistryError, RegistryUnavailableError, parse_scopes
from issuer.fonts import FontError, batch_subset, font_has_glyphs
from issuer.journal import Decision, Journal, JournalRow, RowSummary
from issuer.manifest import (
    CSV_NAME,
    INVALID,
    JSON_NAME,
    PENDING,
    PUBLISHED,
    REJECTED,
    Manifest,
    ManifestEntry,
    write_manifest,
)
from issuer.pdf import CertificateView, PdfError, printed_text
from issuer.photos import PhotoError, PhotoRef, PhotoSource, open_source
from issuer.processes import start_early
from issuer.progress import Progress
from issuer.render import RenderedPaths, RenderError, RenderItem, render_each
from issuer.report import format_report, write_report_csv
from issuer.roster import RosterError, RosterRow, read_roster
from issuer.roster_validation import validate_rows
from issuer.seal import SealError, check_seal
from keys import KeyMaterialError, Signer, read_private_key
from keys.recipes import b64url_decode
from schemas.rules import certificate_number_issues

CRASH_ENV = "SKILLPASS_TEST_CRASH_AT"
CERTIFICATES_DIR = "certificates"
BATCH_PDF = "batch.pdf"
REPORT_CSV = "report.csv"
REVIEWED = "reviewed"
_SIGN_COMMIT_EVERY = 500
_RECORD_FILES_EVERY = 500  # rendered rows whose files are recorded in one transaction
# A roster of this size (about 300 rows) or more has its photos checked and its certificates drawn by worker
# processes: their server is started before the roster is read or the rendering planned (``start_early``).
_WORKERS_EARLY_FROM = 32 * 1024
_RENDERING, _STARTED, _DONE = "rendering", "started", "done"  # journal meta: the render stage's progress
_CERTIFICATE_FIELDS = frozenset(
    (
        "holder_name",
        "id_type",
        "id_number",
        "occupation_code",
        "occupation_name",
        "work_type",
        "level",
        "photo",
    )
)
_APPROVED_FIELDS = (
    "certificate_number",
    "issue_date",
    "status",
    "holder_name",
    "id_type",
    "occupation_code",
    "occupation_name",
    "work_type",
    "level",
    "institution_name",
)
_REGISTRY_ROW_STATES = {"approved": jn.APPROVED, "published": jn.PUBLISHED, "rejected": jn.REJECTED}


class Exit(IntEnum):
    """The command's exit codes (see the module docstring)."""

    OK = 0
    INCOMPLETE = 1
    INPUT = 2
    REGISTRY = 3
    WAITING = 4


class IssueError(SkillpassError):
    """A run (or an issuer command) that cannot go on; carries the exit code and a bilingual,
    actionable message."""

    def __init__(self, code: str, message_zh: str, message_en: str, exit_code: Exit = Exit.INPUT) -> None:
        super().__init__(code, message_zh, message_en)
        self.exit_code = exit_code


@dataclass(frozen=True)
class IssueRequest:
    """What ``skillpass issue`` was asked to do."""

    roster: Path
    out_dir: Path
    institution_code: str
    key_path: Path
    batch_id: str | None = None
    wait: bool = False
    wait_timeout: float = 3600.0
    poll_interval: float = 5.0
    dry_run: bool = False
    workers: int | None = None
    publish_chunk: int = 500
    today: date | None = None
    photos: Path | None = None
    require_photos: bool = False
    seal: Path | None = None
    # Where the certificates' QR codes send a phone camera: ``https://host`` of the official verifier.
    # With it, the QR text, PNG, SVG and PDF carry the URL form; without it, the plain form.
    verifier_url: str | None = None
    # Each certificate's QR as an SVG file too (``render``: not written unless asked for).
    svg: bool = False


def photo_source(request: IssueRequest) -> PhotoSource:
    """Where the roster's photo names point: ``photos`` (a folder or a ZIP) or else the roster's folder."""
    if request.photos is None:
        return PhotoSource(request.roster.parent)
    try:
        return open_source(request.photos)
    except PhotoError as e:
        raise IssueError(e.code, e.message_zh, e.message_en) from e


@dataclass
class Console:
    """Where the run talks to people: results on ``out``, progress and problems on ``err``."""

    out: TextIO = field(default_factory=lambda: sys.stdout)
    err: TextIO = field(default_factory=lambda: sys.stderr)

    def say(self, text: str) -> None:
        """One line of result."""
        print(text, file=self.out, flush=True)

    def note(self, text: str) -> None:
        """One line of progress or warning."""
        print(text, file=self.err, flush=True)


def new_batch_id() -> str:
    """A random batch id (128 bits). Never derived from the roster: batch ids appear in the registry's
    records, and a hash of a small roster gives its holders' ID numbers away to a few thousand guesses.
    A run resumes under the id its journal recorded, so the same output directory is the same batch."""
    return secrets.token_hex(16)


def run_issue(
    request: IssueRequest,
    client: RegistryClient,
    passphrase: Callable[[], str],
    console: Console | None = None,
) -> int:
    """Carry the batch as far as it can go now; returns the exit code."""
    con = console or Console()
    try:
        return int(_Run(request, client, passphrase, con).run())
    except IssueError as e:
        con.note(f"错误 error [{e.code}]: {e.message_zh} / {e.message_en}")
        return int(e.exit_code)
    except RegistryError as e:
        con.note(f"错误 error [{e.code}]: {e.message_zh} / {e.message_en}")
        return int(Exit.REGISTRY)
    except jn.JournalError as e:
        con.note(f"错误 error [{e.code}]: {e.message_zh} / {e.message_en}")
        return int(Exit.INPUT)


def crash_point(stage: str, count: int = 1) -> None:
    """TEST HOOK, the only reader of ``SKILLPASS_TEST_CRASH_AT``: when it equals ``stage:count``
    the process kills itself with SIGKILL right here, so crash-safety tests can stop a real run
    at an exact point. Unset (always, outside tests) it does nothing."""
    if os.environ.get(CRASH_ENV) == f"{stage}:{count}":
        os.kill(os.getpid(), signal.SIGKILL)


class _Run:
    """One invocation of the pipeline; each method is one stage."""

    def __init__(
        self, request: IssueRequest, client: RegistryClient, passphrase: Callable[[], str], console: Console
    ) -> None:
        self.request = request
        self.client = client
        self.passphrase = passphrase
        self.console = console
        self.code = request.institution_code
        self.roster_bytes = _read_bytes(request.roster)
        self.roster_sha256 = hashlib.sha256(self.roster_bytes).hexdigest()
        self.batch_id = request.batch_id or ""  # chosen in run(), from the journal when resuming
        self.photos = photo_source(request)
        if request.seal is not None:
            try:
                check_seal(request.seal)
            except SealError as e:
                raise IssueError(e.code, e.message_zh, e.message_en) from e

    def run(self) -> Exit:
        if self.request.dry_run:
            return self._dry_run()
        with Journal.open(self.request.out_dir) as journal:
            self.batch_id = self.request.batch_id or journal.meta("batch_id") or new_batch_id()
            journal.require_batch(self.batch_id, self.roster_sha256)
            if _finished(journal):
                return self._finish(journal, rewrite=False)
            if journal.meta("submitted") is None:
                self._validate_and_submit(journal)
            if not self._reviewed(journal):
                return Exit.WAITING
            self._sign_and_render(journal)
            self._publish(journal)
            return self._finish(journal, rewrite=True)

    # 1. Validation and submission ------------------------------------------------------------

    def _dry_run(self) -> Exit:
        try:
            scopes: list[Scope] | None = parse_scopes(self.client.institution(self.code))
        except RegistryUnavailableError as e:
            self.console.note(
                "注意 note: 无法连接登记系统，未核对评价范围 / the registry is unreachable: the institution's "
                f"scope was NOT checked ({e.code})"
            )
            scopes = None
        self._require_valid(self._read_rows(), scopes)
        self.console.say(
            "名册校验通过，未提交任何数据（试运行） / the roster is valid; nothing submitted (dry run)"
        )
        return Exit.OK

    def _validate_and_submit(self, journal: Journal) -> None:
        rows = self._read_rows()
        self._require_valid(rows, parse_scopes(self.client.institution(self.code)))
        self._submit(journal, rows)

    def _submit(self, journal: Journal, rows: Sequence[RosterRow]) -> None:
        """Record the valid rows in the journal, then send the batch to the registry in one request."""
        journal.start(
            self.batch_id,
            self.roster_sha256,
            self.code,
            [(r.number, r.fields) for r in rows],
        )
        submitted = [_submitted_fields(row.fields) for row in journal.each_row()]
        self.client.submit_batch(self.batch_id, self.code, submitted)
        journal.set_meta("submitted", "1")
        self.console.note(f"已提交批次 submitted batch {self.batch_id}（{len(submitted)} 行 rows）")
        crash_point("submitted")
        _release_freed_memory()

    def _read_rows(self) -> list[RosterRow]:
        self._start_workers_early()
        try:
            with Progress("读取 read", unit="rows") as progress:
                return list(read_roster(self.request.roster, progress=progress))
        except RosterError as e:
            raise IssueError(e.code, e.message_zh, e.message_en) from e

    def _start_workers_early(self) -> None:
        """For a roster long enough to be checked and drawn by worker processes, start their server now, so
        that it is ready when the first pool is (``processes.start_early``)."""
        if len(self.roster_bytes) >= _WORKERS_EARLY_FROM:
            start_early()

    def _require_valid(self, rows: Sequence[RosterRow], scopes: Sequence[Scope] | None) -> None:
        """Validate every row; on any problem print the report, write ``report.csv`` and stop."""
        try:
            with Progress("校验 validate", total=len(rows), unit="rows") as progress:
                problems = validate_rows(
                    rows,
                    scopes=scopes,
                    font_check=font_has_glyphs,
                    photos=self.photos,
                    require_photos=self.request.require_photos,
                    today=self.request.today,
                    progress=progress,
                    workers=self.request.workers,
                )
        except FontError as e:
            raise IssueError(e.code, e.message_zh, e.message_en) from e
        if not problems:
            return
        jn.make_private_dir(self.request.out_dir)
        report = self.request.out_dir / REPORT_CSV
        write_report_csv(problems, report)
        self.console.note(format_report(problems))
        raise IssueError(
            "roster_invalid",
            f"名册有 {len(problems)} 处问题，未提交任何数据；请修改后重试。报告：{report}",
            f"the roster has {len(problems)} problem(s); nothing was submitted; fix them and retry. "
            f"Report: {report}",
        )

    # 2. Review -------------------------------------------------------------------------------

    def _reviewed(self, journal: Journal) -> bool:
        batch = self.client.batch(self.batch_id)
        if batch.get("state") != REVIEWED and self.request.wait:
            batch = self._wait(batch)
        if batch.get("state") != REVIEWED:
            self.console.say("等待审核 / waiting for review — run the same command again later")
            return False
        journal.record_decisions(_decisions(batch, self.code))
        del batch
        _release_freed_memory()
        return True

    def _wait(self, batch: dict[str, Any]) -> dict[str, Any]:
        deadline = time.monotonic() + self.request.wait_timeout
        with Progress("等待审核 review", total=len(_batch_rows(batch)), unit="rows decided") as progress:
            while True:
                decided = sum(1 for r in _batch_rows(batch) if r.get("state") != "pending")
                progress.advance(decided - progress.done)
                if batch.get("state") == REVIEWED or time.monotonic() >= deadline:
                    return batch
                time.sleep(self.request.poll_interval)
                batch = self.client.batch(self.batch_id)

    # 3. Signing and rendering ----------------------------------------------------------------

    def _sign_and_render(self, journal: Journal) -> None:
        """Sign the approved rows and draw every certificate's files, signing each page of rows just
        ahead of the render workers.

        Signing runs in this process and rendering on the pool; one after the other, a large batch's
        signing (0.3 ms a row) left one core idle for seconds. Now a page of rows is signed, its QR texts
        recorded in the journal, and then handed to the workers while the next page is signed. A row is
        still drawn and published only from its recorded QR text, which is final once recorded. When
        the print file is still wanted, every signed row goes through the pool so that its page exists;
        rows whose files are already written are only compared, not redone. Two passes over the journal,
        a page of rows at a time: the plan (``_plan``), then the work."""
        self._start_workers_early()
        wants_batch = journal.meta("batch_pdf") is None
        plan = self._plan(journal, wants_batch)
        if not plan.count:
            return
        signing = _Signing(self, journal, plan.to_sign) if plan.to_sign else None
        if signing is not None:
            self._require_registered(signing.signer, plan.issue_dates)
        out = self.request.out_dir
        # Rows handed to rendering whose files are not yet recorded, oldest first.
        taken: collections.deque[JournalRow] = collections.deque()

        def items() -> Iterator[RenderItem]:
            for page in in_pages(journal.each_row(), _SIGN_COMMIT_EVERY):
                for row, document in self._page(page, signing, wants_batch):
                    taken.append(row)
                    yield self._item(document, row.qr or "")

        journal.set_meta(_RENDERING, _STARTED)  # rows may be published from here on, before all are drawn
        try:
            face = batch_subset(["".join(sorted(plan.characters))])
            with (
                Progress("签名并出图 sign and render", total=plan.count, unit="certificates") as progress,
                _EarlyPublication(self, journal) as publication,
            ):
                if signing is not None:
                    signing.progress = progress
                rendered = render_each(
                    items(),
                    plan.count,
                    out / CERTIFICATES_DIR,
                    face,
                    workers=self.request.workers,
                    progress=progress,
                    batch_pdf=out / BATCH_PDF if wants_batch else None,
                    svg=self.request.svg,
                )
                drawn = 0
                for page in in_pages(rendered, _RECORD_FILES_EVERY):
                    done = [(taken.popleft(), paths) for paths in page]
                    journal.record_files((r.row, _relative_files(p)) for r, p in done if r.files is None)
                    publication.add(r for r, _ in done)
                    drawn += len(done)
        except (RenderError, PdfError, FontError, PhotoError) as e:
            raise IssueError(e.code, e.message_zh, e.message_en) from e
        crash_point("rendered")
        if wants_batch and drawn:  # none when every row was refused as it was signed
            journal.set_meta("batch_pdf", BATCH_PDF)
        journal.set_meta(_RENDERING, _DONE)

    def _plan(self, journal: Journal, wants_batch: bool) -> _Plan:
        """What the stage will do, read before it starts: the batch font subset must hold every character
        of every page before the first is drawn, and the key must be valid on every issue date before the
        first row is signed. A row whose certificate cannot become a view is counted, to be refused when
        it is signed."""
        plan = _Plan()
        for row in journal.each_row():
            if not _draws(row, wants_batch):
                continue
            plan.count += 1
            document = certificate_document(row, self.code)
            with contextlib.suppress(KeyError, TypeError, ValueError):
                plan.characters.update(printed_text(self._view(document)))
            if _signs(row):
                plan.to_sign += 1
                if _is_iso_date(document.get("issue_date")):
                    plan.issue_dates.add(str(document["issue_date"]))
        plan.characters.update((self.request.verifier_url or "").lower())  # the line under a URL-form QR
        return plan

    def _page(
        self, page: Sequence[JournalRow], signing: _Signing | None, wants_batch: bool
    ) -> list[tuple[JournalRow, dict[str, Any]]]:
        """The rows of a page to draw, each with its certificate document, the rows not yet signed signed
        and recorded (those refused are left out)."""
        drawn = [(row, certificate_document(row, self.code)) for row in page if _draws(row, wants_batch)]
        return drawn if signing is None else signing.sign(drawn)

    def _record_signed(self, journal: Journal, signed: list[tuple[JournalRow, str]]) -> list[JournalRow]:
        """Record QR texts, and return the rows as they now stand. A row the registry already published (by
        a run whose journal is not this one) keeps its QR text only if it is byte for byte the published
        credential."""
        ours: list[JournalRow] = []
        foreign: list[int] = []
        for row, qr in signed:
            if row.state == jn.PUBLISHED and not self._is_published(row, qr):
                foreign.append(row.row)
            else:
                ours.append(dataclasses.replace(row, qr=qr))
        journal.record_signed((row.row, row.qr or "") for row in ours)
        journal.record_rejected(
            (
                row,
                "published_elsewhere",
                "登记系统已发布了该证书的另一份电子证书（另一次运行）：请使用那次运行的文件 / the registry already "
                "publishes another credential for this certificate (from another run): use that run's files",
            )
            for row in foreign
        )
        return ours

    def _is_published(self, row: JournalRow, qr: str) -> bool:
        number = (row.certificate or {}).get("certificate_number", "")
        return self.client.record(str(number), qr) is not None

    def _signer(self) -> Signer:
        try:
            return read_private_key(self.request.key_path, self.passphrase())
        except KeyMaterialError as e:
            raise IssueError(e.code, e.message_zh, e.message_en) from e

    def _require_registered(self, signer: Signer, issue_dates: set[str]) -> None:
        """Refuse to sign with a key the registry would not accept: a QR text, once recorded, is final."""
        keys = self.client.institution(self.code).get("keys", [])
        entry = next(
            (k for k in keys if isinstance(k, dict) and k.get("kid") == signer.public_key.kid_b64), None
        )
        if entry is None:
            raise IssueError(
                "key_not_registered",
                f"密钥 {signer.public_key.kid_b64} 未在登记系统登记：请先登记该公钥，或换用已登记的密钥文件",
                f"key {signer.public_key.kid_b64} is not registered with the registry: register its public key "
                "first, or use the key file that is registered",
            )
        key = _key_entry(entry)
        late = sorted(day for day in issue_dates if not key.vouches_for(date.fromisoformat(day)))
        if late:
            raise IssueError(
                "key_not_valid",
                f"密钥 {signer.public_key.kid_b64} 在发证日期 {', '.join(late)} 无效（未生效、已停用或已吊销）：请用当时有效的密钥签名",
                f"key {signer.public_key.kid_b64} is not valid on issue date(s) {', '.join(late)} (not yet valid, retired or "
                "revoked): sign with the key that was valid then",
            )

    def _view(self, document: Mapping[str, Any]) -> CertificateView:
        photo = document.get("photo")
        return CertificateView(
            holder_name=document["holder_name"],
            id_type=document["id_type"],
            id_number_display=document["id_number"],
            occupation_code=document["occupation_code"],
            occupation_name=document["occupation_name"],
            work_type=document["work_type"],
            level=document["level"],
            certificate_number=document["certificate_number"],
            institution_name=str(document.get("institution_name", "")),
            issue_date=date.fromisoformat(document["issue_date"]),
            photo=None if photo is None else PhotoRef(self.photos, str(photo)),
            seal=self.request.seal,
        )

    def _item(self, document: Mapping[str, Any], qr: str) -> RenderItem:
        if qr and self.request.verifier_url is not None:
            qr = url_form(qr, self.request.verifier_url)  # the same signed bytes, opened by any camera
        return RenderItem(self._view(document), qr)

    # 4. Publication --------------------------------------------------------------------------

    def _publish(self, journal: Journal) -> None:
        """Publish the signed rows that rendering did not publish already (``_EarlyPublication``)
        ``publish_chunk`` at a time, reading the journal as it goes."""

        def todo() -> Iterator[JournalRow]:
            return (r for r in journal.each_row() if r.state == jn.APPROVED and r.qr is not None)

        count = sum(1 for _ in todo())
        with Progress("发布 publish", total=count, unit="certificates") as progress:
            for number, chunk in enumerate(in_pages(todo(), self._publish_chunk), start=1):
                self._record_publication(journal, number, self._publish_now(chunk))
                progress.advance(len(chunk))

    @property
    def _publish_chunk(self) -> int:
        return max(1, self.request.publish_chunk)

    def _publish_now(self, chunk: Sequence[JournalRow]) -> list[dict[str, Any]]:
        return self.client.publish(self.batch_id, [(r.row, r.qr or "") for r in chunk])

    def _record_publication(
        self, journal: Journal, number: int, results: Sequence[Mapping[str, Any]]
    ) -> None:
        """Record the registry's answer to the ``number``-th chunk sent."""
        crash_point("publish", number)
        published, refused = _publish_results(results)
        journal.record_published(published)
        journal.record_publish_refused(refused)

    # 5. Manifest -----------------------------------------------------------------------------

    def _finish(self, journal: Journal, *, rewrite: bool) -> Exit:
        manifest = build_manifest(journal.each_summary(), self.batch_id, self.code, journal.meta("batch_pdf"))
        out = self.request.out_dir
        if rewrite or not (out / JSON_NAME).exists():
            write_manifest(manifest, out)
        if _finished(journal):
            journal.forget_id_numbers()
        counts = manifest.counts()
        self.console.say(
            f"已发布 published {counts[PUBLISHED]}，已拒绝 rejected {counts[REJECTED]}，"
            f"无效 invalid {counts[INVALID]} — {out / CSV_NAME}"
        )
        unfinished = [e for e in manifest.entries if e.state != PUBLISHED]
        for e in unfinished:
            self.console.note(f"  第 {e.row} 行 row {e.row} {e.holder_name}: {e.state} [{e.code}] {e.reason}")
        return Exit.INCOMPLETE if unfinished else Exit.OK


class _EarlyPublication:
    """Publication of the rows rendered so far while the rest of the batch is still rendering.

    The registry's share of publication (checking and storing each credential: 0.6 ms of the 8 ms of CPU
    a certificate costs in all) then runs beside the render workers instead of after them. A row is sent only once its files are recorded, as in the publication stage. One
    chunk at a time goes to the registry from a background thread; the issuing thread records each answer
    in the journal, in order, as it comes in (the journal is used from one thread only). A chunk the
    registry cannot take now (``RegistryError``) stops early publication; the publication stage after
    rendering sends what is left and reports the error as it always has. Nothing is lost either way: a
    row the registry took whose answer is not recorded is published again, and the registry takes the
    same credential twice as once.
    """

    def __init__(self, run: _Run, journal: Journal) -> None:
        self._run = run
        self._journal = journal
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="publish")
        self._sent: collections.deque[Future[list[dict[str, Any]]]] = collections.deque()
        self._chunk: list[JournalRow] = []
        self._number = 0
        self._stopped = False

    def __enter__(self) -> _EarlyPublication:
        return self

    def __exit__(self, kind: type[BaseException] | None, *_: object) -> None:
        if kind is None:
            if self._chunk:
                self._send(self._chunk)
            self._pool.shutdown(wait=True)
            self._record(until_empty=True)
            return
        # Rendering failed: what the registry already took is recorded; that error is the one reported.
        self._pool.shutdown(wait=True, cancel_futures=True)
        with contextlib.suppress(Exception):
            self._record(until_empty=True)

    def add(self, rows: Iterable[JournalRow]) -> None:
        """Rows whose files are now recorded: each approved one joins the chunk being filled."""
        for row in rows:
            if row.state == jn.APPROVED and row.qr is not None:
                self._chunk.append(row)
                if len(self._chunk) >= self._run._publish_chunk:
                    self._send(self._chunk)
                    self._chunk = []
        self._record(until_empty=False)

    def _send(self, chunk: list[JournalRow]) -> None:
        if not self._stopped:
            self._sent.append(self._pool.submit(self._run._publish_now, chunk))

    def _record(self, *, until_empty: bool) -> None:
        """Record the answers in, oldest first; with ``until_empty``, wait for the rest."""
        while self._sent and (until_empty or self._sent[0].done()):
            future = self._sent.popleft()
            if future.cancelled():
                continue
            error = future.exception()
            if isinstance(error, RegistryError):
                self._stopped = True
                continue
            if error is not None:
                raise error
            self._number += 1
            self._run._record_publication(self._journal, self._number, future.result())


class _RowRefusedError(Exception):
    """A row that cannot be signed as approved (e.g. its certificate fails the schema)."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(f"{code}: {reason}")
        self.code = code
        self.reason = reason


def _finished(journal: Journal) -> bool:
    """Every row final, and no rendering left half done: rows are published while the rest of the batch
    is still being drawn (``_EarlyPublication``), so a run stopped then has every row published and its
    batch print file still to finish, with the full ID numbers it prints."""
    return journal.complete() and journal.meta(_RENDERING) != _STARTED


def _release_freed_memory() -> None:
    """Hand the memory freed by a whole-batch step (the submission, the review report) back to the system.

    Both hold every row at once for a moment; glibc keeps what they freed in the process (as free heap
    pages between live ones), so each later stage, and the key derivation's 64 MiB, would sit on top of
    it and the run's footprint would grow with the roster. ``malloc_trim`` returns those pages; elsewhere
    than glibc there is nothing to call, and nothing happens.
    """
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None).malloc_trim(0)


def _signs(row: JournalRow) -> bool:
    """An approved row (or a row another run published) with no QR text yet."""
    return row.qr is None and row.state in (jn.APPROVED, jn.PUBLISHED)


def _draws(row: JournalRow, wants_batch: bool) -> bool:
    """A row ``_sign_and_render`` draws: one it signs, or one signed before whose files are not written
    yet or whose page the print file still wants."""
    return _signs(row) or (row.qr is not None and (wants_batch or row.files is None))


def _is_iso_date(value: object) -> bool:
    try:
        date.fromisoformat(str(value))
    except ValueError:
        return False
    return True


@dataclass
class _Plan:
    """What ``_sign_and_render`` will do: how many rows it draws and the characters they print, how many
    of them it signs first and the issue dates the key must be valid on."""

    count: int = 0
    to_sign: int = 0
    characters: set[str] = field(default_factory=set)
    issue_dates: set[str] = field(default_factory=set)


class _Signing:
    """The signing half of ``_sign_and_render``: the key, opened once, and how many rows are signed so far
    (the ``sign:N`` crash points count them; ``signed`` comes once the last is recorded)."""

    def __init__(self, run: _Run, journal: Journal, total: int) -> None:
        self.signer = run._signer()
        self.progress: Progress | None = None
        self._run = run
        self._journal = journal
        self._total = total
        self._done = 0

    def sign(self, drawn: list[tuple[JournalRow, dict[str, Any]]]) -> list[tuple[JournalRow, dict[str, Any]]]:
        """``drawn`` with its unsigned rows signed and their QR texts recorded; a row refused, or published
        elsewhere, is recorded as such and left out (and counted as done)."""
        signed, refused = [], []
        for row, document in drawn:
            if not _signs(row):
                continue
            try:
                signed.append((row, sign_document(document, self.signer)))
            except _RowRefusedError as e:
                refused.append((row.row, e.code, e.reason))
            self._done += 1
            crash_point("sign", self._done)
        if not signed and not refused:
            return drawn
        now = {row.row: row for row in self._run._record_signed(self._journal, signed)}
        self._journal.record_publish_refused(refused)
        if self._done == self._total:
            crash_point("signed")
        kept = [
            (now.get(row.row, row), document) for row, document in drawn if not _signs(row) or row.row in now
        ]
        if self.progress is not None:
            self.progress.advance(len(drawn) - len(kept))
        return kept


def certificate_document(row: JournalRow, institution_code: str) -> dict[str, Any]:
    """The certificate an approved row becomes: the roster fields, overlaid with the approved ones.

    The registry compares a published credential with the row it approved, so whatever it holds
    (its normalised name, its number, issue date and status index) wins over the roster's copy.
    """
    fields, approved = row.fields, row.certificate or {}
    document = {k: v for k, v in fields.items() if k in _CERTIFICATE_FIELDS}
    for k in _APPROVED_FIELDS:  # a loop, not a second dict to merge: every certificate signed passes here
        if k in approved:
            document[k] = approved[k]
    document["id_number"] = str(fields.get("id_number", "")).strip().upper()
    document["institution_code"] = institution_code
    return document


def sign_row(row: JournalRow, institution_code: str, signer: Signer) -> str:
    """The QR text of one approved row, signed with the institution's key.

    Only what is new since validation is checked here: the registry's number must agree with the
    level, issue year and institution code. Every other field passed the roster-row schema and rules
    (here, before submission, and again at the registry), and the registry compares the published
    claims with the approved row. Running ``validate_certificate`` again would cost about six
    signatures' worth of time per certificate (bench/bench_issue.py) and find nothing new.
    """
    return sign_document(certificate_document(row, institution_code), signer)


def sign_document(document: Mapping[str, Any], signer: Signer) -> str:
    """``sign_row`` for a row's certificate document (``certificate_document``)."""
    try:  # first: the number's rule reads the issue date, which becoming claims proved to be a date
        claims = CertificateClaims.from_certificate(document)
    except (KeyError, TypeError, ValueError) as e:
        raise _RowRefusedError("certificate_invalid", f"{type(e).__name__}: {e}") from e
    first = next(certificate_number_issues(document, set()), None)  # only the first is reported
    if first is not None:
        raise _RowRefusedError(first.code, f"{first.pointer}: {first.message_zh} / {first.message_en}")
    return encode(claims, signer)


def build_manifest(
    rows: Iterable[RowSummary], batch_id: str, institution_code: str, batch_pdf: str | None
) -> Manifest:
    """The manifest of a run, from its journal alone."""
    return Manifest(batch_id, institution_code, [_entry(r) for r in rows], batch_pdf)


def _entry(row: RowSummary) -> ManifestEntry:
    state = {jn.PUBLISHED: PUBLISHED, jn.INVALID: INVALID, jn.REJECTED: REJECTED}.get(row.state)
    if state is None:
        state = REJECTED if row.code else PENDING
    return ManifestEntry(
        row=row.roster_row,
        holder_name=row.holder_name,
        certificate_number=row.certificate_number,
        state=state,
        code=row.code,
        reason=row.reason,
        files=row.files or {},
    )


def _key_entry(entry: Mapping[str, Any]) -> KeyEntry:
    def day(name: str) -> date | None:
        value = entry.get(name)
        return None if value is None else date.fromisoformat(str(value))

    try:
        return KeyEntry(
            kid=b64url_decode(str(entry["kid"])),
            public_key=b64url_decode(str(entry["x"])),
            valid_from=date.fromisoformat(str(entry["valid_from"])),
            valid_until=day("valid_until"),
            retired=day("retired"),
            revoked=day("revoked"),
        )
    except (KeyError, ValueError) as e:
        raise IssueError(
            "registry_answer_invalid",
            "登记系统返回的密钥记录格式不正确",
            "the registry's key record is malformed",
            Exit.REGISTRY,
        ) from e


def _relative_files(paths: RenderedPaths) -> dict[str, str]:
    """Where a certificate's files are in the output directory: ``render`` wrote them all in its
    ``CERTIFICATES_DIR`` (named directly: ``Path.relative_to`` cost ~0.1 ms a file in the issuing process)."""
    files = {"pdf": paths.pdf, "png": paths.png, "svg": paths.svg, "txt": paths.txt}
    return {kind: f"{CERTIFICATES_DIR}/{path.name}" for kind, path in files.items() if path is not None}


def _submitted_fields(fields: Mapping[str, object]) -> dict[str, object]:
    """What the registry receives of a row: everything but the photo, which stays on this machine (the
    journal keeps the photo's file name, to render it after review)."""
    return {k: v for k, v in fields.items() if k != "photo"}


def _batch_rows(batch: Mapping[str, Any]) -> list[dict[str, Any]]:
    rows = batch.get("rows")
    return [r for r in rows if isinstance(r, dict)] if isinstance(rows, list) else []


def _decisions(batch: Mapping[str, Any], institution_code: str) -> list[Decision]:
    decisions = []
    for item in _batch_rows(batch):
        state = _REGISTRY_ROW_STATES.get(str(item.get("state")), jn.INVALID)
        problems = [p for p in item.get("problems", []) if isinstance(p, dict)]
        code, reason = None, item.get("reason")
        if state == jn.INVALID and problems:
            first = problems[0]
            code = str(first.get("code"))
            reason = "; ".join(
                f"{p.get('pointer')}: {p.get('message_zh')} / {p.get('message_en')}" for p in problems
            )
        elif state == jn.REJECTED:
            code = "review_rejected"
        certificate = item.get("certificate")
        decisions.append(
            Decision(
                row=int(item["row"]),
                state=state,
                certificate=certificate if isinstance(certificate, dict) else None,
                code=code,
                reason=None if reason is None else str(reason),
            )
        )
    return decisions


def _publish_results(results: Sequence[Mapping[str, Any]]) -> tuple[list[int], list[tuple[int, str, str]]]:
    published, refused = [], []
    for result in results:
        row = int(result["row"])
        if result.get("state") == "published":
            published.append(row)
        else:
            reason = f"{result.get('message_zh', '')} / {result.get('message_en', '')}"
            refused.append((row, str(result.get("code", "publish_rejected")), reason))
    return published, refused


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as e:
        raise IssueError(
            "roster_not_found",
            f"无法读取名册文件 {path}：{e.strerror}",
            f"cannot read the roster {path}: {e.strerror}",
        ) from e
