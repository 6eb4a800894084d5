"""The one `skillpass` entry point: each part of the system adds its own subcommands here.

Each part exposes ``add_commands(subparsers)``; a command's handler takes the parsed
arguments and returns the process exit code. Errors a person can act on are printed as one
line in Chinese and English, never as a traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from importlib import import_module

# Modules whose add_commands(subparsers) registers a part's commands, in help order.
_COMMAND_MODULES = (
    "skillpass.keys.cli",
    "skillpass.credential.cli",
    "skillpass.registry.cli",
    "skillpass.issuer.cli",
    "skillpass.verifier.cli",
    "skillpass.demo.cli",
)

Handler = Callable[[argparse.Namespace], int]


def build_parser() -> argparse.ArgumentParser:
    """Build the full parser from every part's commands."""
    parser = argparse.ArgumentParser(
        prog="skillpass",
        description="skillpass — 职业技能等级电子证书：签发、公示、核验 / issue, publish and verify "
        "vocational skill level certificates.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in _COMMAND_MODULES:
        import_module(name).add_commands(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command and return its exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Handler = args.handler
    try:
        return handler(args)
    except KeyboardInterrupt:
        print("已中断 / interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into `head` and the like
        sys.stderr.close()
        return 0


if __name__ == "__main__":
    sys.exit(main())
