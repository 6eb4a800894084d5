"""``skillpass verify FILE...`` over many certificates, and ``skillpass receipt verify``.

Several files, a ZIP, a CSV/XLSX of QR texts, a multi-page PDF or a picture with several QR codes
give one line per certificate found (with where it was found), a summary, and with ``--report`` a
CSV or XLSX file. The exit code is 0 only when every certificate found is valid, else 8.

``receipt verify`` checks a verification receipt offline against the verifier service's public
key (a JWK file, or fetched from the service), prints what it attests, and exits 0 only when it is
intact (1 when not, 2 for a usage error).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any, Final

import httpx

from common.calendar import cst_minute
from common.cli_support import report_error
from keys import PublicKey, PublicKeyError, from_jwk
from verifier.bulk import Item, find_items, item_sha256
from verifier.messages import OUTCOME_LABELS, OUTCOME_SYMBOLS
from verifier.receipt import ReceiptError, open_receipt
from verifier.report import report_csv, report_xlsx, where
from verifier.verdict import Verdict

__all__ = ["EXIT_NOT_ALL_VALID", "add_receipt_command", "print_results", "results_of", "write_report"]

EXIT_NOT_ALL_VALID: Final = 8


def results_of(answers: list[tuple[Item, Verdict]]) -> list[dict[str, Any]]:
    """Batch results: each verdict's JSON with where it was found and its SHA-256."""
    return [
        {**verdict.to_json(), "source": item.source, "sha256": item_sha256(item)} for item, verdict in answers
    ]


def print_results(results: list[dict[str, Any]]) -> int:
    """One line per certificate, then the counts; the exit code (0 only when all are valid)."""
    for number, result in enumerate(results, start=1):
        outcome = result["outcome"]
        zh, en = OUTCOME_LABELS[outcome]
        credential = result.get("credential") or {}
        code = "" if result["code"] == outcome else f": {result['code']}"
        who = " ".join(str(credential.get(k, "")) for k in ("certificate_number", "holder_name")).strip()
        print(
            f"{number:>4}. {OUTCOME_SYMBOLS[outcome]} {zh} / {en} [{outcome}{code}] {who} — {where(result['source'])}"
        )
    counts = Counter(result["outcome"] for result in results)
    summary = ", ".join(f"{OUTCOME_LABELS[o][0]} {o} {counts[o]}" for o in OUTCOME_LABELS if counts[o])
    print(f"共 {len(results)} 份证书 certificates: {summary}")
    return 0 if counts["valid"] == len(results) else EXIT_NOT_ALL_VALID


def write_report(path: Path, results: list[dict[str, Any]]) -> None:
    """``--report out.xlsx|out.csv``."""
    data = report_csv(results) if path.suffix.lower() == ".csv" else report_xlsx(results)
    path.write_bytes(data)
    print(f"报告 report: {path}")


def find(sources: list[Path], progress: bool) -> list[Item]:
    """Every certificate in the files (raises ``BatchError`` beyond the limits)."""
    from verifier.bulk import Upload

    uploads = [Upload(str(path), path.read_bytes()) for path in sources]
    return find_items(uploads, progress=_progress_bar("读取 read") if progress else None)


def _progress_bar(label: str) -> Any:
    def show(done: int, total: int) -> None:
        filled = 30 * done // max(total, 1)
        end = "\n" if done == total else ""
        print(
            f"\r{label} [{'#' * filled}{'.' * (30 - filled)}] {done}/{total}",
            end=end,
            file=sys.stderr,
            flush=True,
        )

    return show


def progress_bar(label: str) -> Any:
    """A one-line progress bar on stderr (only on a terminal)."""
    return _progress_bar(label) if sys.stderr.isatty() else None


# ---- skillpass receipt verify


def add_receipt_command(subparsers: Any) -> None:
    """Register ``receipt verify``."""
    receipt = subparsers.add_parser("receipt", help="核验回执 / verification receipts")
    commands = receipt.add_subparsers(dest="receipt_command", metavar="SUBCOMMAND", required=True)
    verify = commands.add_parser(
        "verify",
        help="离线检查核验回执是否完整 / check a verification receipt offline",
        epilog="退出码 exit codes: 0 完整 intact · 1 不完整 not intact · 2 用法错误 usage error",
    )
    verify.add_argument("receipt_file", metavar="RECEIPT_FILE", help="核验回执文件 / the receipt file")
    key = verify.add_mutually_exclusive_group(required=True)
    key.add_argument(
        "--verifier-key", metavar="JWK_FILE", type=Path, help="核验服务公钥 / the verifier's public JWK"
    )
    key.add_argument(
        "--verifier-url", metavar="URL", help="从核验服务获取公钥 / fetch it from GET URL/api/v1/verifier-key"
    )
    verify.add_argument(
        "--json",
        action="store_true",
        help="以 JSON 输出回执所证明的内容 / print what the receipt attests as JSON",
    )
    verify.set_defaults(handler=_verify_receipt)


def _verify_receipt(args: argparse.Namespace) -> int:
    try:
        text = Path(args.receipt_file).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        return report_error(
            "input_unreadable", f"无法读取回执文件：{e}", f"cannot read the receipt file: {e}"
        )
    try:
        key = _verifier_key(args)
    except (OSError, ValueError, PublicKeyError, httpx.HTTPError) as e:
        return report_error(
            "verifier_key_unusable", f"无法取得核验服务公钥：{e}", f"cannot get the verifier key: {e}"
        )
    try:
        opened = open_receipt(text, key)
    except ReceiptError as e:
        print(f"✗ 回执不完整 NOT INTACT [{e.code}]: {e.message_zh} / {e.message_en}")
        return 1
    payload = opened.payload
    if args.json:
        print(json.dumps(payload, ensure_ascii=False, indent=2))
        return 0
    print(f"✓ 回执完整 INTACT: 由核验服务密钥 {opened.kid} 签名 / signed by verifier key {opened.kid}")
    print(_attests(payload))
    return 0


def _verifier_key(args: argparse.Namespace) -> PublicKey:
    if args.verifier_key is not None:
        return from_jwk(json.loads(args.verifier_key.read_text(encoding="utf-8")))
    answer = httpx.get(f"{args.verifier_url.rstrip('/')}/api/v1/verifier-key", timeout=10.0)
    answer.raise_for_status()
    return from_jwk(answer.json())


def _attests(payload: dict[str, Any]) -> str:
    trust = payload.get("trust") or {}
    checkpoint = payload.get("checkpoint") or {}
    results = payload["results"]
    counts = Counter(str(r.get("outcome")) for r in results)
    lines = [
        f"核验时间 verified at: {cst_minute(int(payload.get('issued_at', 0)))}",
        f"核验服务 verifier: {payload.get('verifier', '')}",
        f"信任数据 trust data: 第 {trust.get('version', '?')} 版 version {trust.get('version', '?')}",
        "审计日志检查点 audit checkpoint: "
        + (f"size {checkpoint.get('size')}, root {checkpoint.get('root')}" if checkpoint else "无 none"),
        f"证书 certificates: {len(results)} ("
        + ", ".join(f"{o} {counts[o]}" for o in OUTCOME_LABELS if counts[o])
        + ")",
    ]
    lines += [f"  {r.get('sha256')}  {r.get('outcome')}" for r in results]
    return "\n".join(lines)
