"""The audit log's Merkle tree against RFC 6962's recursive definitions, and every tampering we know."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from registry.merkle import (
    EMPTY_ROOT,
    MerkleProofError,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    root_from_leaf_hashes,
    verify_consistency,
    verify_inclusion,
)

MAX_SIZE = 40
EVERY_BIT_UP_TO = 8  # trees this small get every one of 256 bit flips; larger ones one flip per byte


# --- RFC 6962 §2.1, written the way the RFC writes it (recursive, slicing) -------------------------


def _sha(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def _k(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def _mth(leaves: Sequence[bytes]) -> bytes:
    """MTH over leaf *data* (not hashes), as RFC 6962 defines it."""
    if not leaves:
        return _sha(b"")
    if len(leaves) == 1:
        return _sha(b"\x00" + leaves[0])
    k = _k(len(leaves))
    return _sha(b"\x01" + _mth(leaves[:k]) + _mth(leaves[k:]))


def _path(m: int, leaves: Sequence[bytes]) -> list[bytes]:
    if len(leaves) == 1:
        return []
    k = _k(len(leaves))
    if m < k:
        return [*_path(m, leaves[:k]), _mth(leaves[k:])]
    return [*_path(m - k, leaves[k:]), _mth(leaves[:k])]


def _subproof(m: int, leaves: Sequence[bytes], whole: bool) -> list[bytes]:
    n = len(leaves)
    if m == n:
        return [] if whole else [_mth(leaves)]
    k = _k(n)
    if m <= k:
        return [*_subproof(m, leaves[:k], whole), _mth(leaves[k:])]
    return [*_subproof(m - k, leaves[k:], False), _mth(leaves[:k])]


LEAVES = [f"audit event {i}".encode() for i in range(MAX_SIZE)]
HASHES = [leaf_hash(d) for d in LEAVES]
ROOTS = [_mth(LEAVES[:n]) for n in range(MAX_SIZE + 1)]


def _flips(value: bytes, every_bit: bool = True) -> list[bytes]:
    """Single-bit changes of ``value``: all of them, or one per byte (bit position = byte index % 8)."""
    bits = range(len(value) * 8) if every_bit else [8 * i + i % 8 for i in range(len(value))]
    out = []
    for i in bits:
        changed = bytearray(value)
        changed[i // 8] ^= 1 << (i % 8)
        out.append(bytes(changed))
    return out


def _fails(check: Callable[..., object], *args: Any) -> str:
    with pytest.raises(MerkleProofError) as info:
        check(*args)
    assert info.value.message_zh and info.value.message_en
    return info.value.code


# --- known answers --------------------------------------------------------------------------------


def test_hash_prefixes() -> None:
    assert leaf_hash(b"x") == _sha(b"\x00x")
    assert node_hash(b"a" * 32, b"b" * 32) == _sha(b"\x01" + b"a" * 32 + b"b" * 32)


def test_empty_tree_root_is_hash_of_nothing() -> None:
    assert EMPTY_ROOT == root_from_leaf_hashes([]) == hashlib.sha256(b"").digest()
    assert EMPTY_ROOT.hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


def test_single_leaf_root_is_its_leaf_hash() -> None:
    assert root_from_leaf_hashes([HASHES[0]]) == HASHES[0]


@pytest.mark.parametrize("size", range(1, MAX_SIZE + 1))
def test_root_matches_recursive_definition(size: int) -> None:
    assert root_from_leaf_hashes(HASHES[:size]) == ROOTS[size]


def test_tree_of_three_by_hand() -> None:
    a, b, c = HASHES[:3]
    assert root_from_leaf_hashes([a, b, c]) == node_hash(node_hash(a, b), c)


@pytest.mark.parametrize("size", range(1, MAX_SIZE + 1))
def test_proofs_match_recursive_definitions(size: int) -> None:
    leaves, hashes = LEAVES[:size], HASHES[:size]
    for index in range(size):
        assert inclusion_proof(hashes, index) == _path(index, leaves)
    for old in range(1, size):
        assert consistency_proof(hashes, old) == _subproof(old, leaves, True)


# --- inclusion ------------------------------------------------------------------------------------


@pytest.mark.parametrize("size", range(1, MAX_SIZE + 1))
def test_inclusion_proofs_verify_and_every_bit_matters(size: int) -> None:
    hashes, root = HASHES[:size], ROOTS[size]
    every_bit = size <= EVERY_BIT_UP_TO
    for index in range(size):
        proof = inclusion_proof(hashes, index)
        verify_inclusion(hashes[index], index, size, proof, root)
        for i, element in enumerate(proof):
            for changed in _flips(element, every_bit):
                tampered = [*proof[:i], changed, *proof[i + 1 :]]
                _fails(verify_inclusion, hashes[index], index, size, tampered, root)
        for changed in _flips(hashes[index], every_bit):
            _fails(verify_inclusion, changed, index, size, proof, root)
        for changed in _flips(root, every_bit):
            _fails(verify_inclusion, hashes[index], index, size, proof, changed)
        for bit in range(size.bit_length() + 1):
            _fails(verify_inclusion, hashes[index], index ^ (1 << bit), size, proof, root)


@pytest.mark.parametrize("size", range(1, MAX_SIZE + 1))
def test_inclusion_proofs_of_wrong_length_fail(size: int) -> None:
    hashes, root = HASHES[:size], ROOTS[size]
    for index in range(size):
        proof = inclusion_proof(hashes, index)
        assert _fails(verify_inclusion, hashes[index], index, size, [*proof, root], root) == (
            "merkle_inclusion_invalid"
        )
        if proof:
            assert _fails(verify_inclusion, hashes[index], index, size, proof[:-1], root) == (
                "merkle_inclusion_invalid"
            )
            # another leaf's proof for the same position count never verifies this leaf
            other = (index + 1) % size
            _fails(verify_inclusion, hashes[index], index, size, inclusion_proof(hashes, other), root)


def test_inclusion_rejects_bad_arguments_with_the_error() -> None:
    proof = inclusion_proof(HASHES[:5], 2)
    assert _fails(verify_inclusion, HASHES[2], 5, 5, proof, ROOTS[5]) == "merkle_index"
    assert _fails(verify_inclusion, HASHES[2], -1, 5, proof, ROOTS[5]) == "merkle_index"
    assert _fails(verify_inclusion, HASHES[2], True, 5, proof, ROOTS[5]) == "merkle_index"
    assert _fails(verify_inclusion, HASHES[2], 0, 0, [], EMPTY_ROOT) == "merkle_size"
    assert _fails(verify_inclusion, HASHES[2], 2, 5, [*proof[:1], b"short"], ROOTS[5]) == "merkle_hash_shape"
    assert _fails(verify_inclusion, HASHES[2][:31], 2, 5, proof, ROOTS[5]) == "merkle_hash_shape"
    assert _fails(verify_inclusion, HASHES[2], 2, 5, proof, "root") == "merkle_hash_shape"
    assert _fails(verify_inclusion, HASHES[2], 2, 2**70, proof, ROOTS[5]) == "merkle_inclusion_invalid"
    assert _fails(inclusion_proof, HASHES[:5], 5) == "merkle_index"
    assert _fails(inclusion_proof, HASHES[:5], -1) == "merkle_index"
    assert _fails(inclusion_proof, [], 0) == "merkle_index"


# --- consistency ----------------------------------------------------------------------------------


@pytest.mark.parametrize("new_size", range(1, MAX_SIZE + 1))
def test_consistency_proofs_verify_and_tampering_fails(new_size: int) -> None:
    hashes = HASHES[:new_size]
    for old_size in range(1, new_size + 1):
        old_root, new_root = ROOTS[old_size], ROOTS[new_size]
        every_bit = new_size <= EVERY_BIT_UP_TO
        proof = consistency_proof(hashes, old_size)
        verify_consistency(old_size, new_size, old_root, new_root, proof)
        for i, element in enumerate(proof):
            for changed in _flips(element, every_bit):
                tampered = [*proof[:i], changed, *proof[i + 1 :]]
                _fails(verify_consistency, old_size, new_size, old_root, new_root, tampered)
        for changed in _flips(old_root, every_bit):
            _fails(verify_consistency, old_size, new_size, changed, new_root, proof)
        for changed in _flips(new_root, every_bit):
            _fails(verify_consistency, old_size, new_size, old_root, changed, proof)
        if proof:
            _fails(verify_consistency, old_size, new_size, old_root, new_root, proof[:-1])
            _fails(verify_consistency, old_size, new_size, old_root, new_root, [*proof, new_root])
        if len(proof) > 1:
            _fails(verify_consistency, old_size, new_size, old_root, new_root, proof[::-1])


@pytest.mark.parametrize(("old_size", "new_size"), [(m, n) for n in range(2, 12) for m in range(1, n)])
def test_consistency_proof_is_bound_to_its_sizes(old_size: int, new_size: int) -> None:
    proof = consistency_proof(HASHES[:new_size], old_size)
    for other_old in range(1, new_size):
        if other_old != old_size:
            _fails(verify_consistency, other_old, new_size, ROOTS[old_size], ROOTS[new_size], proof)
    _fails(verify_consistency, new_size, old_size, ROOTS[new_size], ROOTS[old_size], proof)


def test_consistency_edge_cases_follow_rfc_9162() -> None:
    # equal sizes: empty proof, same root
    assert consistency_proof(HASHES[:7], 7) == []
    verify_consistency(7, 7, ROOTS[7], ROOTS[7], [])
    assert _fails(verify_consistency, 7, 7, ROOTS[7], ROOTS[6], []) == "merkle_consistency_invalid"
    assert _fails(verify_consistency, 7, 7, ROOTS[7], ROOTS[7], [ROOTS[7]]) == "merkle_consistency_invalid"
    # the empty tree: every tree extends it, with an empty proof and the empty root
    assert consistency_proof(HASHES[:7], 0) == []
    verify_consistency(0, 7, EMPTY_ROOT, ROOTS[7], [])
    verify_consistency(0, 0, EMPTY_ROOT, EMPTY_ROOT, [])
    assert _fails(verify_consistency, 0, 7, ROOTS[1], ROOTS[7], []) == "merkle_consistency_invalid"
    assert _fails(verify_consistency, 0, 7, EMPTY_ROOT, ROOTS[7], [ROOTS[1]]) == "merkle_consistency_invalid"
    assert _fails(verify_consistency, 0, 0, EMPTY_ROOT, ROOTS[1], []) == "merkle_consistency_invalid"
    # a proper extension needs a non-empty proof
    assert _fails(verify_consistency, 4, 8, ROOTS[4], ROOTS[8], []) == "merkle_consistency_invalid"


def test_consistency_rejects_bad_sizes_with_the_error() -> None:
    proof = consistency_proof(HASHES[:8], 3)
    assert _fails(verify_consistency, 8, 3, ROOTS[8], ROOTS[3], proof) == "merkle_size"
    assert _fails(verify_consistency, -1, 8, ROOTS[3], ROOTS[8], proof) == "merkle_size"
    assert _fails(verify_consistency, 3, True, ROOTS[3], ROOTS[8], proof) == "merkle_size"
    assert _fails(verify_consistency, 3, 8, ROOTS[3], ROOTS[8], [b""]) == "merkle_hash_shape"
    assert _fails(verify_consistency, 3, 2**70, ROOTS[3], ROOTS[8], proof) == "merkle_consistency_invalid"
    assert _fails(consistency_proof, HASHES[:8], 9) == "merkle_size"
    assert _fails(consistency_proof, HASHES[:8], -1) == "merkle_size"


# --- properties on larger trees -------------------------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(data=st.data(), new_size=st.integers(min_value=1, max_value=3000))
def test_random_larger_trees(data: st.DataObject, new_size: int) -> None:
    hashes = [leaf_hash(i.to_bytes(4, "big")) for i in range(new_size)]
    root = root_from_leaf_hashes(hashes)
    index = data.draw(st.integers(min_value=0, max_value=new_size - 1))
    verify_inclusion(hashes[index], index, new_size, inclusion_proof(hashes, index), root)
    old_size = data.draw(st.integers(min_value=0, max_value=new_size))
    old_root = root_from_leaf_hashes(hashes[:old_size])
    verify_consistency(old_size, new_size, old_root, root, consistency_proof(hashes, old_size))
