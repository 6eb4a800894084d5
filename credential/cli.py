"""``skillpass credential``: encode a certificate JSON into QR text, decode QR text into claims."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from common import qrimage
from common.cli_support import read_passphrase, report_error
from credential import CertificateClaims, CredentialError, decode, encode, verifier_origin, verify
from keys import KeyMaterialError, from_jwk, read_private_key
from schemas import validate_certificate


def add_commands(subparsers: Any) -> None:
    """Register ``credential encode`` and ``credential decode``."""
    credential = subparsers.add_parser("credential", help="证书二维码编码与解码 / QR credential wire format")
    commands = credential.add_subparsers(dest="credential_command", metavar="SUBCOMMAND", required=True)
    enc = commands.add_parser("encode", help="签名并输出二维码文本 / sign and print the QR text")
    enc.add_argument("--key", type=Path, required=True, help="加密的私钥文件 / encrypted private key file")
    enc.add_argument("--data", type=Path, required=True, help="证书内容 JSON / certificate JSON")
    enc.add_argument(
        "--form",
        choices=("plain", "url"),
        default="plain",
        help="打印形式：plain（SP2: 文本，供应用与命令行）或 url（核验网址，手机相机或微信扫码即打开核验页）"
        " / printed form: plain (SP2: text for apps and the CLI) or url (opens the verifier page from any camera)",
    )
    enc.add_argument(
        "--verifier-url",
        metavar="URL",
        help="url 形式所用的核验网址，如 https://verify.example.cn / the verifier for --form url (https://host)",
    )
    enc.add_argument("--png", type=Path, help="另存二维码 PNG / also write the QR code as PNG")
    enc.add_argument("--svg", type=Path, help="另存二维码 SVG / also write the QR code as SVG")
    enc.set_defaults(handler=_encode)
    dec = commands.add_parser("decode", help="解析二维码文本 / print the claims of QR text")
    dec.add_argument(
        "text", help="二维码文本，两种形式皆可 / the QR text, either form (SP2:... or https://host/#SP2....)"
    )
    dec.add_argument(
        "--public-key",
        type=Path,
        help="公钥 JWK 文件：同时核对签名 / JWK file: also check the signature with this key",
    )
    dec.add_argument("--json", action="store_true", help="以 JSON 输出 / print JSON")
    dec.set_defaults(handler=_decode)


def _encode(args: argparse.Namespace) -> int:
    try:
        certificate = json.loads(args.data.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        return report_error(
            "data_unreadable", f"无法读取证书数据：{e}", f"cannot read the certificate data: {e}"
        )
    issues = validate_certificate(certificate)
    if issues:
        for issue in issues:
            print(
                f"{issue.pointer or '/'} [{issue.code}] {issue.message_zh} / {issue.message_en}",
                file=sys.stderr,
            )
        return 2
    if (args.form == "url") != (args.verifier_url is not None):
        return report_error(
            "verifier_url_required",
            "--form url 需要 --verifier-url，且 --verifier-url 只用于 url 形式",
            "--form url needs --verifier-url, and --verifier-url applies to the url form only",
        )
    try:
        if args.verifier_url is not None:
            verifier_origin(args.verifier_url)
    except ValueError as e:
        return report_error("verifier_url_invalid", f"核验网址无效：{e}", f"invalid verifier URL: {e}")
    try:
        signer = read_private_key(args.key, read_passphrase())
    except KeyMaterialError as e:
        return report_error(e.code, e.message_zh, e.message_en)
    text = encode(CertificateClaims.from_certificate(certificate), signer, verifier_url=args.verifier_url)
    if args.png:
        args.png.write_bytes(qrimage.render_png(text))
    if args.svg:
        args.svg.write_text(qrimage.render_svg(text), encoding="utf-8")
    print(text)
    return 0


def _decode(args: argparse.Namespace) -> int:
    try:
        parsed = decode(args.text.strip())
        checked = False
        if args.public_key:
            verify(parsed, from_jwk(json.loads(args.public_key.read_text(encoding="utf-8"))))
            checked = True
    except CredentialError as e:
        return report_error(e.code, e.message_zh, e.message_en + (f" ({e.detail})" if e.detail else ""))
    except KeyMaterialError as e:
        return report_error(e.code, e.message_zh, e.message_en)
    except (OSError, json.JSONDecodeError) as e:
        return report_error(
            "public_key_unreadable", f"无法读取公钥文件：{e}", f"cannot read the public key file: {e}"
        )
    signature = "verified" if checked else "not_checked"
    if args.json:
        print(json.dumps({"claims": parsed.claims.to_json(), "signature": signature}, ensure_ascii=False))
        return 0
    for name, value in parsed.claims.to_json().items():
        print(f"{name}: {value}")
    if checked:
        print("签名：有效 / signature: valid")
    else:
        print("注意：未核验签名 / NOTE: the signature was NOT checked (pass --public-key to check it)")
    return 0
