"""``skillpass keys``: generate an encrypted Ed25519 key file and export its public JWK."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from common.cli_support import read_passphrase, report_error
from keys import KeyMaterialError, Signer, read_private_key, to_jwk, write_private_key


def add_commands(subparsers: Any) -> Any:
    """Register ``keys generate`` and ``keys export-public``; returns the ``keys`` subcommands so
    the issuer can add ``keys rotate`` (see ``skillpass.cli``)."""
    keys = subparsers.add_parser("keys", help="Ed25519 签名密钥 / signing keys")
    commands = keys.add_subparsers(dest="keys_command", metavar="SUBCOMMAND", required=True)
    generate = commands.add_parser(
        "generate", help="生成加密的私钥文件 / create an encrypted private key file"
    )
    generate.add_argument(
        "--out",
        type=Path,
        required=True,
        help="新私钥文件（权限 0600） / new key file (created with mode 0600)",
    )
    generate.set_defaults(handler=_generate)
    export = commands.add_parser("export-public", help="输出公钥 JWK / print the public key as a JWK")
    export.add_argument("keyfile", type=Path, help="加密的私钥文件 / encrypted private key file")
    export.set_defaults(handler=_export_public)
    return commands


def _generate(args: argparse.Namespace) -> int:
    signer = Signer.generate()
    try:
        write_private_key(args.out, signer, read_passphrase(confirm=True))
    except KeyMaterialError as e:
        return report_error(e.code, e.message_zh, e.message_en)
    print(json.dumps(to_jwk(signer.public_key)))
    return 0


def _export_public(args: argparse.Namespace) -> int:
    try:
        signer = read_private_key(args.keyfile, read_passphrase())
    except KeyMaterialError as e:
        return report_error(e.code, e.message_zh, e.message_en)
    print(json.dumps(to_jwk(signer.public_key)))
    return 0
