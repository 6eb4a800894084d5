"""Creating and opening a registry's data directory.

Layout of ``DIR`` (files 0600, directory 0700)::

    registry-key.json   the registry's Ed25519 key, encrypted with the passphrase (Argon2id + SecretBox)
    hmac.key            the secret keying the ID-number digests (hex)
    registry.json       the database URL (when not the default) and public URL chosen at init
    admin.token         the first admin token (also printed once by ``skillpass registry init``)
    registry.sqlite3    the default database
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from keys import Signer, read_private_key, write_private_key
from registry import migrate
from registry.audit import append_event
from registry.clock import Now
from registry.db import Database, default_database_url
from registry.errors import RegistryError
from registry.settings import Settings
from registry.tokens import ADMIN, create_token

DATABASE_URL_ENV = "SKILLPASS_DATABASE_URL"
DEFAULT_PUBLIC_URL = "http://127.0.0.1:8700"
KEY_FILE = "registry-key.json"
HMAC_FILE = "hmac.key"
CONFIG_FILE = "registry.json"
ADMIN_TOKEN_FILE = "admin.token"  # noqa: S105 (a file name)


@dataclass(frozen=True)
class Initialised:
    """What ``init_registry`` made: the settings to serve it and the first admin token."""

    settings: Settings
    admin_token: str


def write_secret_file(path: Path, text: str) -> None:
    """Create ``path`` with mode 0600 (refusing to overwrite) and write ``text``."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)


def resolve_database_url(data_dir: Path, database_url: str | None) -> str:
    """``--database-url``, else ``SKILLPASS_DATABASE_URL``, else the URL saved at init, else SQLite in DIR."""
    if database_url:
        return database_url
    from_env = os.environ.get(DATABASE_URL_ENV)
    if from_env:
        return from_env
    saved = _saved(data_dir, "database_url")
    return saved or default_database_url(data_dir)


def resolve_public_url(data_dir: Path, public_url: str | None) -> str:
    """``--public-url``, else the URL saved at init, else the local default."""
    return public_url or _saved(data_dir, "public_url") or DEFAULT_PUBLIC_URL


def _saved(data_dir: Path, key: str) -> str | None:
    config = data_dir / CONFIG_FILE
    if not config.exists():
        return None
    value = json.loads(config.read_text(encoding="utf-8")).get(key)
    return value if isinstance(value, str) and value else None


def init_registry(
    data_dir: Path, database_url: str | None, passphrase: str, public_url: str | None = None, **overrides: Any
) -> Initialised:
    """Create the schema, the registry key, the HMAC secret and the first admin token."""
    data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    if (data_dir / KEY_FILE).exists():
        raise RegistryError("registry_exists", str(data_dir))
    url = resolve_database_url(data_dir, database_url)
    signer = Signer.generate()
    write_private_key(data_dir / KEY_FILE, signer, passphrase)
    secret = secrets.token_bytes(32)
    write_secret_file(data_dir / HMAC_FILE, secret.hex() + "\n")
    public = public_url or DEFAULT_PUBLIC_URL
    write_secret_file(
        data_dir / CONFIG_FILE, json.dumps({"database_url": database_url, "public_url": public}) + "\n"
    )
    settings = replace(
        Settings(database_url=url, signer=signer, hmac_secret=secret, public_url=public), **overrides
    )
    db = Database(url)
    try:
        migrate.upgrade(db.engine)
        now = Now.read(settings.clock)

        def first_admin(conn: Any) -> str:
            token, stored = create_token(conn, role=ADMIN, institution_code=None, now=now.unix)
            append_event(
                conn,
                time=now.unix,
                actor="init",
                action="registry.init",
                subject=signer.public_key.kid_b64,
                data={"registry_key": signer.public_key.kid_b64, "admin_token": stored[:12]},
            )
            return token

        token = db.write(first_admin)
    finally:
        db.dispose()
    database_file = data_dir / "registry.sqlite3"
    if database_file.exists():
        database_file.chmod(0o600)
    write_secret_file(data_dir / ADMIN_TOKEN_FILE, token + "\n")
    return Initialised(settings, token)


def open_registry(
    data_dir: Path,
    passphrase: str,
    database_url: str | None = None,
    public_url: str | None = None,
    **overrides: Any,
) -> Settings:
    """Settings for an initialised data directory (and the schema upgraded to the newest)."""
    if not (data_dir / KEY_FILE).exists():
        raise RegistryError("registry_uninitialised", str(data_dir))
    signer = read_private_key(data_dir / KEY_FILE, passphrase)
    secret = bytes.fromhex((data_dir / HMAC_FILE).read_text(encoding="utf-8").strip())
    url = resolve_database_url(data_dir, database_url)
    db = Database(url)
    try:
        migrate.upgrade(db.engine)
    finally:
        db.dispose()
    public = resolve_public_url(data_dir, public_url)
    return replace(
        Settings(database_url=url, signer=signer, hmac_secret=secret, public_url=public), **overrides
    )
