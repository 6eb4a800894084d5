"""``skillpass registry init | serve | admin … | audit verify``.

Admin commands work directly on the database of a data directory (the operator's console on the
registry host); everything else goes through HTTP.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import httpx

from common.cli_support import read_passphrase, report_error
from common.clients import ProxyListError, add_trusted_proxy_option, trusted_proxies_from
from keys import KeyFileError, PublicKeyError, from_jwk
from registry import institutions as directory
from registry.audit import Digests
from registry.audit_verify import verify_log
from registry.clock import Now
from registry.console import accounts
from registry.console.accounts import STAFF_ROLES
from registry.db import Database
from registry.employers import MAX_DAILY_QUOTA, Account, create_employer
from registry.errors import RegistryError
from registry.review_cli import add_commands as add_review_commands
from registry.review_cli import read_password
from registry.settings import system_clock
from registry.setup import (
    HMAC_FILE,
    KEY_FILE,
    init_registry,
    open_registry,
    resolve_database_url,
    resolve_public_url,
    write_secret_file,
)
from registry.tokens import ROLES, issue_token, revoke_token

_ACTOR = "cli"


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data-dir", type=Path, required=True, help="登记中心数据目录 / registry data directory"
    )
    parser.add_argument(
        "--database-url",
        help="数据库 SQLAlchemy URL（默认：数据目录中的 SQLite） / SQLAlchemy URL (default: SQLite in the data directory)",
    )


def add_commands(subparsers: Any) -> None:
    """Register ``skillpass registry ...``."""
    registry = subparsers.add_parser("registry", help="全国联网查询系统（登记中心）/ the national registry")
    commands = registry.add_subparsers(dest="registry_command", metavar="COMMAND", required=True)

    init = commands.add_parser(
        "init",
        help="初始化数据库、登记中心密钥、HMAC 密钥和管理令牌 / create database, registry key, HMAC secret, admin token",
    )
    _common(init)
    init.add_argument(
        "--public-url", help="核验方访问本登记中心的地址 / URL verifiers reach this registry at"
    )
    init.set_defaults(handler=_init)

    serve = commands.add_parser("serve", help="运行登记中心 HTTP 服务 / run the registry HTTP service")
    _common(serve)
    serve.add_argument("--host", default="127.0.0.1", help="监听地址 / address to listen on")
    serve.add_argument("--port", type=int, default=8700, help="端口 / port")
    serve.add_argument(
        "--access-log",
        action="store_true",
        help="逐条记录请求（默认不记录，由前置代理记录）/ log every request (default: off; the proxy in front logs them)",
    )
    serve.add_argument(
        "--public-url", help="核验方访问本登记中心的地址 / URL verifiers reach this registry at"
    )
    add_trusted_proxy_option(serve)
    serve.add_argument(
        "--query-burst",
        type=int,
        help="每个客户端限流前可连续查询次数（默认 30）/ public queries per client before the limit (default 30)",
    )
    serve.add_argument(
        "--query-rate",
        type=float,
        help="每个客户端每秒查询次数（默认 2）/ public queries per second per client (default 2)",
    )
    serve.add_argument(
        "--verifier-host",
        action="append",
        default=[],
        metavar="HOST",
        help="官方核验网站主机名（可重复），写入签名目录 / an official verifier host[:port] (repeatable),"
        " listed in the signed directory; verifiers warn about URL-form QR codes naming any other",
    )
    serve.set_defaults(handler=_serve)

    admin = commands.add_parser("admin", help="目录与令牌管理 / directory and token administration")
    actions = admin.add_subparsers(dest="admin_command", metavar="ACTION", required=True)
    create = actions.add_parser(
        "create-institution", help="按 JSON 记录备案评价机构 / file an institution from a JSON record"
    )
    _common(create)
    create.add_argument(
        "record",
        type=Path,
        help="机构 JSON（schemas/institution.schema.json） / institution JSON (schemas/institution.schema.json)",
    )
    create.set_defaults(handler=_create_institution)
    scope = actions.add_parser(
        "add-scope", help="按 JSON 文件增加评价范围 / add a scope entry from a JSON file"
    )
    _common(scope)
    scope.add_argument("--institution", required=True, help="机构代码 / institution code")
    scope.add_argument("scope", type=Path, help="评价范围 JSON 文件 / scope JSON file")
    scope.set_defaults(handler=_add_scope)
    status = actions.add_parser("set-status", help="追加机构状态变更 / append an institution status change")
    _common(status)
    status.add_argument("--institution", required=True, help="机构代码 / institution code")
    status.add_argument(
        "--status", required=True, choices=("active", "suspended", "removed"), help="新状态 / new status"
    )
    status.add_argument(
        "--effective",
        type=date.fromisoformat,
        help="生效日期 YYYY-MM-DD（默认今天） / YYYY-MM-DD (default today)",
    )
    status.add_argument("--reason", required=True, help="原因 / reason")
    status.set_defaults(handler=_set_status)
    token = actions.add_parser(
        "create-token", help="创建 API 令牌（只显示一次） / create an API token (printed once)"
    )
    _common(token)
    token.add_argument("--role", required=True, choices=ROLES, help="角色 / role")
    token.add_argument(
        "--institution", help="机构代码（角色为 institution 时） / institution code (role institution)"
    )
    token.add_argument("--public-url", help="写入 --out 的登记中心地址 / registry URL written into --out")
    token.add_argument(
        "--out",
        type=Path,
        help="写成机构凭据文件（权限 0600），不打印 / write the issuer credentials file (0600) instead of printing",
    )
    token.set_defaults(handler=_create_token)
    employer = actions.add_parser(
        "create-employer",
        help="开设用人单位查询账户（每日额度）/ file an employer account with a daily lookup quota",
    )
    _common(employer)
    employer.add_argument("--name", required=True, help="单位名称 / the employer's name")
    employer.add_argument("--uscc", required=True, help="统一社会信用代码 / unified social credit code")
    employer.add_argument("--daily-quota", type=int, required=True, help="每日查询额度 / lookups per day")
    employer.add_argument("--public-url", help="写入 --out 的登记中心地址 / registry URL written into --out")
    employer.add_argument(
        "--out",
        type=Path,
        required=True,
        help="用人单位凭据文件（权限 0600）/ the employer's credentials file (0600)",
    )
    employer.set_defaults(handler=_create_employer)
    revoke = actions.add_parser("revoke-token", help="按编号吊销 API 令牌 / revoke an API token by its id")
    _common(revoke)
    revoke.add_argument(
        "--id",
        required=True,
        help="令牌编号（创建时给出的 12 位十六进制数） / the token's id (12 hex digits, given at creation)",
    )
    revoke.add_argument("--reason", required=True, help="原因 / reason")
    revoke.set_defaults(handler=_revoke_token)

    user = actions.add_parser(
        "create-user",
        help="创建个人控制台账号（密码从标准输入读）/ create a personal console account (password on standard input)",
    )
    _common(user)
    user.add_argument(
        "--username",
        required=True,
        help="用户名：2–64 个 a-z 0-9 . _ - 字符 / username: 2-64 of a-z 0-9 . _ -",
    )
    user.add_argument("--role", required=True, choices=STAFF_ROLES, help="角色 / role")
    user.set_defaults(handler=_create_user)

    add_review_commands(commands, _common)

    audit = commands.add_parser("audit", help="审计日志 / audit log")
    audit_actions = audit.add_subparsers(dest="audit_command", metavar="ACTION", required=True)
    verify = audit_actions.add_parser(
        "verify", help="离线核对审计日志副本 / check a copy of the audit log offline"
    )
    source = verify.add_mutually_exclusive_group(required=True)
    source.add_argument("--registry", help="从此登记中心下载日志 / download the log from this registry URL")
    source.add_argument("--log", type=Path, help="先前保存的日志副本 / a log copy saved earlier")
    verify.add_argument(
        "--registry-key",
        type=Path,
        help="登记中心公钥 JWK 文件（固定信任） / the registry's pinned public JWK file",
    )
    verify.add_argument("--save", type=Path, help="下载的副本保存到此处 / save the downloaded copy here")
    verify.set_defaults(handler=_audit_verify)


def _fail(error: RegistryError | KeyFileError | PublicKeyError) -> int:
    return report_error(error.code, error.message_zh, error.message_en)


def _database(args: argparse.Namespace) -> Database:
    if not (args.data_dir / KEY_FILE).exists():
        raise RegistryError("registry_uninitialised", str(args.data_dir))
    return Database(resolve_database_url(args.data_dir, args.database_url))


def _init(args: argparse.Namespace) -> int:
    try:
        made = init_registry(args.data_dir, args.database_url, read_passphrase(confirm=True), args.public_url)
    except (RegistryError, KeyFileError) as e:
        return _fail(e)
    print(f"registry key kid: {made.settings.signer.public_key.kid_b64}")
    print(f"管理员令牌（仅显示一次）admin token (shown once, also in {args.data_dir / 'admin.token'}):")
    print(made.admin_token)
    return 0


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from common.http import UVICORN_SPEED
    from registry.app import create_app

    try:
        settings = open_registry(
            args.data_dir, read_passphrase(), args.database_url, args.public_url, **_serve_overrides(args)
        )
    except (RegistryError, KeyFileError) as e:
        return _fail(e)
    except ProxyListError as e:
        return report_error(e.code, e.message_zh, e.message_en)
    # No proxy_headers: uvicorn would believe the client-written end of X-Forwarded-For; the registry
    # decides who the client is itself (common.clients), from the proxies named here only.
    uvicorn.run(
        create_app(replace(settings, verifier_hosts=tuple(h.strip().lower() for h in args.verifier_host))),
        host=args.host,
        port=args.port,
        log_level="info",
        access_log=args.access_log,  # off by default: the proxy in front keeps the access log (deploy/)
        proxy_headers=False,
        **UVICORN_SPEED,
    )
    return 0


def _serve_overrides(args: argparse.Namespace) -> dict[str, Any]:
    """Settings given on the command line (or, for trusted proxies, in the environment)."""
    overrides: dict[str, Any] = {"trusted_proxies": trusted_proxies_from(args.trusted_proxy)}
    if args.query_burst is not None:
        overrides["query_burst"] = args.query_burst
    if args.query_rate is not None:
        overrides["query_rate_per_second"] = args.query_rate
    return overrides


def _write(args: argparse.Namespace, work: Any) -> int:
    status = _write_quiet(args, work)
    if status == 0:
        print("ok")
    return status


def _json_file(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise SystemExit(
            report_error("input_invalid", f"无法读取 {path}：{e}", f"cannot read {path}: {e}")
        ) from e


def _create_institution(args: argparse.Namespace) -> int:
    record = _json_file(args.record)
    now = Now.read(system_clock)
    return _write(args, lambda conn: directory.create_institution(conn, record, now, _ACTOR))


def _add_scope(args: argparse.Namespace) -> int:
    scope = _json_file(args.scope)
    now = Now.read(system_clock)
    return _write(args, lambda conn: directory.add_scope(conn, args.institution, scope, now, _ACTOR))


def _set_status(args: argparse.Namespace) -> int:
    now = Now.read(system_clock)
    return _write(
        args,
        lambda conn: directory.set_status(
            conn, args.institution, args.status, args.effective, args.reason, now, _ACTOR
        ),
    )


def _revoke_token(args: argparse.Namespace) -> int:
    now = Now.read(system_clock)
    try:
        digests = Digests(bytes.fromhex((args.data_dir / HMAC_FILE).read_text(encoding="utf-8").strip()))
    except (OSError, ValueError):
        return _fail(RegistryError("registry_uninitialised", str(args.data_dir)))
    return _write(args, lambda conn: revoke_token(conn, args.id, args.reason, now.unix, _ACTOR, digests))


def _create_user(args: argparse.Namespace) -> int:
    try:
        password = read_password()
    except RegistryError as e:
        return _fail(e)
    now = Now.read(system_clock)
    return _write(
        args, lambda conn: accounts.create_user(conn, args.username, args.role, password, now, _ACTOR)
    )


def _create_token(args: argparse.Namespace) -> int:
    now = Now.read(system_clock)
    made: list[str] = []

    def work(conn: Any) -> None:
        token, _ = issue_token(
            conn,
            role=args.role,
            institution_code=args.institution,
            now=now.unix,
            expires_at=None,
            actor=_ACTOR,
        )
        made.append(token)

    if args.out is not None and args.out.exists():
        return report_error("output_exists", f"文件已存在：{args.out}", f"the file exists: {args.out}")
    status = _write_quiet(args, work)
    if status != 0:
        return status
    if args.out is None:
        print(made[0])
        return 0
    credentials = {
        "registry": resolve_public_url(args.data_dir, args.public_url),
        "institution_code": args.institution,
        "token": made[0],
    }
    write_secret_file(args.out, json.dumps(credentials, indent=2) + "\n")
    print(f"ok: {args.out}")
    return 0


def _create_employer(args: argparse.Namespace) -> int:
    """The account and its token, written once to a 0600 credentials file for ``skillpass lookup``."""
    if not 1 <= args.daily_quota <= MAX_DAILY_QUOTA:
        return report_error(
            "input_invalid",
            f"每日额度应在 1 至 {MAX_DAILY_QUOTA} 之间",
            f"--daily-quota is 1 to {MAX_DAILY_QUOTA}",
        )
    if args.out.exists():
        return report_error("output_exists", f"文件已存在：{args.out}", f"the file exists: {args.out}")
    now = Now.read(system_clock)
    made: list[tuple[Account, str]] = []
    status = _write_quiet(
        args,
        lambda conn: made.append(create_employer(conn, args.name, args.uscc, args.daily_quota, now, _ACTOR)),
    )
    if status != 0:
        return status
    account, token = made[0]
    credentials = {"registry": resolve_public_url(args.data_dir, args.public_url), "employer": account.id,
                   "token": token}  # fmt: skip
    write_secret_file(args.out, json.dumps(credentials, indent=2) + "\n")
    print(f"ok: employer {account.id}, token id {account.token_id}: {args.out}")
    return 0


def _write_quiet(args: argparse.Namespace, work: Any) -> int:
    try:
        db = _database(args)
        try:
            db.write(work)
        finally:
            db.dispose()
    except RegistryError as e:
        for detail in e.details:
            print(
                f"  {detail.get('pointer', '')}: {detail.get('message_zh', '')} / {detail.get('message_en', '')}"
            )
        return _fail(e)
    return 0


def _download(url: str) -> dict[str, Any]:
    base = url.rstrip("/") + "/api/v1/audit"
    with httpx.Client(timeout=60) as client:
        size = client.get(f"{base}/checkpoint").raise_for_status().json()["size"]
        checkpoints = client.get(f"{base}/checkpoints").raise_for_status().json()["checkpoints"]
        entries: list[Any] = []
        while len(entries) < size:
            page = client.get(
                f"{base}/entries", params={"start": len(entries), "end": min(size, len(entries) + 5000)}
            )
            batch = page.raise_for_status().json()["entries"]
            if not batch:
                break
            entries.extend(batch)
    return {"entries": entries, "checkpoints": checkpoints}


def _audit_verify(args: argparse.Namespace) -> int:
    try:
        if args.registry_key is not None:
            key = from_jwk(_json_file(args.registry_key))
        elif args.registry is not None:
            print("警告 warning: registry key not pinned; using the one the registry serves", file=sys.stderr)
            key = from_jwk(httpx.get(args.registry.rstrip("/") + "/api/v1/registry-key", timeout=30).json())
        else:
            return report_error(
                "registry_key_missing", "离线核查需要 --registry-key", "--log needs --registry-key"
            )
        copy = _download(args.registry) if args.registry is not None else _json_file(args.log)
    except PublicKeyError as e:
        return _fail(e)
    except (OSError, ValueError, httpx.HTTPError, KeyError) as e:
        return report_error("audit_source", f"无法获取审计日志：{e}", f"cannot read the audit log: {e}")
    if args.save is not None:
        args.save.write_text(json.dumps(copy) + "\n", encoding="utf-8")
    finding = verify_log(copy, key)
    if finding.ok:
        print(f"一致 consistent: {finding.message}")
        return 0
    where = "" if finding.index is None else f" at event {finding.index}"
    print(f"不一致 INCONSISTENT{where}: {finding.message}")
    return 1
