"""``skillpass verify`` and ``skillpass verifier sync|status|serve``.

``verify`` exits 0 only for a valid certificate, 1 for an invalid one, 3 when it cannot decide
(no or stale trust data) and 2 for a usage error, so scripts can branch on the answer.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from common.cli_support import report_error
from verifier.errors import TrustError
from verifier.images import DEFAULT_IMAGE_LIMITS, ImageError, decode_upload
from verifier.trust import VerifierConfig, default_cache_dir, load_registry_key
from verifier.verdict import FAIL, INDETERMINATE, NOT_RUN_OUTCOME, PASS, VALID, HolderInput, Verdict
from verifier.verifier import Verifier

EXIT_VALID, EXIT_INVALID, EXIT_USAGE, EXIT_INDETERMINATE = 0, 1, 2, 3
_OUTCOME_LABELS = {PASS: "通过 pass", FAIL: "未通过 FAIL", NOT_RUN_OUTCOME: "未检查 not run"}
_RESULT_LABELS = {VALID: "有效 VALID", "invalid": "无效 INVALID", INDETERMINATE: "无法判断 INDETERMINATE"}


def add_commands(subparsers: Any) -> None:
    """Register ``verify`` and ``verifier``."""
    verify = subparsers.add_parser(
        "verify", help="核验证书二维码 / verify a certificate QR (text, image or PDF)"
    )
    verify.add_argument(
        "target", metavar="TEXT_OR_IMAGE_PATH", help="QR text, or a PNG/JPEG/WebP/PDF/.txt file"
    )
    where = verify.add_mutually_exclusive_group()
    where.add_argument("--registry", metavar="URL", help="verify online against this registry")
    where.add_argument("--offline", action="store_true", help="only the local trust data (the default)")
    _add_trust_options(verify)
    verify.add_argument("--json", action="store_true", help="print the verdict as JSON")
    verify.add_argument("--name", help="holder's name, to confirm the holder")
    verify.add_argument("--id-number", help="holder's full ID number, to confirm the holder")
    verify.set_defaults(handler=_verify)

    verifier = subparsers.add_parser("verifier", help="核验服务与目录数据 / verifier service and trust data")
    commands = verifier.add_subparsers(dest="verifier_command", metavar="SUBCOMMAND", required=True)
    sync = commands.add_parser("sync", help="同步目录数据供离线核验 / fetch trust data for offline use")
    sync.add_argument("--registry", metavar="URL", required=True)
    _add_trust_options(sync)
    sync.set_defaults(handler=_sync)
    status = commands.add_parser("status", help="本机目录数据状态 / show the local trust data")
    _add_trust_options(status)
    status.set_defaults(handler=_status)
    serve = commands.add_parser("serve", help="启动核验网页与接口 / run the verifier web page and API")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8701)
    serve.add_argument("--registry", metavar="URL", help="sync trust data from and verify online against it")
    _add_trust_options(serve)
    serve.set_defaults(handler=_serve)


def _add_trust_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--cache-dir", type=Path, help="trust data cache (default $SKILLPASS_VERIFIER_CACHE "
                        "or ~/.cache/skillpass/verifier)")  # fmt: skip
    parser.add_argument(
        "--registry-key",
        metavar="JWK_FILE_OR_SHA256",
        help="pin the registry's key: a JWK file, or the hex SHA-256 of the raw key (default: the key pinned "
        "at the last sync)",
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
        text = _read_target(args.target)
        verifier = Verifier(_config(args))
    except (TrustError, ImageError) as e:
        return report_error(e.code, e.message_zh, e.message_en + (f" ({e.detail})" if e.detail else ""))
    except OSError as e:
        return report_error("input_unreadable", f"无法读取文件：{e}", f"cannot read the file: {e}")
    try:
        if verifier.config.registry_url is not None:
            _refresh_if_due(verifier)
        holder = None if args.name is None else HolderInput(args.name, args.id_number)
        verdict = verifier.verify_text(text, holder=holder)
    finally:
        verifier.stop()
    print(json.dumps(verdict.to_json(), ensure_ascii=False, indent=2) if args.json else _render(verdict))
    return {VALID: EXIT_VALID, INDETERMINATE: EXIT_INDETERMINATE}.get(verdict.result, EXIT_INVALID)


def _read_target(target: str) -> str:
    """QR text from the argument itself, a .txt file, or the QR code in an image or a PDF."""
    path = Path(target)
    if not path.is_file():
        return target.strip()
    with path.open("rb") as handle:
        data = handle.read(DEFAULT_IMAGE_LIMITS.max_bytes + 1)  # decode_upload refuses anything larger
    if path.suffix.lower() == ".txt" or data.lstrip()[:2] == b"SP":
        return data.decode("utf-8", errors="replace").strip()
    return decode_upload(data)


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
    return 0 if summary["available"] and summary["fresh"] else EXIT_INDETERMINATE


def _serve(args: argparse.Namespace) -> int:
    try:
        verifier = Verifier(_config(args))
    except TrustError as e:
        return report_error(e.code, e.message_zh, e.message_en)
    from verifier.service import serve

    return serve(args.host, args.port, verifier)


def _render(verdict: Verdict) -> str:
    """The verdict for a terminal: the answer first, then the certificate, every check, the trust age."""
    code = "" if verdict.valid else f" [{verdict.code}]"
    lines = [f"{_RESULT_LABELS[verdict.result]}{code}: {verdict.message_zh}", f"  {verdict.message_en}"]
    lines += [f"注意 note: {note['message_zh']} / {note['message_en']}" for note in verdict.notes]
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
    return f"目录数据 trust data: {_when(verdict.trust_as_of)} 签发, {age} 前 ago ({mode})"


def _when(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M UTC")


def _duration(seconds: int) -> str:
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    return f"{days} d {hours} h" if days else f"{hours} h {rest // 60} min"
