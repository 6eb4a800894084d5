"""Commands of the verifier (filled in by its issue)."""

from __future__ import annotations

from typing import Any


def add_commands(subparsers: Any) -> None:
    """Register this part's commands."""
