"""Small helpers every part's commands share: bilingual error lines and reading a passphrase."""

from __future__ import annotations

import getpass
import os
import sys

PASSPHRASE_ENV = "SKILLPASS_KEY_PASSPHRASE"  # noqa: S105 - the name of a variable, not a secret


def report_error(code: str, message_zh: str, message_en: str) -> int:
    """Print one actionable error line in Chinese and English and return exit code 2."""
    print(f"错误 error [{code}]: {message_zh} / {message_en}", file=sys.stderr)
    return 2


def read_passphrase(*, confirm: bool = False) -> str:
    """The key passphrase from ``SKILLPASS_KEY_PASSPHRASE``, else asked for without echo."""
    from_env = os.environ.get(PASSPHRASE_ENV)
    if from_env is not None:
        return from_env
    if not sys.stdin.isatty():
        raise SystemExit(
            report_error(
                "passphrase_missing",
                f"请设置环境变量 {PASSPHRASE_ENV} 或在终端中输入口令",
                f"set {PASSPHRASE_ENV} or run in a terminal to type the passphrase",
            )
        )
    passphrase = getpass.getpass("密钥口令 key passphrase: ")
    if confirm and getpass.getpass("再次输入 repeat: ") != passphrase:
        raise SystemExit(
            report_error("passphrase_mismatch", "两次输入的口令不一致", "the passphrases differ")
        )
    return passphrase
