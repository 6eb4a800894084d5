"""Personal names: scripts, separators, and normalisation of dot variants."""

from __future__ import annotations

import pytest

from schemas.names import name_is_valid, normalise_name


@pytest.mark.parametrize(
    "name",
    [
        "张三丰",
        "𠮷田",
        "买买提·艾力",
        "阿卜杜热合曼·买买提艾力",
        "John Smith",
        "JOHN·SMITH",
        "José Müller",
        "王〇",
        "김민준",
    ],
)
def test_valid_names(name: str) -> None:
    assert name_is_valid(name)


@pytest.mark.parametrize(
    "name",
    [
        "",
        "张三1",
        "·张三",
        "张三·",
        "买买提··艾力",
        "张 三",  # spaces only between Latin-script parts
        "John  Smith",
        " John",
        "John ",
        "O'Brien",
        "张三!",
        "\u0301张",  # a combining mark cannot start a part
        "张\u3000三",  # ideographic space
        "张\u200b三",  # zero-width space
        "买买提.艾力",  # full stops are not name separators
    ],
)
def test_invalid_names(name: str) -> None:
    assert not name_is_valid(name)


@pytest.mark.parametrize("dot", ["\u2022", "\u2027", "\u2219", "\u22c5", "\u30fb", "\uff65", "\u0387"])
def test_dot_variants_normalise_to_middle_dot(dot: str) -> None:
    typed = f"买买提{dot}艾力"
    assert not name_is_valid(typed)
    assert normalise_name(typed) == "买买提·艾力"
    assert name_is_valid(normalise_name(typed))


def test_full_stops_are_not_normalised() -> None:
    assert normalise_name("买买提．艾力") == "买买提．艾力"


def test_normalise_applies_nfc() -> None:
    assert normalise_name("Jose\u0301") == "José"
    assert not name_is_valid("Jose\u0301")
