"""`skillpass demo`."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from common.cli_support import report_error


def add_commands(subparsers: Any) -> None:
    """Register ``demo``."""
    demo = subparsers.add_parser(
        "demo", help="一条命令体验全流程 / seed a registry, issue samples, serve registry and verifier"
    )
    demo.add_argument(
        "--data-dir",
        type=Path,
        default=Path("demo-data"),
        help="演示数据目录，再次运行时复用 / where the demo keeps its data (reused on the next run)",
    )
    demo.add_argument("--host", default="127.0.0.1", help="监听地址 / address to listen on")
    demo.add_argument("--registry-port", type=int, default=8700, help="登记中心端口 / registry port")
    demo.add_argument("--verifier-port", type=int, default=8701, help="核验服务端口 / verifier port")
    demo.add_argument(
        "--no-serve", action="store_true", help="只生成数据，不启动服务 / seed and exit without serving"
    )
    demo.set_defaults(handler=_demo)


def _demo(args: argparse.Namespace) -> int:
    from issuer.client import RegistryError
    from skillpass.demo.run import DemoOptions, run_demo
    from skillpass.demo.servers import DemoError

    options = DemoOptions(args.data_dir, args.host, args.registry_port, args.verifier_port, not args.no_serve)
    try:
        return run_demo(options)
    except (DemoError, RegistryError) as e:
        return report_error(e.code, e.message_zh, e.message_en)
