"""``skillpass registry review list | show | decide``: the console's review queue for scripts.

Works on the registry's database like the other admin commands, but as a person: ``decide`` signs
in with a console account (``--username``, password on standard input, the same lockout) and every
decision is audited as ``console:<username>``, exactly as in the browser. Output is a table, or
JSON with ``--json``; exit 0 on success, 1 when the sign-in is refused, 2 on other errors.
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from pathlib import Path
from typing import Any

from sqlalchemy import Connection

from common.cli_support import report_error
from keys import Signer
from registry import approval, batch_report, batches
from registry.batches import SUBMITTED
from registry.clock import Now
from registry.console import accounts
from registry.console.review import batch_summaries, day_of
from registry.db import Database
from registry.errors import RegistryError
from registry.schema import batches as batches_table
from registry.settings import Settings, system_clock
from registry.setup import HMAC_FILE, KEY_FILE, resolve_database_url
from registry.tokens import ADMIN, Principal


def add_commands(registry_commands: Any, common: Any) -> None:
    """Register ``skillpass registry review ...`` under the registry's subcommands."""
    review = registry_commands.add_parser("review", help="结果审核 / review submitted batches")
    actions = review.add_subparsers(dest="review_command", metavar="ACTION", required=True)
    listing = actions.add_parser("list", help="待审核批次 / batches awaiting review")
    common(listing)
    listing.add_argument(
        "--all", action="store_true", help="全部批次，不只待审核的 / every batch, not only those in review"
    )
    listing.add_argument("--json", action="store_true", help="以 JSON 输出 / print JSON")
    listing.set_defaults(handler=_list)
    show = actions.add_parser("show", help="批次明细及校验结果 / one batch's rows with their checks")
    common(show)
    _batch_args(show)
    show.add_argument("--json", action="store_true", help="以 JSON 输出 / print JSON")
    show.set_defaults(handler=_show)
    decide = actions.add_parser(
        "decide",
        help="以控制台账号审核通过或不通过（密码从标准输入读）/ approve or reject rows as a console user (password on stdin)",
    )
    common(decide)
    _batch_args(decide)
    decide.add_argument(
        "--username",
        required=True,
        help="你的控制台账号（admin 或 reviewer）/ your console account (admin or reviewer)",
    )
    what = decide.add_mutually_exclusive_group(required=True)
    what.add_argument(
        "--approve-all",
        action="store_true",
        help="通过所有校验合格的待审核行 / approve every pending row that passes",
    )
    what.add_argument(
        "--approve", type=_rows, help="要通过的行号，如 1,2,5 / row numbers to approve, e.g. 1,2,5"
    )
    what.add_argument(
        "--reject", type=_rows, help="不通过的行号（需 --reason）/ row numbers to reject (needs --reason)"
    )
    decide.add_argument("--reason", default="", help="不通过原因 / the reason for a rejection")
    decide.add_argument("--json", action="store_true", help="以 JSON 输出 / print JSON")
    decide.set_defaults(handler=_decide)


def _rows(text: str) -> list[int]:
    try:
        found = [int(part) for part in text.split(",") if part.strip()]
    except ValueError as e:
        raise argparse.ArgumentTypeError("row numbers separated by commas, e.g. 1,2,5") from e
    if not found or any(n < 1 for n in found):
        raise argparse.ArgumentTypeError("row numbers separated by commas, e.g. 1,2,5")
    return found


def _batch_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("batch_id", help="机构的批次号 / the institution's batch id")
    parser.add_argument(
        "--institution",
        help="机构代码（多个机构用同一批次号时）/ institution code, when several use that batch id",
    )


def read_password() -> str:
    """A password from standard input: the terminal asks twice, a pipe gives its first line."""
    if sys.stdin.isatty():
        first = getpass.getpass("密码 password: ")
        if getpass.getpass("再次输入 again: ") != first:
            raise RegistryError("password_mismatch")
        return first
    return sys.stdin.readline().rstrip("\r\n")


def _fail(error: RegistryError) -> int:
    return report_error(error.code, error.message_zh, error.message_en)


def _database(args: argparse.Namespace) -> Database:
    if not (Path(args.data_dir) / KEY_FILE).exists():
        raise RegistryError("registry_uninitialised", str(args.data_dir))
    return Database(resolve_database_url(args.data_dir, args.database_url))


