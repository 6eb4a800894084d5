"""The institution console's pages: upload and check a roster, submit it, follow the review, sign and
publish with a progress bar, download the PDFs, list what the institution issued, and revoke or suspend.

Every page talks to the registry with the institution's own token (``RegistryClient``), so the registry
decides what this institution may see and change: another institution's certificate is refused there,
not here. Signing uses ``issuer.run.run_issue`` unchanged (see ``jobs``).
"""

from __future__ import annotations

import io
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Final

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import UploadFile

from common.calendar import registry_day
from common.errors import SkillpassError
from issuer.client import RegistryClient, RegistryNotFoundError, parse_scopes
from issuer.console.guard import Guard
from issuer.console.html import Html, bi, esc, form, hidden, join, state_word, table, tag
from issuer.console.html import page as frame
from issuer.console.jobs import Job, Jobs
from issuer.console.workspace import Upload, Workspace
from issuer.run import Console, Exit, IssueError, IssueRequest, run_issue
from schemas.vocabulary import LEVEL_NAMES, STATUS_REASON_CATEGORIES

router = APIRouter()

ROW_STATES: Final = {
    "pending": ("待审核", "pending"),
    "approved": ("已通过", "approved"),
    "published": ("已发布", "published"),
    "rejected": ("未通过", "rejected"),
    "invalid": ("校验不通过", "invalid"),
    "submitted": ("审核中", "in review"),
    "reviewed": ("已审核", "reviewed"),
    "valid": ("有效", "valid"),
    "revoked": ("已撤销", "revoked"),
    "suspended": ("已暂停", "suspended"),
}
_SUBMITTED: Final = (Exit.OK, Exit.WAITING, Exit.INCOMPLETE)
ACTIONS: Final = {
    "revoke": ("撤销", "revoke", "撤销后不可恢复。", "A revocation is final."),
    "suspend": (
        "暂停",
        "suspend",
        "暂停后可由本机构恢复。",
        "A suspension can be lifted by the institution.",
    ),
}


@dataclass(frozen=True)
class ConsoleState:
    """What every page needs: the institution, its registry client, the key file, workspace and runs."""

    institution_code: str
    client: RegistryClient
    key_path: Path
    workspace: Workspace
    jobs: Jobs
    guard: Guard
    today: Callable[[], date] = lambda: registry_day(time.time())

    @property
    def csrf(self) -> str:
        """The token this console's forms carry."""
        return self.guard.csrf


def state_of(request: Request) -> ConsoleState:
    """The console this request belongs to."""
    found: ConsoleState = request.app.state.console
    return found


State = Annotated[ConsoleState, Depends(state_of)]


def _page(
    st: ConsoleState, title: Html, main: Html, status: int = 200, refresh: int | None = None
) -> HTMLResponse:
    return HTMLResponse(frame(title, st.institution_code, main, refresh=refresh), status)


def _problem_page(st: ConsoleState, error: SkillpassError, back: str, status: int = 422) -> HTMLResponse:
    body = join(
        [
            tag("p", bi(error.message_zh, error.message_en), class_="note bad"),
            tag("p", f"代码 code: {error.code}"),
            tag("p", Html(f'<a href="{esc(back)}">') + bi("返回", "Back") + Html("</a>")),
        ]
    )
    return _page(st, bi("未能完成", "Not done"), body, status)


def _go(path: str) -> RedirectResponse:
    return RedirectResponse(path, status_code=303)


# Rosters and batches --------------------------------------------------------------------------


def _upload_form(st: ConsoleState) -> Html:
    fields = Html(
        '<label for="roster">名册文件（XLSX 或 CSV） <small>Roster file (XLSX or CSV)</small></label>'
        '<input id="roster" type="file" name="roster" accept=".xlsx,.csv" required>'
    )
    return form("/upload", st.csrf, fields, "上传并校验 Upload and check", multipart=True)


@router.get("/")
def home(st: State) -> HTMLResponse:
    """Upload a roster; the batches this machine has uploaded."""
    batches = st.workspace.batches()
    listing = table(
        [bi("名册", "Roster"), bi("上传时间", "Uploaded"), bi("状态", "State"), ""],
        [
            [
                b.filename,
                b.uploaded.strftime("%Y-%m-%d %H:%M"),
                bi("已完成", "finished")
                if b.finished
                else bi("已提交", "submitted")
                if b.submitted
                else bi("未提交", "not submitted"),
                Html(f'<a href="/batches/{esc(b.batch_id)}">') + bi("查看", "Open") + Html("</a>"),
            ]
            for b in batches
        ],
    )
    body = join(
        [
            tag("h2", bi("上传名册", "Upload a roster")),
            tag(
                "p",
                bi(
                    "先校验：有问题的名册不会提交。改好后再上传同一文件即可。",
                    "Checked first: a roster with problems is not submitted. Fix it and upload it again.",
                ),
            ),
            _upload_form(st),
            tag("h2", bi("本机的批次", "Batches on this machine")),
            listing if batches else tag("p", bi("还没有批次", "No batches yet")),
        ]
    )
    return _page(st, bi("名册与批次", "Rosters and batches"), body)


