"""Recount the published statistics from public data only: the audit log's first N entries (N = the
checkpoint the statistics name), checked against the registry's signed checkpoints, plus the public
directory. Nothing here reads the registry's database.

The log says everything the figures need: ``batch.review`` lists each approved row's certificate
number and occupation code (the number holds the institution code, year and level; the event's time
gives the issue day in China Standard Time), ``certificate.publish`` lists the numbers made
queryable, and ``certificate.revoke | suspend | reinstate`` carry the new status. ``scripts/
recount_statistics`` runs ``main`` against a live registry and says whether its answer agrees.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from common.calendar import registry_day
from keys import from_jwk
from registry.audit_verify import verify_log
from registry.statistics import VALID, Cell, Query, roll_up, suppress

_CHUNK = 10_000
_STATUS_ACTIONS = ("certificate.revoke", "certificate.suspend", "certificate.reinstate")


@dataclass
class _Certificate:
    occupation: str
    month: str
    status: str = VALID
    published: bool = False


class RecountError(Exception):
    """The public data is inconsistent (log broken, unknown institution, malformed event)."""


def cells_from_log(events: Iterable[dict[str, Any]], directory: Sequence[dict[str, Any]]) -> list[Cell]:
    """Replay events (parsed JSON, oldest first) into fine cells of published certificates."""
    known = {i["code"]: i for i in directory}
    certificates: dict[str, _Certificate] = {}
    for event in events:
        action, data = event.get("action"), event.get("data") or {}
        if action == "batch.review":
            month = registry_day(event["time"]).strftime("%Y-%m")
            for entry in data.get("approved", []):
                occupation = str(entry[2]) if len(entry) > 2 else ""
                certificates[str(entry[1])] = _Certificate(occupation, month)
        elif action == "certificate.publish":
            for entry in data.get("published", []):
                _found(certificates, str(entry[1])).published = True
        elif action in _STATUS_ACTIONS:
            _found(certificates, str(event["subject"])).status = str(data["status"])
    counts: Counter[tuple[str, str, int, str, str]] = Counter()
    for number, cert in certificates.items():
        if not cert.published:
            continue
        institution = number[:13]
        if institution not in known or known[institution].get("category") != institution[0]:
            raise RecountError(f"certificate {number}: institution {institution} is not in the directory")
        counts[(institution, cert.occupation, int(number[15]), cert.month, cert.status)] += 1
    return [Cell(*key, count=n) for key, n in sorted(counts.items())]


def _found(certificates: dict[str, _Certificate], number: str) -> _Certificate:
    if number not in certificates:
        raise RecountError(f"certificate {number} changes before any approval names it")
    return certificates[number]


def fetch_log(client: httpx.Client, size: int) -> dict[str, Any]:
    """The first ``size`` entries and every checkpoint no larger, as ``audit_verify`` reads a copy."""
    entries: list[dict[str, Any]] = []
    for start in range(0, size, _CHUNK):
        answer = client.get(
            "/api/v1/audit/entries", params={"start": start, "end": min(size, start + _CHUNK)}
        )
        answer.raise_for_status()
        entries.extend(answer.json()["entries"])
    checkpoints = client.get("/api/v1/audit/checkpoints")
    checkpoints.raise_for_status()
    kept = [c for c in checkpoints.json()["checkpoints"] if c["size"] <= size]
    return {"entries": entries, "checkpoints": kept}


def recount(client: httpx.Client, query: Query, registry_jwk: object) -> dict[str, Any]:
    """Fetch the registry's answer, recount it from the log and directory, and compare."""
    params = {"group_by": ",".join(query.group_by), "from": query.start or "", "to": query.end or ""}
    published = client.get("/api/v1/statistics", params=params)
    published.raise_for_status()
    answer = published.json()
    size = int(answer["as_of_checkpoint"])
    copy = fetch_log(client, size)
    if not any(c["size"] == size for c in copy["checkpoints"]):
        raise RecountError(f"no signed checkpoint of size {size}")
    finding = verify_log(copy, from_jwk(registry_jwk))
    if not finding.ok:
        raise RecountError(f"audit log inconsistent at {finding.index}: {finding.message}")
    directory = client.get("/api/v1/institutions")
    directory.raise_for_status()
    events = (json.loads(e["data"]) for e in copy["entries"])
    cells = cells_from_log(events, directory.json()["institutions"])
    groups = suppress(roll_up(cells, query))
    return {"as_of_checkpoint": size, "groups": groups, "agrees": groups == answer["groups"]}


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: exit 0 when the registry's statistics equal the recount, 1 when they differ."""
    parser = argparse.ArgumentParser(
        description="从公开审计日志和机构目录重新统计并核对人才统计 / recount the talent statistics "
        "from the public audit log and directory and compare"
    )
    parser.add_argument("--registry", required=True, help="登记系统地址 / registry URL")
    parser.add_argument("--group-by", default="year,level", help="分组维度 / grouping, e.g. year,level")
    parser.add_argument("--from", dest="start", default=None, help="起始月份 / first month YYYY-MM")
    parser.add_argument("--to", dest="end", default=None, help="截止月份 / last month YYYY-MM")
    parser.add_argument(
        "--registry-key", help="登记系统公钥 JWK 文件（默认从登记系统获取）/ pinned registry JWK file"
    )
    args = parser.parse_args(argv)
    query = Query.parse(args.group_by, args.start, args.end)
    with httpx.Client(base_url=args.registry.rstrip("/"), timeout=60) as client:
        if args.registry_key:
            with open(args.registry_key, encoding="utf-8") as handle:  # noqa: PTH123
                jwk = json.load(handle)
        else:
            jwk = client.get("/api/v1/registry-key").json()
        try:
            result = recount(client, query, jwk)
        except RecountError as e:
            print(f"核对失败 / recount failed: {e}", file=sys.stderr)
            return 2
    print(json.dumps(result, ensure_ascii=False, indent=1))
    verdict = "一致 / agrees" if result["agrees"] else "不一致 / DIFFERS"
    print(f"截至审计检查点 {result['as_of_checkpoint']}：{verdict}", file=sys.stderr)
    return 0 if result["agrees"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
