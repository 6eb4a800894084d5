"""The byte-level shortcut of the unstorable-string check: a body it lets through has, once parsed, no
NUL and no lone surrogate anywhere; every body that could hold one is walked as before."""

from __future__ import annotations

import json

import pytest

from registry.json_body import _plainly_storable, unstorable_error

_WALKED = [
    b'{"a": "\\u0000"}',
    b'{"a": "\\ud800"}',
    b'{"\\udfff": 1}',
    b'{"a": "\xed\xa0\x80"}',  # a surrogate encoded as UTF-8: the parser passes it through
    '{"a": "\ud800"}'.encode("utf-16-le", "surrogatepass"),
    '{"a": "x"}'.encode("utf-16"),
    b'\xef\xbb\xbf{"a": "x"}',
    b'{"a": "\\uDBFF\\uDFFF"}',  # a pair: walked, though storable
    b'{"a": "\\\\u0000"}',  # an escaped backslash: walked, though harmless
]


@pytest.mark.parametrize("body", _WALKED)
def test_a_body_that_could_hold_an_unstorable_string_is_walked(body: bytes) -> None:
    assert not _plainly_storable(body)


def test_escaped_neighbours_of_the_surrogates_are_not_taken_for_them() -> None:
    body = json.dumps({"a": "\ud7ff\ue000\u0001"}).encode()  # \\ud7ff, \\ue000, \\u0001 escapes
    assert _plainly_storable(body)
    assert unstorable_error(json.loads(body)) is None


def test_a_body_without_surrogates_or_nul_is_not_walked() -> None:
    body = json.dumps(
        {"rows": [{"holder_name": "张三丰", "a": ["欧阳明月\u0001", None]}]}, ensure_ascii=False
    )
    assert _plainly_storable(body.encode())
    assert _plainly_storable(json.dumps(json.loads(body)).encode())


def test_the_walked_bodies_that_hold_one_are_refused() -> None:
    for body in _WALKED[:5]:
        assert unstorable_error(json.loads(body)) is not None