@router.post("/upload")
async def upload(request: Request, st: State) -> Response:
    """Save the roster, check every row and show the report (or the way to submit)."""
    submitted = await request.form()
    _require_csrf(st, submitted.get("csrf_token"))
    file = submitted.get("roster")
    if not isinstance(file, UploadFile) or not file.filename:
        return _problem_page(st, IssueError("roster_missing", "请选择名册文件", "choose a roster file"), "/")
    data = await file.read()
    try:
        batch_id, _ = st.workspace.save_roster(file.filename, data)
        scopes = parse_scopes(st.client.institution(st.institution_code))
        report = st.workspace.validate(batch_id, file.filename, scopes, st.today())
    except SkillpassError as e:
        return _problem_page(st, e, "/")
    return _report_page(st, report)


def _report_page(st: ConsoleState, report: Upload) -> HTMLResponse:
    if report.problems:
        rows = len({p.row for p in report.problems})
        body = join(
            [
                tag(
                    "p",
                    bi(
                        f"名册「{report.filename}」有 {len(report.problems)} 处问题，涉及 {rows} 行；未提交任何数据。",
                        f"{len(report.problems)} problem(s) in {rows} row(s); nothing was submitted.",
                    ),
                    class_="note bad",
                ),
                table(
                    [bi("行", "Row"), bi("列", "Column"), bi("问题", "Problem"), bi("代码", "Code")],
                    [[str(p.row), p.column, bi(p.message_zh, p.message_en), p.code] for p in report.problems],
                ),
                tag("h2", bi("改好后重新上传", "Fix the file and upload it again")),
                _upload_form(st),
            ]
        )
        return _page(st, bi("校验结果", "Validation report"), body, 422)
    body = join(
        [
            tag(
                "p",
                bi(
                    f"名册「{report.filename}」共 {report.rows} 行，全部通过校验。",
                    f"All {report.rows} rows passed validation.",
                ),
                class_="note good",
            ),
            form(
                f"/batches/{report.batch_id}/submit",
                st.csrf,
                Html(""),
                "提交审核 Submit for review",
            ),
        ]
    )
    return _page(st, bi("校验结果", "Validation report"), body)


@router.post("/batches/{batch_id}/submit")
def submit(st: State, batch_id: str, csrf_token: Annotated[str, Form()] = "") -> Response:
    """Submit the batch for review: ``run_issue`` validates again and submits (it stops at the review)."""
    _require_csrf(st, csrf_token)
    try:
        request = _issue_request(st, batch_id)
    except IssueError as e:
        return _problem_page(st, e, "/", 404)
    said = io.StringIO()
    if run_issue(request, st.client, _no_passphrase, Console(out=said, err=said)) not in _SUBMITTED:
        lines = said.getvalue().strip().splitlines()
        error = IssueError(
            "submit_failed",
            "提交未完成：" + (lines[-1] if lines else ""),
            "the submission did not complete",
            Exit.INPUT,
        )
        return _problem_page(st, error, f"/batches/{batch_id}")
    return _go(f"/batches/{batch_id}")


@router.get("/batches/{batch_id}")
def batch_page(st: State, batch_id: str) -> HTMLResponse:
    """The review state of every row; then signing, its progress, and the downloads."""
    try:
        filename = st.workspace.filename(batch_id)
        manifest = st.workspace.manifest(batch_id)
        remote = _remote_batch(st, batch_id)
    except SkillpassError as e:
        return _problem_page(st, e, "/", 404 if e.code == "batch_unknown" else 502)
    job = st.jobs.get(batch_id)
    parts = [tag("p", f"{filename} · 批次 batch {batch_id[:12]}…")]
    if remote is None:
        parts.append(tag("p", bi("尚未提交审核", "Not submitted yet"), class_="note"))
        parts.append(form(f"/batches/{batch_id}/submit", st.csrf, Html(""), "提交审核 Submit for review"))
    else:
        parts.append(
            tag("p", join([bi("审核状态：", "Review: "), state_word(str(remote.get("state")), ROW_STATES)]))
        )
        parts.append(_rows_table(remote, st.workspace.row_names(batch_id)))
    if job is not None:
        parts.append(_job_view(job))
    reviewed = remote is not None and remote.get("state") == "reviewed"
    if reviewed and (job is None or not job.running) and not _complete(manifest):
        parts.append(_sign_form(st, batch_id))
    if manifest is not None:
        parts.append(_downloads(batch_id, manifest))
    refresh = 1 if job is not None and job.running else None
    return _page(st, bi("批次", "Batch"), join(parts), refresh=refresh)


