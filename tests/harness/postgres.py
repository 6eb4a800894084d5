"""A throwaway PostgreSQL server built from the machine's own binaries, and fresh databases on it.

The tests need a *real* PostgreSQL (the registry's storage must behave the same on SQLite and on
PostgreSQL), but CI is a bare Debian machine with no running cluster and no network. So we initdb a
cluster in a temporary directory, tuned for speed (no fsync), listening only on loopback.

Cleanup must survive anything short of a power cut: a small watchdog process holds the read end of a
pipe whose write end only we hold. When we close it - or when we die, even by SIGKILL - the watchdog
stops the server and deletes the directory. Both run in their own session so that Ctrl-C in the
terminal reaches pytest (which then stops the server cleanly) and not them.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql

from harness.ports import free_port

__all__ = ["ENV_VAR", "PostgresError", "PostgresServer", "fresh_database", "start_postgres"]

ENV_VAR = "SKILLPASS_TEST_POSTGRES_URL"
_PG_ROOT = Path("/usr/lib/postgresql")
_SETTINGS = {
    "listen_addresses": "'127.0.0.1'",
    "fsync": "off",
    "full_page_writes": "off",
    "synchronous_commit": "off",
    "max_connections": "200",
    "log_min_messages": "warning",
}
_ATTEMPTS = 3


class PostgresError(RuntimeError):
    """The test PostgreSQL could not be started or used; the message says what to fix."""


@dataclass(frozen=True)
class PostgresServer:
    """A running test server; `url` is a SQLAlchemy URL to its `postgres` database."""

    url: str
    port: int
    directory: Path
    _watchdog: subprocess.Popen[bytes]

    def stop(self) -> None:
        """Close the watchdog's pipe and wait until it has stopped the server and removed the files."""
        _finish(self._watchdog)


def start_postgres() -> PostgresServer:
    """Initialise and start a fresh cluster on a free loopback port; the caller must `stop()` it."""
    bin_dir = _newest_bin_dir()
    directory = Path(tempfile.mkdtemp(prefix="skillpass-pg-"))
    as_postgres = _as_postgres_prefix()
    if as_postgres:
        shutil.chown(directory, user="postgres", group="postgres")
    data = directory / "data"
    pg_ctl = [*as_postgres, str(bin_dir / "pg_ctl"), "-D", str(data)]
    watchdog = _spawn_watchdog(pg_ctl, directory)
    try:
        _run([*as_postgres, str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust",
              "-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions"])  # fmt: skip
        port = _start_on_free_port(pg_ctl, data, directory)
    except BaseException:
        _finish(watchdog)
        raise
    url = f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
    return PostgresServer(url=url, port=port, directory=directory, _watchdog=watchdog)


@contextlib.contextmanager
def fresh_database(server_url: str) -> Iterator[str]:
    """Create an empty database `test_<random>` on the server, yield its URL, then drop it.

    The drop uses FORCE so that a test which leaks a connection pool cannot wedge the teardown.
    """
    name = f"test_{secrets.token_hex(6)}"
    with _admin_connection(server_url) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield server_url.rsplit("/", 1)[0] + "/" + name
    finally:
        with _admin_connection(server_url) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def _admin_connection(server_url: str) -> psycopg.Connection[tuple[object, ...]]:
    conninfo = server_url.replace("postgresql+psycopg://", "postgresql://", 1)
    try:
        return psycopg.connect(conninfo, autocommit=True, connect_timeout=10)
    except psycopg.Error as e:
        raise PostgresError(f"cannot reach the test PostgreSQL at {server_url}: {e}") from e


def _newest_bin_dir() -> Path:
    candidates = [p for p in _PG_ROOT.glob("*/bin") if (p / "initdb").is_file() and p.parent.name.isdigit()]
    if not candidates:
        raise PostgresError(
            f"no PostgreSQL binaries under {_PG_ROOT}/*/bin; run scripts/setup (apt package postgresql)"
        )
    return max(candidates, key=lambda p: int(p.parent.name))


def _as_postgres_prefix() -> list[str]:
    """PostgreSQL refuses to run as root, so root runs its binaries as the `postgres` user."""
    return ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []


def _spawn_watchdog(pg_ctl: list[str], directory: Path) -> subprocess.Popen[bytes]:
    script = 'cat >/dev/null; "$@" stop -m immediate -w >/dev/null 2>&1; rm -rf "$0"'
    return subprocess.Popen(
        ["sh", "-c", script, str(directory), *pg_ctl],
        stdin=subprocess.PIPE,
        start_new_session=True,
    )


def _finish(watchdog: subprocess.Popen[bytes]) -> None:
    if watchdog.stdin is not None:
        watchdog.stdin.close()
    watchdog.wait(timeout=60)


def _start_on_free_port(pg_ctl: list[str], data: Path, directory: Path) -> int:
    """Another process may grab the port between our probe and the server's bind, so retry."""
    failure = ""
    for _ in range(_ATTEMPTS):
        port = free_port()
        settings = {**_SETTINGS, "port": str(port), "unix_socket_directories": f"'{directory}'"}
        with (data / "postgresql.auto.conf").open("w", encoding="utf-8") as conf:
            conf.writelines(f"{key} = {value}\n" for key, value in settings.items())
        log = directory / "server.log"
        result = subprocess.run(
            [*pg_ctl, "start", "-w", "-t", "60", "-l", str(log)],
            capture_output=True,
            start_new_session=True,
            check=False,
        )
        if result.returncode == 0:
            return port
        failure = result.stderr.decode(errors="replace") + _tail(log)
    raise PostgresError(f"PostgreSQL did not start after {_ATTEMPTS} attempts:\n{failure}")


def _tail(log: Path) -> str:
    try:
        return log.read_text(encoding="utf-8", errors="replace")[-2000:]
    except OSError:
        return ""


def _run(argv: list[str]) -> None:
    result = subprocess.run(argv, capture_output=True, start_new_session=True, check=False)
    if result.returncode != 0:
        output = (result.stdout + result.stderr).decode(errors="replace")
        raise PostgresError(f"{argv[-12:]!r} failed with exit code {result.returncode}:\n{output}")
