"""The institution's commands: ``issue`` a roster, ``revoke``/``suspend``/``reinstate`` a certificate,
and rotate the signing key (``issuer rotate-key``; ``add_rotate_command`` lets ``keys`` offer it as
``keys rotate`` too).

Every command reads the credentials file ``skillpass registry admin create-token --out`` writes
(``{"registry", "institution_code", "token"}``, mode 0600) and answers failures with one bilingual
line saying what to do, never a traceback.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

from common.calendar import registry_day
from common.cli_support import read_passphrase
from issuer.client import (
    RegistryClient,
    RegistryError,
    RegistryNotFoundError,
    RegistryUnavailableError,
)
from issuer.console.command import add_command as add_console_command
from issuer.credentials import Credentials, load_credentials
from issuer.run import Console, Exit, IssueError, IssueRequest, run_issue
from issuer.verifier_url import configured_verifier_url, with_registry_default
from keys import KeyMaterialError, Signer, read_private_key, to_jwk, write_private_key
from schemas.vocabulary import STATUS_REASON_CATEGORIES

_STATUS_ACTIONS = {
    "revoke": ("撤销证书（不可恢复）/ revoke a certificate (final)", "已撤销 revoked"),
    "suspend": ("暂停证书 / suspend a certificate", "已暂停 suspended"),
    "reinstate": ("恢复被暂停的证书 / reinstate a suspended certificate", "已恢复 reinstated"),
}


def add_commands(subparsers: Any) -> None:
    """Register ``issue``, ``revoke``, ``suspend``, ``reinstate`` and ``issuer rotate-key``."""
    _add_issue(subparsers)
    for action, (help_text, _) in _STATUS_ACTIONS.items():
        parser = subparsers.add_parser(action, help=help_text)
        parser.add_argument("certificate_number", metavar="CERTNO", help="证书编号 / certificate number")
        parser.add_argument(
            "--reason",
            required=True,
            help="原因说明（仅登记系统保存，不公开）/ reason (kept private by the registry)",
        )
        if action != "reinstate":
            parser.add_argument(
                "--category",
                required=True,
                choices=tuple(STATUS_REASON_CATEGORIES),
                help="原因类别（公开显示）/ reason category (shown to verifiers and the public): "
                + ", ".join(f"{code} {zh}" for code, (zh, _) in STATUS_REASON_CATEGORIES.items()),
            )
        _add_registry_options(parser)
        parser.set_defaults(handler=_status_handler, action=action)
    issuer = subparsers.add_parser("issuer", help="机构工具 / institution tools")
    commands = issuer.add_subparsers(dest="issuer_command", metavar="SUBCOMMAND", required=True)
    add_rotate_command(commands, name="rotate-key")
    add_console_command(commands)


def add_rotate_command(keys_subparsers: Any, name: str = "rotate") -> None:
    """Register the key rotation command under ``keys_subparsers`` (``skillpass keys rotate``)."""
    rotate = keys_subparsers.add_parser(
        name,
        help="轮换签名密钥：登记新密钥并停用旧密钥 / rotate the signing key: register a new one, retire the old",
        description="新密钥文件使用与旧密钥相同的口令加密。已签发的证书继续有效。/ The new key file is "
        "encrypted with the same passphrase as the old one. Certificates signed before keep verifying.",
    )
    rotate.add_argument("--key", type=Path, required=True, help="当前（旧）私钥文件 / current (old) key file")
    rotate.add_argument(
        "--out", type=Path, required=True, help="新私钥文件（权限 0600） / new key file (mode 0600)"
    )
    _add_registry_options(rotate)
    rotate.set_defaults(handler=_rotate)


def _add_issue(subparsers: Any) -> None:
    issue = subparsers.add_parser(
        "issue",
        help="签发名册中的证书 / issue the certificates of a roster",
        description="校验 → 提交审核 → 签名 → 生成 QR/PDF → 发布 → 清单。可随时重新运行同一命令继续。"
        " / validate → submit for review → sign → render QR/PDF → publish → manifest. Run the same "
        "command again at any time to carry on. Exit codes: 0 all published, 1 some rows not published, "
        "2 fix the input (nothing submitted), 3 registry problem, 4 waiting for review.",
    )
    issue.add_argument(
        "roster", type=Path, metavar="ROSTER", help="名册：XLSX、CSV 或 JSON / XLSX, CSV or JSON roster"
    )
    issue.add_argument(
        "--key",
        type=Path,
        help="机构私钥文件（--dry-run 时不需要） / institution private key file (not needed with --dry-run)",
    )
    issue.add_argument(
        "--out", type=Path, required=True, help="输出目录（每批一个） / output directory (one per batch)"
    )
    issue.add_argument(
        "--batch-id",
        help="批次号（默认随机，记在输出目录的日志中以便续签）/ batch id (default: random, kept in the output directory's journal for resuming)",
    )
    issue.add_argument(
        "--wait", action="store_true", help="等待审核完成再退出 / wait for the review instead of exiting"
    )
    issue.add_argument(
        "--timeout",
        type=float,
        default=3600.0,
        help="--wait 最长等待秒数（默认 3600） / seconds --wait waits (default 3600)",
    )
    issue.add_argument("--poll-interval", type=float, default=5.0, help=argparse.SUPPRESS)
    issue.add_argument(
        "--dry-run", action="store_true", help="只校验，不提交 / only validate; submit nothing"
    )
    issue.add_argument(
        "--photos",
        type=Path,
        metavar="DIR_OR_ZIP",
        help="持证人照片所在文件夹或 ZIP（名册“照片”列填文件名；JPEG/PNG，≥295×413 像素，≤2 MiB，竖向；"
        "默认：名册所在文件夹）/ folder or ZIP of the holders' photos, named in the roster's photo column "
        "(JPEG/PNG, ≥295×413 px, ≤2 MiB, portrait; default: the roster's folder)",
    )
    issue.add_argument(
        "--without-photos",
        action="store_true",
        help="本机构签发不印照片的证书（须明确选择）/ the institution issues certificates without photos "
        "(an explicit choice; otherwise every row needs a photo)",
    )
    issue.add_argument(
        "--seal",
        type=Path,
        metavar="PNG",
        help="机构公章图片（带透明背景的 PNG），印在发证日期上 / the institution's seal (PNG with "
        "transparency), printed over the issue date",
    )
    issue.add_argument(
        "--workers",
        type=int,
        help="生成 PDF 的进程数（默认每核一个） / rendering processes (default: one per core)",
    )
    issue.add_argument(
        "--svg",
        action="store_true",
        help="另为每张证书写出二维码 SVG 文件（默认只写 PDF、PNG 和文本）/ also write each certificate's QR as "
        "an SVG file (default: PDF, PNG and text only)",
    )
    issue.add_argument("--publish-chunk", type=int, default=500, help=argparse.SUPPRESS)
    form = issue.add_mutually_exclusive_group()
    form.add_argument(
        "--verifier-url",
        metavar="URL",
        help="官方核验网址（如 https://verify.example.cn；默认取 SKILLPASS_VERIFIER_URL，否则取登记系统目录中的第一个"
        "官方核验网址）：证书二维码印为网址形式，微信或手机相机扫码即可核验 / the official verifier (https://host; "
        "default: SKILLPASS_VERIFIER_URL, else the first official verifier host of the registry's signed "
        "directory): certificates print the URL-form QR any phone camera opens",
    )
    form.add_argument(
        "--plain-qr",
        action="store_true",
        help="二维码印为纯文本形式（SP2:…，仅供应用读取）/ print the plain form (SP2:…, for apps only)",
    )
    _add_registry_options(issue)
    issue.set_defaults(handler=_issue)


def _add_registry_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--credentials",
        type=Path,
        required=True,
        help="机构凭据文件（JSON，权限 0600） / credentials file (JSON, 0600)",
    )
    parser.add_argument(
        "--registry",
        help="登记中心地址（默认取凭据文件中的） / registry URL (default: the one in the credentials file)",
    )


# Handlers -------------------------------------------------------------------------------------


def _issue(args: argparse.Namespace) -> int:
    try:
        credentials = load_credentials(args.credentials)
        if args.key is None and not args.dry_run:
            raise IssueError(
                "key_missing", "请用 --key 指定机构私钥文件", "pass the institution key file with --key"
            )
        verifier_url = configured_verifier_url(args.verifier_url, plain=args.plain_qr)
    except IssueError as e:
        return _fail(e)
    request = IssueRequest(
        roster=args.roster,
        out_dir=args.out,
        institution_code=credentials.institution_code,
        key_path=args.key or Path(),
        batch_id=args.batch_id,
        wait=args.wait,
        wait_timeout=args.timeout,
        poll_interval=args.poll_interval,
        dry_run=args.dry_run,
        workers=args.workers,
        publish_chunk=args.publish_chunk,
        today=_today(),
        photos=args.photos,
        require_photos=not args.without_photos,
        seal=args.seal,
        verifier_url=verifier_url,
        svg=args.svg,
    )
    with _client(args, credentials) as client:
        try:
            request = with_registry_default(request, client, plain=args.plain_qr)
        except RegistryError as e:
            return _fail(e)
        return run_issue(request, client, read_passphrase, Console())


def _status_handler(args: argparse.Namespace) -> int:
    try:
        credentials = load_credentials(args.credentials)
        with _client(args, credentials) as client:
            answer = client.change_status(
                args.certificate_number, args.action, args.reason, getattr(args, "category", None)
            )
    except (IssueError, RegistryError) as e:
        return _fail(e)
    status = answer.get("status", "")
    print(f"证书 certificate {args.certificate_number} {_STATUS_ACTIONS[args.action][1]} ({status})")
    return 0


def _rotate(args: argparse.Namespace) -> int:
    try:
        credentials = load_credentials(args.credentials)
        passphrase = read_passphrase()
        old = read_private_key(args.key, passphrase)
        new = _new_key(args.out, passphrase)
        if new.kid == old.kid:
            raise IssueError(
                "key_same",
                "新旧密钥相同：--out 必须是新文件",
                "--out must name a new key file, not the old one",
            )
        with _client(args, credentials) as client:
            _register_and_retire(client, credentials.institution_code, old, new, _today())
    except (IssueError, RegistryError, KeyMaterialError) as e:
        return _fail(e)
    print(
        f"新密钥已登记 registered new key {new.public_key.kid_b64}; 旧密钥已停用 retired old key "
        f"{old.public_key.kid_b64}. 以后签发请使用 / from now on sign with: {args.out}\n"
        "今天以前审核通过但尚未签名的批次，请仍用旧密钥签名 / batches approved before today that are not "
        "signed yet: sign them with the old key."
    )
    return 0


def _new_key(path: Path, passphrase: str) -> Signer:
    """The new key: created now, or (when a previous rotation stopped half-way) the one it created."""
    if path.exists():
        return read_private_key(path, passphrase)
    signer = Signer.generate()
    write_private_key(path, signer, passphrase)
    return signer


def _register_and_retire(client: RegistryClient, code: str, old: Signer, new: Signer, today: date) -> None:
    """Register ``new`` and retire ``old``, skipping whatever an earlier attempt already did."""
    keys = {k.get("kid"): k for k in client.institution(code).get("keys", []) if isinstance(k, dict)}
    if old.public_key.kid_b64 not in keys:
        raise IssueError(
            "key_not_registered",
            "旧密钥未在登记系统登记：请确认 --key 是本机构正在使用的密钥",
            "the old key is not registered: check that --key is the institution's current key",
        )
    if new.public_key.kid_b64 not in keys:
        client.register_key(code, to_jwk(new.public_key), valid_from=today)
    old_entry = keys[old.public_key.kid_b64]
    if old_entry.get("retired") is None and old_entry.get("revoked") is None:
        client.retire_key(code, old.public_key.kid_b64, retired=today)


# Shared -------------------------------------------------------------------------------------


def _client(args: argparse.Namespace, credentials: Credentials) -> RegistryClient:
    return RegistryClient(args.registry or credentials.registry, credentials.token)


def _today() -> date:
    """The registry's calendar day (China Standard Time); the one place this module reads the clock."""
    return registry_day(time.time())


def _fail(e: IssueError | RegistryError | KeyMaterialError) -> int:
    print(f"错误 error [{e.code}]: {e.message_zh} / {e.message_en}", file=sys.stderr)
    if isinstance(e, IssueError):
        return int(e.exit_code)
    if isinstance(e, RegistryNotFoundError):
        return int(Exit.INPUT)
    if isinstance(e, RegistryError | RegistryUnavailableError):
        return int(Exit.REGISTRY)
    return int(Exit.INPUT)
