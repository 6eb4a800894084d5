"""The institution's credentials file: where the registry is, which institution we are, and the token.

``skillpass registry admin create-token --out`` writes it (``{"registry", "institution_code", "token"}``,
mode 0600); every issuer command and the institution console read it through ``load_credentials``.
"""

from __future__ import annotations

import json
import stat
import sys
from dataclasses import dataclass
from pathlib import Path

from issuer.run import IssueError


@dataclass(frozen=True)
class Credentials:
    """Where the registry is, which institution we are, and the token that proves it."""

    registry: str
    institution_code: str
    token: str


def load_credentials(path: Path) -> Credentials:
    """Read and check a credentials file; warns when others may read it."""
    try:
        mode = path.stat().st_mode
        document = json.loads(path.read_text("utf-8"))
    except OSError as e:
        raise IssueError(
            "credentials_unreadable",
            f"无法读取凭据文件 {path}：{e.strerror}",
            f"cannot read the credentials file {path}: {e.strerror}",
        ) from e
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise _bad_credentials(path) from e
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        print(
            f"警告 warning: 凭据文件 {path} 可被他人读取，请执行 chmod 600 / the credentials file is readable by "
            "others: run chmod 600",
            file=sys.stderr,
        )
    fields = ("registry", "institution_code", "token")
    if not isinstance(document, dict) or not all(
        isinstance(document.get(f), str) and document[f] for f in fields
    ):
        raise _bad_credentials(path)
    return Credentials(document["registry"], document["institution_code"], document["token"])


def _bad_credentials(path: Path) -> IssueError:
    return IssueError(
        "credentials_invalid",
        f"凭据文件 {path} 格式不正确：应为含 registry、institution_code、token 的 JSON",
        f"the credentials file {path} is malformed: expected JSON with registry, institution_code and token",
    )
