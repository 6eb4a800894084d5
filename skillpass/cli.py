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

# Modules whose add_commands(subparsers) registers a part's commands, in help order, with the
# top-level commands each registers. Only the module a command needs is imported, so
# `skillpass verify` does not pay for the registry's database layer or the issuer's PDF library.
_COMMAND_MODULES: dict[str, tuple[str, ...]] = {
    "keys.cli": ("keys",),
    "credential.cli": ("credential",),
    "registry.cli": ("registry",),
    "issuer.cli": ("issue", "revoke", "suspend", "reinstate", "issuer"),
    "verifier.cli": ("verify", "verifier", "receipt"),
    "skillpass.demo.cli": ("demo",),
}

Handler = Callable[[argparse.Namespace], int]


def build_parser(argv: Sequence[str] = ()) -> argparse.ArgumentParser:
    """The parser for ``argv``: the modules of its command, or of every command for help."""
    parser = argparse.ArgumentParser(
        prog="skillpass",
        description="skillpass — 职业技能等级电子证书：签发、公示、核验 / issue, publish and verify "
        "vocational skill level certificates.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    command = next((arg for arg in argv if not arg.startswith("-")), None)
    wanted = [m for m, commands in _COMMAND_MODULES.items() if command in commands] or list(_COMMAND_MODULES)
    for name in wanted:
        registered = import_module(name).add_commands(subparsers)
        if name == "keys.cli":
            # Rotation needs the registry client, so it lives in the issuer and joins `keys` here.
            import_module("issuer.cli").add_rotate_command(registered)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command and return its exit code."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    args = build_parser(arguments).parse_args(arguments)
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