def _remote_batch(st: ConsoleState, batch_id: str) -> dict[str, Any] | None:
    try:
        return st.client.batch(batch_id)
    except RegistryNotFoundError:
        return None


def _complete(manifest: dict[str, Any] | None) -> bool:
    return manifest is not None and not manifest.get("counts", {}).get("pending")


def _rows_table(remote: dict[str, Any], names: dict[int, tuple[int, str]]) -> Html:
    rows = [r for r in remote.get("rows", []) if isinstance(r, dict)]

    def reason(r: dict[str, Any]) -> Html | str:
        problems = [p for p in r.get("problems", []) if isinstance(p, dict)]
        if problems:
            return join(bi(str(p.get("message_zh", "")), str(p.get("message_en", ""))) for p in problems)
        return str(r.get("reason") or "")

    return table(
        [
            bi("行", "Row"),
            bi("姓名", "Name"),
            bi("状态", "State"),
            bi("证书编号", "Number"),
            bi("说明", "Note"),
        ],
        [
            [
                str(names.get(int(r.get("row", 0)), (r.get("row", ""), ""))[0]),
                names.get(int(r.get("row", 0)), (0, ""))[1],
                state_word(str(r.get("state", "")), ROW_STATES),
                str((r.get("certificate") or {}).get("certificate_number", "")),
                reason(r),
            ]
            for r in rows
        ],
    )


def _sign_form(st: ConsoleState, batch_id: str) -> Html:
    fields = Html(
        '<label for="passphrase">密钥口令 <small>Key passphrase</small></label>'
        '<input id="passphrase" type="password" name="passphrase" autocomplete="off" required>'
    )
    return join(
        [
            tag("h2", bi("签名、生成证书并发布", "Sign, render and publish")),
            tag(
                "p",
                bi(
                    f"用本机的机构私钥（{st.key_path.name}）为审核通过的行签名。口令只用于这一次，不会保存。",
                    "Signs the approved rows with this machine's institution key. The passphrase is used "
                    "for this run only and is not stored.",
                ),
            ),
            form(f"/batches/{batch_id}/sign", st.csrf, fields, "签名并发布 Sign and publish"),
        ]
    )


def _job_view(job: Job) -> Html:
    if job.running:
        value = f' value="{job.done}" max="{job.total}"' if job.total else ""
        count = f"{job.done}/{job.total}" if job.total else str(job.done)
        return join(
            [
                tag("h2", bi("正在处理", "Working")),
                tag("p", f"{job.stage} {count}"),
                Html(f'<progress{value} aria-label="progress">{esc(count)}</progress>'),
            ]
        )
    ok = job.exit_code == 0
    said = tag("pre", "\n".join(job.lines()[-20:]))
    word = (
        bi("已全部发布", "All published") if ok else bi("运行结束，但有未完成的行", "Finished with problems")
    )
    return join([tag("p", word, class_="note good" if ok else "note bad"), said])


def _downloads(batch_id: str, manifest: dict[str, Any]) -> Html:
    counts = manifest.get("counts", {})
    links = join(
        [
            Html(f'<p><a href="/batches/{esc(batch_id)}/certificates.zip">'),
            bi("下载全部证书 PDF（ZIP）", "Download every certificate PDF (ZIP)"),
            Html(f'</a></p><p><a href="/batches/{esc(batch_id)}/batch.pdf">'),
            bi("下载合并打印 PDF", "Download the combined PDF for printing"),
            Html("</a></p>"),
        ]
    )
    summary = bi(
        f"已发布 {counts.get('published', 0)}，未通过 {counts.get('rejected', 0)}，无效 {counts.get('invalid', 0)}",
        f"published {counts.get('published', 0)}, rejected {counts.get('rejected', 0)}, "
        f"invalid {counts.get('invalid', 0)}",
    )
    return join([tag("h2", bi("下载", "Downloads")), tag("p", summary), links])


