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
        "--data-dir", type=Path, default=Path("demo-data"), help="where the demo keeps its data"
    )
    demo.add_argument("--host", default="127.0.0.1")
    demo.add_argument("--registry-port", type=int, default=8700)
    demo.add_argument("--verifier-port", type=int, default=8701)
    demo.add_argument("--no-serve", action="store_true", help="seed and exit without serving")
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
