"""``skillpass issuer console``: start the institution console on this machine and print its link."""

from __future__ import annotations

import argparse
import ipaddress
from pathlib import Path
from typing import Any

import uvicorn

from issuer.client import RegistryClient
from issuer.console.guard import Guard
from issuer.credentials import load_credentials
from issuer.run import IssueError

DEFAULT_PORT = 8702


def add_command(issuer_commands: Any) -> None:
    """Register ``console`` under ``skillpass issuer``."""
    console = issuer_commands.add_parser(
        "console",
        help="机构发证台（本机网页）/ the institution console (a web page on this machine)",
        description="在本机浏览器中上传名册、查看校验结果、提交审核、签名发布、下载 PDF、查看与撤销证书。"
        "只监听本机地址；打开命令打印的链接即可使用。/ Upload rosters, see the validation report, submit, "
        "sign and publish, download PDFs, list and revoke certificates, in a browser on this machine. "
        "Listens on loopback; open the link it prints. Exit codes: 0 stopped, 2 fix the input.",
    )
    console.add_argument(
        "--credentials",
        type=Path,
        default=Path("credentials.json"),
        help="机构凭据文件（默认 ./credentials.json）/ credentials file (default ./credentials.json)",
    )
    console.add_argument(
        "--key",
        type=Path,
        default=Path("institution.key"),
        help="机构私钥文件（默认 ./institution.key）/ institution key file (default ./institution.key)",
    )
    console.add_argument(
        "--port",
        type=int,
        default=DEFAULT_PORT,
        help=f"端口（默认 {DEFAULT_PORT}）/ port (default {DEFAULT_PORT})",
    )
    console.add_argument(
        "--host",
        default="127.0.0.1",
        help="监听的本机地址（默认 127.0.0.1）/ loopback address to listen on (default 127.0.0.1)",
    )
    console.add_argument(
        "--work-dir",
        type=Path,
        help="名册与签发文件的存放目录（默认凭据文件旁的 console/）/ where rosters and issued files go (default: console/ beside the credentials)",
    )
    console.add_argument(
        "--registry",
        help="登记中心地址（默认取凭据文件中的） / registry URL (default: the one in the credentials file)",
    )
    console.set_defaults(handler=_serve)


def _serve(args: argparse.Namespace) -> int:
    from issuer.console.app import create_app  # the web stack only when the console runs

    try:
        credentials = load_credentials(args.credentials)
        _require_loopback(args.host)
        if not args.key.is_file():
            raise IssueError(
                "key_missing",
                f"找不到机构私钥文件 {args.key}：请用 --key 指定",
                f"no key file {args.key}: pass --key",
            )
    except IssueError as e:
        print(f"错误 error [{e.code}]: {e.message_zh} / {e.message_en}")
        return 2
    work_dir = args.work_dir or args.credentials.resolve().parent / "console"
    guard = Guard(args.host, args.port)
    with RegistryClient(args.registry or credentials.registry, credentials.token) as client:
        app = create_app(client, credentials.institution_code, args.key.resolve(), work_dir, guard)
        print(
            f"机构发证台 institution console — {credentials.institution_code}\n"
            f"在本机浏览器中打开 open in a browser on this machine:\n  {guard.link()}\n"
            f"文件目录 files: {work_dir}\n按 Ctrl-C 停止 / Ctrl-C stops it.",
            flush=True,
        )
        uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    return 0


def _require_loopback(host: str) -> None:
    """The console serves only the person at this machine: it never listens beyond loopback."""
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise IssueError(
            "host_not_loopback",
            f"机构发证台只在本机地址上监听（{host} 不是）：私钥所在的机器才可使用",
            f"the console listens on loopback only ({host} is not): it serves the machine holding the key",
        )
