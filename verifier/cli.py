"""``skillpass verify`` and ``skillpass verifier sync|status|serve``.

``verify`` answers with the outcome's exit code, so scripts can branch on the answer:

====  ==================  ==========================================================
exit  outcome             meaning
====  ==================  ==========================================================
0     valid               genuine, in force, and the holder (when given) matches
1     invalid             forged, altered, out of scope, unknown key…
2     —                   usage error: bad options, a file or folder that cannot be read
3     indeterminate       no or stale trust data: sync and try again
4     holder_mismatch     genuine and in force, but not the holder given
5     revoked             genuine, revoked
6     suspended           genuine, suspended
7     unrecognized        not one of our certificates (another QR, no QR, not a picture)
8     —                   several certificates (files, pages, codes), not all of them valid
====  ==================  ==========================================================
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from common.calendar import cst_minute
from common.cli_support import read_passphrase, report_error
from common.clients import ProxyListError, add_trusted_proxy_option, trusted_proxies_from
from keys import KeyMaterialError, read_private_key
from verifier.bulk import BatchError, Item, verify_items
from verifier.bulk_cli import (
    EXIT_NOT_ALL_VALID,
    add_receipt_command,
    find,
    print_results,
    progress_bar,
    results_of,
    write_report,
)
from verifier.errors import TrustError
from verifier.images import ImageError
from verifier.lookup import add_lookup_command
from verifier.messages import OUTCOME_LABELS, OUTCOME_SYMBOLS
from verifier.trust import VerifierConfig, default_cache_dir, load_registry_key
from verifier.verdict import FAIL, NOT_RUN_OUTCOME, PASS, HolderInput, Verdict
from verifier.verifier import Verifier

EXIT_USAGE = 2
#: outcome -> exit code of ``skillpass verify`` (the table above).
EXIT_CODES: dict[str, int] = {
    "valid": 0,
    "invalid": 1,
    "indeterminate": 3,
    "holder_mismatch": 4,
    "revoked": 5,
    "suspended": 6,
    "unrecognized": 7,
}
_OUTCOME_LABELS = {PASS: "通过 pass", FAIL: "未通过 FAIL", NOT_RUN_OUTCOME: "未检查 not run"}
#: Suffixes that make an argument a file name, so a typo in it is a usage error, never a verdict.
_FILE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".webp", ".pdf", ".txt", ".zip", ".csv", ".xlsx"})
_EXIT_HELP = (
    "退出码 exit codes: 0 有效 valid · 1 无效 invalid · 2 用法错误 usage error · 3 无法确定 indeterminate · "
    "4 持证人不符 holder_mismatch · 5 已撤销 revoked · 6 已暂停 suspended · 7 未识别为证书 unrecognized · "
    "8 多份证书中有不是有效的 several certificates, not all valid"
)


class _UsageError(Exception):
    """A target that is neither QR text nor a readable file: exit 2 with this message."""

    def __init__(self, code: str, zh: str, en: str) -> None:
        super().__init__(code)
        self.code, self.zh, self.en = code, zh, en


def add_commands(subparsers: Any) -> None:
    """Register ``verify`` and ``verifier``."""
    verify = subparsers.add_parser(
        "verify",
        help="核验证书二维码 / verify a certificate QR (text, image or PDF)",
        epilog=_EXIT_HELP,
    )
    verify.add_argument(
        "targets",
        nargs="+",
        metavar="TEXT_OR_FILE",
        help="二维码文本或文件（图片、PDF 每页、.txt、ZIP、含二维码文本列的 CSV/XLSX）/ QR text, or files: PNG/JPEG/WebP pictures, PDFs (every page), .txt, ZIPs of them, CSV/XLSX with a "
        "column of QR texts",
    )
    verify.add_argument(
        "--report",
        metavar="OUT.xlsx|OUT.csv",
        type=Path,
        help="批量核验报告 / write the bulk report (XLSX or CSV)",
    )
    where = verify.add_mutually_exclusive_group()
    where.add_argument(
        "--registry", metavar="URL", help="联网核验所用的登记中心地址 / verify online against this registry"
    )
    where.add_argument(
        "--offline",
        action="store_true",
        help="只用本地目录数据（默认） / only the local trust data (the default)",
    )
    _add_trust_options(verify)
    verify.add_argument("--json", action="store_true", help="以 JSON 输出结论 / print the verdict as JSON")
    verify.add_argument("--name", help="持证人姓名，用于核对持证人 / holder's name, to confirm the holder")
    verify.add_argument(
        "--id-number",
        help="持证人完整证件号码，用于核对持证人 / holder's full ID number, to confirm the holder",
    )
    verify.set_defaults(handler=_verify)

    verifier = subparsers.add_parser("verifier", help="核验服务与目录数据 / verifier service and trust data")
    commands = verifier.add_subparsers(dest="verifier_command", metavar="SUBCOMMAND", required=True)
    sync = commands.add_parser("sync", help="同步目录数据供离线核验 / fetch trust data for offline use")
    sync.add_argument("--registry", metavar="URL", required=True, help="登记中心地址 / registry URL")
    _add_trust_options(sync)
    sync.set_defaults(handler=_sync)
    status = commands.add_parser("status", help="本机目录数据状态 / show the local trust data")
    _add_trust_options(status)
    status.set_defaults(handler=_status)
    add_receipt_command(subparsers)
    add_lookup_command(subparsers)
    serve = commands.add_parser("serve", help="启动核验网页与接口 / run the verifier web page and API")
    serve.add_argument("--host", default="127.0.0.1", help="监听地址 / address to listen on")
    serve.add_argument("--port", type=int, default=8701, help="端口 / port")
    add_trusted_proxy_option(serve)
    serve.add_argument(
        "--access-log",
        action="store_true",
        help="逐条记录请求（默认不记录，由前置代理记录）/ log every request (default: off; the proxy in front logs them)",
    )
    serve.add_argument(
        "--registry",
        metavar="URL",
        help="从此登记中心同步目录数据并联网核验 / sync trust data from and verify online against it",
    )
    serve.add_argument(
        "--receipt-key",
        metavar="KEY_FILE",
        type=Path,
        help="核验回执签名密钥（skillpass keys generate 生成，口令取自 $SKILLPASS_KEY_PASSPHRASE）/ the key receipts "
        "are signed with; share one file across replicas (default: a new key per process)",
    )
    _add_trust_options(serve)
    serve.set_defaults(handler=_serve)


def _add_trust_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--cache-dir", type=Path, help="目录数据缓存目录 / trust data cache "
                        "(default $SKILLPASS_VERIFIER_CACHE or ~/.cache/skillpass/verifier)")  # fmt: skip
    parser.add_argument(
        "--registry-key",
        metavar="JWK_FILE_OR_SHA256",
        help="固定信任的登记中心公钥：JWK 文件或公钥的 SHA-256 / pin the registry's key: a JWK file, or the "
        "hex SHA-256 of the raw key (default: the key pinned at the last sync)",
    )


def _config(args: argparse.Namespace) -> VerifierConfig:
    """Build the configuration; raises ``TrustError`` for an unusable key."""
    registry = getattr(args, "registry", None)
    key = None if args.registry_key is None else load_registry_key(args.registry_key, registry)
    return VerifierConfig(
        cache_dir=args.cache_dir or default_cache_dir(), registry_url=registry, registry_key=key
    )


def _verify(args: argparse.Namespace) -> int:
    if (args.name is None) != (args.id_number is None):
        return report_error("holder_incomplete", "--name 与 --id-number 须同时提供",
                            "--name and --id-number go together")  # fmt: skip
    try:
        sources = [_source(target) for target in args.targets]
        verifier = Verifier(_config(args))
    except _UsageError as e:
        return report_error(e.code, e.zh, e.en)
    except TrustError as e:
        return report_error(e.code, e.message_zh, e.message_en + (f" ({e.detail})" if e.detail else ""))
    try:
        if verifier.config.registry_url is not None:
            _refresh_if_due(verifier)
        holder = None if args.name is None else HolderInput(args.name, args.id_number)
        answers = _answers(verifier, sources, holder)
    except (ImageError, BatchError) as e:  # beyond the limits: a refusal, not an answer
        return report_error(e.code, e.message_zh, e.message_en + (f" ({e.detail})" if e.detail else ""))
    except OSError as e:
        return report_error("input_unreadable", f"无法读取文件：{e}", f"cannot read the file: {e}")
    finally:
        verifier.stop()
    if len(answers) == 1 and args.report is None:
        verdict = answers[0][1]
        print(json.dumps(verdict.to_json(), ensure_ascii=False, indent=2) if args.json else _render(verdict))
        return EXIT_CODES[verdict.outcome]
    results = results_of(answers)
    if args.json:
        print(json.dumps({"results": results}, ensure_ascii=False, indent=2))
        code = 0 if all(r["outcome"] == "valid" for r in results) else EXIT_NOT_ALL_VALID
    else:
        code = print_results(results)
    if args.report is not None:
        write_report(args.report, results)
    return code


def _answers(
    verifier: Verifier, sources: list[str | Path], holder: HolderInput | None
) -> list[tuple[Item, Verdict]]:
    """Every certificate in the arguments: QR texts as given, files read for every QR code they hold."""
    files = [source for source in sources if isinstance(source, Path)]
    by_file: dict[str, list[Item]] = {}
    for item in find(files, progress=sys.stderr.isatty()) if files else []:
        by_file.setdefault(item.source["file"], []).append(item)
    items: list[Item] = []
    for source in sources:
        if isinstance(source, str):
            items.append(Item({"file": "(text)"}, text=source))
        else:
            items.extend(by_file.pop(str(source), []))
    return verify_items(items, verifier, holder=holder, progress=progress_bar("核验 verify"))


def _source(target: str) -> str | Path:
    """The argument as a file to read, or as QR text itself.

    A folder, or an argument that names a file (a path separator or a known suffix) which does not
    exist, is a usage error: a typo in a file name must never read as a verdict on a certificate.
    """
    path = Path(target)
    if path.is_dir():
        raise _UsageError("input_is_folder", f"这是一个文件夹，不是文件：{target}",
                          f"this is a folder, not a file: {target}")  # fmt: skip
    if path.is_file():
        return path
    if not target.upper().startswith(("SP", "HTTP://", "HTTPS://")) and (  # the URL form is upper case
        os.sep in target or path.suffix.lower() in _FILE_SUFFIXES
    ):
        raise _UsageError("input_missing", f"找不到文件：{target}", f"no such file: {target}")
    return target.strip()


def _refresh_if_due(verifier: Verifier) -> None:
    """Online: renew missing or due trust data first; a failure only means older data is used."""
    now = int(time.time())
    if verifier.store.next_refresh_at() > now:
        return
    try:
        verifier.store.sync(now)
    except TrustError as e:
        print(f"注意 note [{e.code}]: {e.message_zh} / {e.message_en} ({e.detail})", file=sys.stderr)


def _sync(args: argparse.Namespace) -> int:
    try:
        config = _config(args)
        trust = Verifier(config).store.sync(int(time.time()))
    except TrustError as e:
        return report_error(e.code, e.message_zh, e.message_en + (f" ({e.detail})" if e.detail else ""))
    print(f"已同步 synced: 目录序号 sequence {trust.directory.sequence}, {len(trust.directory.institutions)} "
          f"个机构 institutions, {len(trust.status_lists)} 个状态列表 status lists, 有效至 valid until "
          f"{_when(trust.expires_at)} → {config.cache_dir}")  # fmt: skip
    return 0


def _status(args: argparse.Namespace) -> int:
    try:
        summary = Verifier(_config(args)).trust_summary()
    except TrustError as e:
        return report_error(e.code, e.message_zh, e.message_en)
    print(json.dumps(summary, ensure_ascii=False, indent=2))
    return 0 if summary["available"] and summary["fresh"] else EXIT_CODES["indeterminate"]


def _serve(args: argparse.Namespace) -> int:
    try:
        proxies = trusted_proxies_from(args.trusted_proxy)
    except ProxyListError as e:
        return report_error(e.code, e.message_zh, e.message_en)
    try:
        verifier = Verifier(_config(args))
        signer = None if args.receipt_key is None else read_private_key(args.receipt_key, read_passphrase())
    except (TrustError, KeyMaterialError) as e:
        return report_error(e.code, e.message_zh, e.message_en)
    from verifier.batch_service import Attestor
    from verifier.service import serve

    attestor = Attestor(verifier, signer)
    return serve(
        args.host, args.port, verifier, attestor, access_log=args.access_log, trusted_proxies=proxies
    )


def headline(outcome: str) -> str:
    """The outcome as every surface words it, with its symbol: ``✓ 有效 / Valid``."""
    zh, en = OUTCOME_LABELS[outcome]
    return f"{OUTCOME_SYMBOLS[outcome]} {zh} / {en}"


def _render(verdict: Verdict) -> str:
    """The verdict for a terminal: the answer first, then the certificate, every check, the trust age."""
    code = "" if verdict.code == verdict.outcome else f": {verdict.code}"
    lines = [f"{headline(verdict.outcome)} [{verdict.outcome}{code}]", f"  {verdict.message_zh}",
             f"  {verdict.message_en}"]  # fmt: skip
    lines += [f"注意 note: {note['message_zh']} / {note['message_en']}" for note in verdict.notes]
    host = verdict.verifier_host
    if host is not None and not host["official"]:
        lines.append(f"警告 warning [{host['code']}]: {host['message_zh']} / {host['message_en']}")
    if verdict.institution:
        lines.append(f"发证机构 institution: {verdict.institution['name']} ({verdict.institution['code']})")
    if verdict.credential:
        lines += _credential_lines(verdict.credential)
    if verdict.holder_confirmation:
        lines.append(_holder_line(verdict.holder_confirmation))
    lines.append("检查 checks:")
    for check in verdict.checks:
        lines.append(
            f"  [{_OUTCOME_LABELS[check.outcome]}] {check.code}: {check.message_zh} / {check.message_en}"
        )
    lines.append(_trust_line(verdict))
    if verdict.verified_at is not None:
        lines.append(f"核验时间 verified at: {cst_minute(verdict.verified_at)}")
    return "\n".join(lines)


def _credential_lines(credential: dict[str, Any]) -> list[str]:
    occupation = credential.get("occupation_name") or ""
    return [
        f"证书编号 number: {credential['certificate_number']}",
        f"持证人 holder: {credential['holder_name']}  {credential['id_type']} {credential['id_number_masked']}",
        f"职业 occupation: {credential['occupation_code']} {occupation}  工种 work type: {credential['work_type']}",
        f"等级 level: {credential['level_name']} / {credential['level_name_en']}",
        f"发证日期 issued: {credential['issue_date']}",
    ]


def _holder_line(confirmation: dict[str, Any]) -> str:
    how = (
        "全国联网查询系统 registry"
        if confirmation["method"] == "online_registry"
        else "离线比对 offline (masked ID)"
    )
    name = "一致 match" if confirmation["name_match"] else "不符 MISMATCH"
    number = "一致 match" if confirmation["id_match"] else "不符 MISMATCH"
    return f"持证人核对 holder check ({how}): 姓名 name {name}, 证件号 ID {number}"


def _trust_line(verdict: Verdict) -> str:
    mode = "联网 online" if verdict.mode == "online" else "离线 offline"
    if verdict.trust_as_of is None:
        return f"目录数据 trust data: 无 none ({mode})"
    age = _duration(verdict.trust_age_seconds or 0)
    version = (
        ""
        if verdict.trust_version is None
        else f"第 {verdict.trust_version} 版 version {verdict.trust_version}, "
    )
    return f"目录数据 trust data: {version}{_when(verdict.trust_as_of)} 签发 issued, {age} 前 ago ({mode})"


def _when(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M UTC")


def _duration(seconds: int) -> str:
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    return f"{days} d {hours} h" if days else f"{hours} h {rest // 60} min"
