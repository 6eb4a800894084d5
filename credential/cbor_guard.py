"""A structural pre-scan of CBOR bytes, run before any decoder allocates anything.

It walks item headers only, so it costs one pass over at most a few kilobytes, and it enforces
the strict profile skillpass credentials use: definite lengths only, no floats, a tag only at
the top (COSE_Sign1's 18), bounded nesting and item counts, and nothing after the one item.
"""

from __future__ import annotations

from credential.constants import Limits
from credential.errors import CredentialError

_UINT, _NEGINT, _BYTES, _TEXT, _ARRAY, _MAP, _TAG, _SIMPLE = range(8)
_SIMPLE_VALUES = frozenset({20, 21, 22})  # false, true, null


def check_structure(data: bytes, limits: Limits) -> None:
    """Raise ``CredentialError`` unless ``data`` is exactly one well-formed item within limits."""
    end = _scan(data, limits)
    if end != len(data):
        raise CredentialError("cbor_trailing", f"{len(data) - end} bytes after the item")


def _scan(data: bytes, limits: Limits) -> int:
    """Walk the item headers; returns the offset just after the one top-level item.

    The header reading is inlined: this loop runs for every credential a verifier sees.
    """
    pos, items, size = 0, 0, len(data)
    max_items, max_depth = limits.max_cbor_items, limits.max_cbor_depth
    # Each stack entry counts the items its container still expects.
    pending: list[int] = [1]
    while pending:
        if pending[-1] == 0:
            pending.pop()
            continue
        pending[-1] -= 1
        items += 1
        if items > max_items:
            raise CredentialError("cbor_too_complex", "too many items")
        if pos >= size:
            raise CredentialError("cbor_invalid", "truncated")
        initial = data[pos]
        major, argument = initial >> 5, initial & 0x1F
        pos += 1
        if argument >= 24:
            if argument > 27 or major == _SIMPLE:
                raise CredentialError("cbor_invalid", "indefinite lengths, floats and reserved values")
            end = pos + (1 << (argument - 24))
            if end > size:
                raise CredentialError("cbor_invalid", "truncated")
            argument, pos = int.from_bytes(data[pos:end], "big"), end
        if major in (_BYTES, _TEXT):
            pos += argument
            if pos > size:
                raise CredentialError("cbor_invalid", "a string runs past the end")
        elif major in (_ARRAY, _MAP):
            if argument > max_items:
                raise CredentialError("cbor_too_complex", "a container is too large")
            pending.append(argument * 2 if major == _MAP else argument)
            if len(pending) > max_depth:
                raise CredentialError("cbor_too_complex", "nested too deeply")
        elif major == _TAG:
            if len(pending) > 1:
                raise CredentialError("cbor_invalid", "tags are only allowed at the top")
            pending[-1] += 1
            items -= 1
        elif major == _SIMPLE and argument not in _SIMPLE_VALUES:
            raise CredentialError("cbor_invalid", "only false, true and null are allowed")
    return pos
