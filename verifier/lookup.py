"""``skillpass lookup LIST --credentials FILE [--report OUT]``: a hiring list without QR codes.

A CSV or XLSX of certificate numbers and holder names is looked up through the registry's public
query under an employer account (``POST /api/v1/employers/lookup``; the appraisal centre creates the
account with a daily quota). The whole list is checked against what is left of today's quota before
anything is asked, and sent in chunks of at most 500; each answer is the one the public query page
gives. One line per row, a summary, and optionally the same report as bulk verification.

Exit codes: 0 every row found and valid · 2 usage error (list, credentials) · 3 the registry could
not be asked or refused (quota, token) · 8 some rows are not found, revoked or suspended.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final

import httpx

from common.cli_support import report_error
from verifier.report import report_csv, report_xlsx

__all__ = ["add_lookup_command", "read_list"]

CHUNK: Final = 500  # the registry's limit per request
MAX_ROWS: Final = 100_000
EXIT_USAGE, EXIT_REGISTRY, EXIT_NOT_ALL_VALID = 2, 3, 8
_NUMBER_HEADERS: Final = frozenset({"证书编号", "certificate_number", "number", "证书号"})
_NAME_HEADERS: Final = frozenset({"姓名", "holder_name", "name", "持证人"})
#: outcome -> (zh, en, symbol); the status words match the verifier's outcomes.
LABELS: Final[dict[str, tuple[str, str, str]]] = {
    "valid": ("有效", "Valid", "✓"),
    "revoked": ("已撤销", "Revoked", "⊘"),
    "suspended": ("已暂停", "Suspended", "‖"),
    "not_found": ("未查到", "Not found", "?"),
}


class ListLookupError(Exception):
    """A list or an answer we cannot use: its code, words and exit code."""

    def __init__(self, code: str, zh: str, en: str, exit_code: int) -> None:
        super().__init__(code)
        self.code, self.zh, self.en, self.exit_code = code, zh, en, exit_code


def add_lookup_command(subparsers: Any) -> None:
    """Register ``skillpass lookup``."""
    lookup = subparsers.add_parser(
        "lookup",
        help="按证书编号和姓名批量查询（用人单位账户）/ look a list up by number and name (employer account)",
        epilog="退出码 exit codes: 0 全部有效 all valid · 2 用法错误 usage error · 3 登记系统不可用或拒绝 "
        "registry unreachable or refused · 8 有未查到、撤销或暂停的 some not found, revoked or suspended",
    )
    lookup.add_argument(
        "list",
        type=Path,
        metavar="LIST.csv|LIST.xlsx",
        help="含“证书编号”和“姓名”两列的名单 / a list with the columns 证书编号 and 姓名",
    )
    lookup.add_argument(
        "--credentials",
        type=Path,
        required=True,
        help="用人单位凭据文件 / employer credentials file (registry admin create-employer)",
    )
    lookup.add_argument(
        "--report", type=Path, metavar="OUT.xlsx|OUT.csv", help="写出核验报告 / write the report"
    )
    lookup.add_argument("--json", action="store_true", help="以 JSON 输出结果 / print the results as JSON")
    lookup.set_defaults(handler=_lookup)


def read_list(path: Path) -> list[tuple[str, str, int]]:
    """(certificate number, holder name, row number) for every filled row of a CSV or XLSX list."""
    try:
        data = path.read_bytes()
    except OSError as e:
        raise ListLookupError(
            "list_unreadable", f"无法读取 {path}", f"cannot read {path}: {e}", EXIT_USAGE
        ) from e
    rows = _xlsx_rows(data) if path.suffix.lower() == ".xlsx" else _csv_rows(data)
    if not rows:
        raise _no_columns()
    header = [cell.strip().lower() for cell in rows[0]]
    number_at = next((i for i, h in enumerate(header) if h in _NUMBER_HEADERS), None)
    name_at = next((i for i, h in enumerate(header) if h in _NAME_HEADERS), None)
    if number_at is None or name_at is None:
        raise _no_columns()
    found = [
        (row[number_at].strip(), row[name_at].strip(), at)
        for at, row in enumerate(rows[1:], start=2)
        if len(row) > max(number_at, name_at) and row[number_at].strip()
    ]
    if not found or len(found) > MAX_ROWS:
        raise ListLookupError(
            "list_size", f"名单应有 1 至 {MAX_ROWS} 行", f"a list holds 1 to {MAX_ROWS} rows", EXIT_USAGE
        )
    return found


def _no_columns() -> ListLookupError:
    return ListLookupError(
        "list_columns",
        "名单需要“证书编号”和“姓名”两列（首行为列名）",
        "the list needs the columns 证书编号 (certificate_number) and 姓名 (holder_name), named in its first row",
        EXIT_USAGE,
    )


def _csv_rows(data: bytes) -> list[list[str]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("gb18030", errors="replace")  # Excel in China saves CSV as GBK
    return [row for row in csv.reader(io.StringIO(text)) if any(cell.strip() for cell in row)]


def _xlsx_rows(data: bytes) -> list[list[str]]:
    from openpyxl import load_workbook

    try:
        sheet = load_workbook(io.BytesIO(data), read_only=True, data_only=True).active
        return [
            ["" if cell is None else str(cell) for cell in row]
            for row in sheet.iter_rows(values_only=True)
            if any(cell is not None for cell in row)
        ]
    except Exception as e:  # openpyxl raises many kinds for a damaged file
        raise ListLookupError(
            "list_unreadable", "表格文件无法读取", "the XLSX file cannot be read", EXIT_USAGE
        ) from e


class _Registry:
    """The employer endpoints of one registry, with the account's token."""

    def __init__(self, credentials: Path) -> None:
        try:
            found = json.loads(credentials.read_text(encoding="utf-8"))
            self.url, token = str(found["registry"]).rstrip("/"), str(found["token"])
        except (OSError, ValueError, KeyError, TypeError) as e:
            raise ListLookupError(
                "credentials_invalid",
                f"无法读取凭据文件 {credentials}",
                f"cannot read {credentials}",
                EXIT_USAGE,
            ) from e
        self._client = httpx.Client(timeout=60, headers={"Authorization": f"Bearer {token}"})

    def call(self, method: str, path: str, body: Any = None) -> dict[str, Any]:
        try:
            response = self._client.request(method, self.url + path, json=body)
            answer = response.json()
        except (httpx.HTTPError, ValueError) as e:
            raise ListLookupError(
                "registry_unreachable", "无法连接登记系统", f"cannot reach the registry: {e}", EXIT_REGISTRY
            ) from e
        if response.status_code != 200 or not isinstance(answer, dict):
            body_ = answer if isinstance(answer, dict) else {}
            raise ListLookupError(
                str(body_.get("code", "registry_refused")),
                str(body_.get("message_zh", "登记系统拒绝了请求")),
                str(body_.get("message_en", f"the registry answered HTTP {response.status_code}")),
                EXIT_REGISTRY,
            )
        return answer

    def close(self) -> None:
        self._client.close()


