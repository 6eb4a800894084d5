"""Every command, option and argument of `skillpass` explains itself in Chinese first, then English."""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from collections.abc import Iterator

from skillpass.cli import build_parser

_CJK = re.compile(r"[\u4e00-\u9fff]")
_LATIN_WORD = re.compile(r"[A-Za-z]{3,}")


def _helps(parser: argparse.ArgumentParser, path: str) -> Iterator[tuple[str, str | None]]:
    for action in parser._actions:
        if isinstance(action, argparse._HelpAction) or action.help == argparse.SUPPRESS:
            continue
        if isinstance(action, argparse._SubParsersAction):
            for choice in action._choices_actions:
                yield f"{path} {choice.dest}", choice.help
            for name, sub in action.choices.items():
                yield from _helps(sub, f"{path} {name}")
        else:
            yield f"{path} {'/'.join(action.option_strings) or action.dest}", action.help


def test_every_help_is_chinese_first_then_english() -> None:
    helps = list(_helps(build_parser(), "skillpass"))
    assert len(helps) > 80  # the walk reached every subcommand
    not_bilingual = []
    for where, text in helps:
        parts = re.split(r" ?/ ", text or "", maxsplit=1)
        if not (len(parts) == 2 and _CJK.search(parts[0]) and _LATIN_WORD.search(parts[1])):
            not_bilingual.append(f"{where}: {text!r}")
    assert not not_bilingual, "help that is not 「中文 / English」:\n" + "\n".join(not_bilingual)


def test_the_help_a_person_reads_shows_both_languages() -> None:
    shown = subprocess.run(
        [sys.executable, "-m", "skillpass.cli", "verify", "--help"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "持证人姓名" in shown and "holder's name" in shown