@router.post("/batches/{batch_id}/sign")
def sign(
    st: State,
    batch_id: str,
    passphrase: Annotated[str, Form()] = "",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    """Start the run that signs, renders and publishes (its progress shows on the batch page)."""
    _require_csrf(st, csrf_token)
    try:
        request = _issue_request(st, batch_id)
    except IssueError as e:
        return _problem_page(st, e, "/", 404)
    started = st.jobs.start(
        batch_id, lambda console: run_issue(request, st.client, lambda: passphrase, console)
    )
    if started is None:
        error = IssueError("run_in_progress", "这个批次正在处理中", "this batch is already being processed")
        return _problem_page(st, error, f"/batches/{batch_id}", 409)
    return _go(f"/batches/{batch_id}")


@router.get("/batches/{batch_id}/certificates.zip")
def download_zip(st: State, batch_id: str) -> Response:
    """Every published certificate's PDF in one ZIP."""
    try:
        data = st.workspace.pdf_zip(batch_id)
    except IssueError as e:
        return _problem_page(st, e, "/", 404)
    if data is None:
        return _problem_page(st, _not_ready(), f"/batches/{batch_id}", 404)
    disposition = f'attachment; filename="certificates-{batch_id[:12]}.zip"'
    return Response(data, media_type="application/zip", headers={"Content-Disposition": disposition})


@router.get("/batches/{batch_id}/batch.pdf")
def download_batch_pdf(st: State, batch_id: str) -> Response:
    """The combined PDF, one certificate per page, for printing."""
    try:
        path = st.workspace.batch_pdf(batch_id)
    except IssueError as e:
        return _problem_page(st, e, "/", 404)
    if path is None:
        return _problem_page(st, _not_ready(), f"/batches/{batch_id}", 404)
    disposition = f'attachment; filename="batch-{batch_id[:12]}.pdf"'
    return Response(
        path.read_bytes(), media_type="application/pdf", headers={"Content-Disposition": disposition}
    )


def _not_ready() -> IssueError:
    return IssueError("not_ready", "证书尚未生成", "the certificates have not been rendered yet")


# Certificates issued ------------------------------------------------------------------------


@router.get("/certificates")
def certificates(st: State, done: str = "") -> HTMLResponse:
    """Every certificate the institution issued, with its status and the actions it allows."""
    try:
        found = st.client.issued(st.institution_code)
    except SkillpassError as e:
        return _problem_page(st, e, "/", 502)
    notice = tag("p", bi(f"已完成：{done}", f"Done: {done}"), class_="note good") if done else Html("")
    rows = [
        [
            str(c.get("certificate_number", "")),
            state_word(str(c.get("status", "")), ROW_STATES),
            _status_links(c),
            str(c.get("holder_name", "")),
            str(c.get("id_number_masked", "")),
            f"{c.get('occupation_name', '')} · {LEVEL_NAMES.get(int(c.get('level', 0)), '')}",
            str(c.get("issue_date") or ""),
        ]
        for c in found
    ]
    headers = [
        bi("证书编号", "Number"),
        bi("状态", "Status"),
        "",
        bi("姓名", "Name"),
        bi("证件号码", "ID"),
        bi("职业 · 等级", "Occupation · level"),
        bi("发证日期", "Issued"),
    ]
    body = join([notice, table(headers, rows) if rows else tag("p", bi("还没有证书", "No certificates yet"))])
    return _page(st, bi("已发证书", "Certificates issued"), body)


def _status_links(c: dict[str, Any]) -> Html:
    if c.get("status") == "revoked" or c.get("state") != "published":
        return Html("")
    number = esc(c.get("certificate_number", ""))
    actions = ["revoke"] + (["suspend"] if c.get("status") == "valid" else [])
    return join(
        Html(f'<a href="/certificates/{number}/{a}">') + bi(ACTIONS[a][0], ACTIONS[a][1]) + Html("</a> ")
        for a in actions
    )


@router.get("/certificates/{number}/{action}")
def status_form(st: State, number: str, action: str) -> HTMLResponse:
    """Step 1 of 2: the reason for revoking or suspending."""
    if action not in ACTIONS:
        return _problem_page(st, _unknown_action(), "/certificates", 404)
    zh, en, warn_zh, warn_en = ACTIONS[action]
    options = join(
        Html(f'<option value="{esc(code)}">{esc(czh)} / {esc(cen)}</option>')
        for code, (czh, cen) in STATUS_REASON_CATEGORIES.items()
    )
    fields = join(
        [
            hidden("action", action),
            Html('<label for="category">原因类别（公开） <small>Reason category (public)</small></label>'),
            Html('<select id="category" name="category" required><option value="">—</option>')
            + options
            + Html("</select>"),
            Html(
                '<label for="reason">原因说明（仅登记系统保存） <small>Reason in words (kept by the'
                " registry, never shown publicly)</small></label>"
            ),
            Html('<input id="reason" type="text" name="reason" maxlength="500" required>'),
        ]
    )
    body = join(
        [
            tag("p", bi(warn_zh, warn_en), class_="note bad"),
            tag("p", f"证书 certificate {number}"),
            form(f"/certificates/{number}/confirm", st.csrf, fields, f"下一步 Next: {zh} {en}"),
        ]
    )
    return _page(st, bi(f"{zh}证书", f"{en.capitalize()} a certificate"), body)


@router.post("/certificates/{number}/confirm")
def status_confirm(
    st: State,
    number: str,
    action: Annotated[str, Form()] = "",
    category: Annotated[str, Form()] = "",
    reason: Annotated[str, Form()] = "",
    csrf_token: Annotated[str, Form()] = "",
) -> HTMLResponse:
    """Step 2 of 2: say exactly what will happen, and ask once more."""
    _require_csrf(st, csrf_token)
    if action not in ACTIONS:
        return _problem_page(st, _unknown_action(), "/certificates", 404)
    problem = _reason_problem(category, reason)
    if problem is not None:
        return _problem_page(st, problem, f"/certificates/{number}/{action}")
    zh, en, warn_zh, warn_en = ACTIONS[action]
    czh, cen = STATUS_REASON_CATEGORIES[category]
    fields = join([hidden("action", action), hidden("category", category), hidden("reason", reason.strip())])
    body = join(
        [
            tag(
                "p",
                bi(
                    f"确认{zh}证书 {number}？原因类别：{czh}；说明：{reason.strip()}",
                    f"{en.capitalize()} certificate {number}? Category: {cen}.",
                ),
                class_="note bad",
            ),
            tag("p", bi(warn_zh, warn_en)),
            form(f"/certificates/{number}/status", st.csrf, fields, f"确认{zh} Confirm: {en}", kind="danger"),
            Html('<p><a href="/certificates">') + bi("取消", "Cancel") + Html("</a></p>"),
        ]
    )
    return _page(st, bi(f"确认{zh}", f"Confirm: {en}"), body)


@router.post("/certificates/{number}/status")
def status_change(
    st: State,
    number: str,
    action: Annotated[str, Form()] = "",
    category: Annotated[str, Form()] = "",
    reason: Annotated[str, Form()] = "",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    """Ask the registry to change the status (it refuses another institution's certificate)."""
    _require_csrf(st, csrf_token)
    if action not in ACTIONS:
        return _problem_page(st, _unknown_action(), "/certificates", 422)
    problem = _reason_problem(category, reason)
    if problem is not None:
        return _problem_page(st, problem, f"/certificates/{number}/{action}", 422)
    try:
        st.client.change_status(number, action, reason.strip(), category)
    except SkillpassError as e:
        status = 404 if isinstance(e, RegistryNotFoundError) else 422
        return _problem_page(st, e, "/certificates", status)
    return _go(f"/certificates?done={number}")


def _reason_problem(category: str, reason: str) -> IssueError | None:
    """Both halves of a reason are required: the public category from the fixed list, the words."""
    if category not in STATUS_REASON_CATEGORIES:
        return IssueError("reason_category_missing", "请选择原因类别", "choose a reason category")
    if not reason.strip():
        return IssueError("reason_missing", "请填写原因说明", "give the reason in words")
    return None


def _unknown_action() -> IssueError:
    return IssueError("action_unknown", "只能撤销或暂停", "only revoke or suspend")


# Shared -------------------------------------------------------------------------------------


class CsrfRefusedError(Exception):
    """A POST without this console's CSRF token (answered 403 by the app)."""


def _require_csrf(st: ConsoleState, submitted: object) -> None:
    if not st.guard.csrf_ok(submitted):
        raise CsrfRefusedError


def _issue_request(st: ConsoleState, batch_id: str) -> IssueRequest:
    return IssueRequest(
        roster=st.workspace.roster(batch_id),
        out_dir=st.workspace.out_dir(batch_id),
        institution_code=st.institution_code,
        key_path=st.key_path,
        batch_id=batch_id,
        workers=1,
        today=st.today(),
    )


def _no_passphrase() -> str:
    raise IssueError(
        "passphrase_needed", "签名需要在批次页输入口令", "signing needs the passphrase on the batch page"
    )