def lookup_all(
    registry: _Registry,
    pairs: list[tuple[str, str, int]],
    file: str,
    progress: Callable[[int, int], None] | None = None,
) -> list[dict[str, Any]]:
    """Every row's answer, after making sure today's quota covers the whole list."""
    left = int(registry.call("GET", "/api/v1/employers/me")["remaining_today"])
    if left < len(pairs):
        raise ListLookupError(
            "quota_exceeded",
            f"本账户今日还可查询 {left} 条，名单有 {len(pairs)} 条，未执行任何查询",
            f"{left} lookups left today for {len(pairs)} rows: nothing was asked",
            EXIT_REGISTRY,
        )
    results: list[dict[str, Any]] = []
    for start in range(0, len(pairs), CHUNK):
        chunk = pairs[start : start + CHUNK]
        body = {"queries": [{"certificate_number": n, "holder_name": name} for n, name, _ in chunk]}
        answers = registry.call("POST", "/api/v1/employers/lookup", body)["results"]
        results += [_result(answer, pair, file) for answer, pair in zip(answers, chunk, strict=True)]
        if progress is not None:
            progress(len(results), len(pairs))
    return results


def _result(answer: dict[str, Any], pair: tuple[str, str, int], file: str) -> dict[str, Any]:
    """A row shaped like a bulk verification result, so the report reads the same."""
    number, name, row = pair
    found = (answer.get("certificates") or [None])[0]
    if not answer.get("found") or found is None:
        zh, en, _ = LABELS["not_found"]
        return {"outcome": "not_found", "outcome_label": {"zh": zh, "en": en}, "code": "not_found",
                "message_zh": "未查到与该姓名相符的证书",
                "credential": {"certificate_number": number, "holder_name": name}, "institution": {},
                "source": {"file": file, "row": row}}  # fmt: skip
    status = str(found["status"])
    reason = ""
    if status != "valid":
        reason = f"{LABELS[status][0]}于 {found.get('status_date') or '—'}，原因类别：{found.get('reason_category_zh') or '—'}"
    return {
        "outcome": status,
        "code": status,
        "message_zh": reason,
        "credential": found["certificate"],
        "institution": found["institution"],
        "status_date": found.get("status_date"),
        "reason_category": found.get("reason_category"),
        "source": {"file": file, "row": row},
    }


def _lookup(args: argparse.Namespace) -> int:
    try:
        pairs = read_list(args.list)
        registry = _Registry(args.credentials)
        try:
            results = lookup_all(registry, pairs, args.list.name, None if args.json else _progress)
        finally:
            registry.close()
    except ListLookupError as e:
        report_error(e.code, e.zh, e.en)
        return e.exit_code
    if args.report is not None:
        data = report_csv(results) if args.report.suffix.lower() == ".csv" else report_xlsx(results)
        args.report.write_bytes(data)
    return _print(results, args.json)


def _print(results: list[dict[str, Any]], as_json: bool) -> int:
    counts = Counter(result["outcome"] for result in results)
    if as_json:
        print(json.dumps({"results": results, "counts": counts}, ensure_ascii=False, indent=2))
    else:
        for result in results:
            zh, en, symbol = LABELS[result["outcome"]]
            who = f"{result['credential'].get('certificate_number', '')} {result['credential'].get('holder_name', '')}"
            reason = f" — {result['message_zh']}" if result["outcome"] != "valid" else ""
            print(
                f"第 {result['source']['row']} 行 row: {symbol} {zh} / {en} [{result['outcome']}] {who}{reason}"
            )
        summary = ", ".join(f"{LABELS[o][0]} {o} {counts[o]}" for o in LABELS if counts[o])
        print(f"共 {len(results)} 行 rows: {summary}")
    return 0 if counts["valid"] == len(results) else EXIT_NOT_ALL_VALID


def _progress(done: int, total: int) -> None:
    filled = 30 * done // max(total, 1)
    print(f"\r查询 lookup [{'█' * filled}{' ' * (30 - filled)}] {done}/{total}", end="\n" if done == total else "",
          flush=True)  # fmt: skip