_READER = Principal(role=ADMIN, institution_code=None, token_id="cli")  # noqa: S106 (an audit name, only reads)


def _list(args: argparse.Namespace) -> int:
    try:
        db = _database(args)
        with db.read() as conn:
            found = batch_summaries(conn, [] if args.all else [batches_table.c.state == SUBMITTED])
        db.dispose()
    except RegistryError as e:
        return _fail(e)
    items = [
        {
            "institution_code": b.institution_code,
            "institution_name": b.name,
            "batch_id": b.batch_id,
            "submitted": day_of(b.submitted_at),
            "state": b.state,
            "rows": b.total,
            "pending": int(b.pending or 0),
            "invalid": int(b.invalid or 0),
        }
        for b in found
    ]
    if args.json:
        print(json.dumps(items, ensure_ascii=False, indent=2))
        return 0
    print("机构 institution\t批次 batch\t提交 submitted\t行 rows\t待审 pending\t无效 invalid")
    for i in items:
        print(
            f"{i['institution_code']} {i['institution_name']}\t{i['batch_id']}\t{i['submitted']}\t{i['rows']}\t{i['pending']}\t{i['invalid']}"
        )
    return 0


def _report(conn: Connection, args: argparse.Namespace) -> dict[str, Any]:
    return batch_report.batch_json(conn, batches.find_batch(conn, args.batch_id, _READER, args.institution))


def _print_report(report: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print(json.dumps(report, ensure_ascii=False, indent=2))
        return
    print(f"{report['institution_code']} {report['batch_id']} {report['state']}")
    for row in report["rows"]:
        problems = "; ".join(f"{p.get('pointer', '')} {p.get('message_zh', '')}" for p in row["problems"])
        number = row.get("certificate", {}).get("certificate_number", "")
        print(f"{row['row']}\t{row['state']}\t{number}\t{problems}{row.get('reason', '')}")


def _show(args: argparse.Namespace) -> int:
    try:
        db = _database(args)
        with db.read() as conn:
            report = _report(conn, args)
        db.dispose()
    except RegistryError as e:
        return _fail(e)
    _print_report(report, args.json)
    return 0


def _body(args: argparse.Namespace) -> dict[str, Any]:
    if args.approve_all:
        return {"approve_all_valid": True}
    if args.reject and not args.reason.strip():
        raise RegistryError("invalid_request", "--reject needs --reason")
    approve = args.approve is not None
    numbers = args.approve if approve else args.reject
    return {"decisions": [{"row": n, "approve": approve, "reason": args.reason.strip()} for n in numbers]}


def _review_settings(args: argparse.Namespace) -> Settings:
    """What a review needs (the database, the digest secret, status-list sizes) without the registry's
    key: a review signs nothing, so the reviewer need not know the key's passphrase. The signer is a
    throw-away key that nothing here uses."""
    data_dir = Path(args.data_dir)
    if not (data_dir / KEY_FILE).exists():
        raise RegistryError("registry_uninitialised", str(data_dir))
    secret = bytes.fromhex((data_dir / HMAC_FILE).read_text(encoding="utf-8").strip())
    url = resolve_database_url(data_dir, args.database_url)
    return Settings(database_url=url, signer=Signer.generate(), hmac_secret=secret)


def _decide(args: argparse.Namespace) -> int:
    try:
        body = _body(args)
        password = read_password()
        settings = _review_settings(args)
    except RegistryError as e:
        return _fail(e)
    db = Database(settings.database_url)
    now = Now.read(system_clock)
    try:
        found = db.write(lambda conn: accounts.sign_in(conn, args.username, password, now))
        if isinstance(found, str):
            _fail(RegistryError(found))
            return 1
        if found.role not in (accounts.ADMIN, accounts.REVIEWER):
            return _fail(RegistryError("forbidden", "needs role admin or reviewer"))
        caller = accounts.principal(found)

        def work(conn: Connection) -> dict[str, Any]:
            batch = batches.find_batch(conn, args.batch_id, _READER, args.institution)
            approval.review_batch(conn, batch, body, caller, settings, now)
            return _report(conn, args)

        report = db.write(work)
    except RegistryError as e:
        return _fail(e)
    finally:
        db.dispose()
    _print_report(report, args.json)
    return 0
