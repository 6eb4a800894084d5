"""RFC 6962 / RFC 9162 Merkle tree hashing and proofs over SHA-256, pure and without I/O.

The audit log is an append-only list of leaf hashes; its checkpoints sign a (size, root) pair.
Proofs are built here from the full list of leaf hashes (the registry keeps every one) and verified
with RFC 9162's iterative algorithms, which need no tree and reject every malformed input with
``MerkleProofError`` rather than an ``IndexError``.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence

from common.errors import CataloguedError

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "MerkleProofError",
    "consistency_proof",
    "inclusion_proof",
    "leaf_hash",
    "node_hash",
    "root_from_leaf_hashes",
    "verify_consistency",
    "verify_inclusion",
]

HASH_SIZE = 32
_LEAF_PREFIX = b"\x00"
_NODE_PREFIX = b"\x01"
EMPTY_ROOT = hashlib.sha256(b"").digest()

_MESSAGES: dict[str, tuple[str, str]] = {
    "merkle_index": ("叶子序号超出树的大小", "the leaf index is outside the tree"),
    "merkle_size": ("树的大小不正确", "the tree sizes are invalid"),
    "merkle_hash_shape": ("哈希值不是 32 字节", "a hash is not 32 bytes long"),
    "merkle_inclusion_invalid": ("包含性证明无效", "the inclusion proof does not verify"),
    "merkle_consistency_invalid": ("一致性证明无效：日志可能被篡改", "the consistency proof does not verify"),
}


class MerkleProofError(CataloguedError):
    """A proof request or a proof that fails; ``code`` is stable, ``detail`` is English."""

    catalogue = _MESSAGES


def leaf_hash(data: bytes) -> bytes:
    """SHA-256(0x00 || data): the prefix keeps a leaf from passing for an inner node."""
    return hashlib.sha256(_LEAF_PREFIX + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """SHA-256(0x01 || left || right)."""
    return hashlib.sha256(_NODE_PREFIX + left + right).digest()


def root_from_leaf_hashes(hashes: Sequence[bytes]) -> bytes:
    """MTH of RFC 6962 §2.1, computed level by level in O(n) hashes.

    Pairing neighbours left to right and carrying an odd last node up unchanged gives exactly the
    tree that splits at the largest power of two below n.
    """
    if not hashes:
        return EMPTY_ROOT
    level = list(hashes)
    sha256 = hashlib.sha256
    while len(level) > 1:
        paired = [
            sha256(_NODE_PREFIX + level[i] + level[i + 1]).digest() for i in range(0, len(level) - 1, 2)
        ]
        if len(level) % 2:
            paired.append(level[-1])
        level = paired
    return level[0]


def inclusion_proof(hashes: Sequence[bytes], index: int) -> list[bytes]:
    """PATH(index, D[n]) of RFC 6962 §2.1.1, leaf to root."""
    size = len(hashes)
    if not _is_int(index) or not 0 <= index < size:
        raise MerkleProofError("merkle_index", f"{index!r} not in [0, {size})")
    proof: list[bytes] = []
    start, end = 0, size
    while end - start > 1:
        split = start + _largest_power_of_two_below(end - start)
        if index < split:
            proof.append(root_from_leaf_hashes(hashes[split:end]))
            end = split
        else:
            proof.append(root_from_leaf_hashes(hashes[start:split]))
            start = split
    proof.reverse()
    return proof


def consistency_proof(hashes: Sequence[bytes], old_size: int) -> list[bytes]:
    """PROOF(m, D[n]) of RFC 6962 §2.1.2; empty when m is 0 or n, as RFC 9162 §2.1.4 allows."""
    size = len(hashes)
    if not _is_int(old_size) or not 0 <= old_size <= size:
        raise MerkleProofError("merkle_size", f"old size {old_size!r} not in [0, {size}]")
    if old_size in (0, size):
        return []
    proof: list[bytes] = []
    start, end, whole_old_tree = 0, size, True
    # SUBPROOF(m, D[start:end], b) unrolled: each step keeps the half holding the old tree's edge;
    # the hashes are collected outermost first and reversed at the end.
    while end != old_size:
        split = start + _largest_power_of_two_below(end - start)
        if old_size <= split:
            proof.append(root_from_leaf_hashes(hashes[split:end]))
            end = split
        else:
            proof.append(root_from_leaf_hashes(hashes[start:split]))
            start, whole_old_tree = split, False
    if not whole_old_tree:
        proof.append(root_from_leaf_hashes(hashes[start:end]))
    proof.reverse()
    return proof


def verify_inclusion(leaf: bytes, index: int, tree_size: int, proof: Sequence[bytes], root: bytes) -> None:
    """RFC 9162 §2.1.3.2: raise ``MerkleProofError`` unless ``proof`` puts ``leaf`` at ``index``."""
    _check_hashes(leaf, root, *proof)
    if not _is_int(tree_size) or tree_size < 1:
        raise MerkleProofError("merkle_size", f"tree size {tree_size!r}")
    if not _is_int(index) or not 0 <= index < tree_size:
        raise MerkleProofError("merkle_index", f"{index!r} not in [0, {tree_size})")
    fn, sn, r = index, tree_size - 1, leaf
    for p in proof:
        if sn == 0:
            raise MerkleProofError("merkle_inclusion_invalid", "the proof is too long")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise MerkleProofError("merkle_inclusion_invalid", "the proof is too short")
    if not hmac.compare_digest(r, root):
        raise MerkleProofError("merkle_inclusion_invalid", "the computed root differs")


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> None:
    """RFC 9162 §2.1.4.2: raise ``MerkleProofError`` unless the new tree extends the old one.

    Edge cases, as RFC 9162 leaves them: equal sizes need an empty proof and equal roots; the
    empty tree (whose root is ``EMPTY_ROOT``) is extended by every tree, with an empty proof.
    """
    _check_hashes(old_root, new_root, *proof)
    if not (_is_int(old_size) and _is_int(new_size)) or not 0 <= old_size <= new_size:
        raise MerkleProofError("merkle_size", f"old size {old_size!r}, new size {new_size!r}")
    if old_size in (0, new_size):
        _check_trivial_consistency(old_size, new_size, old_root, new_root, proof)
        return
    fr, sr = _consistency_roots(old_size, new_size, old_root, proof)
    if not (hmac.compare_digest(fr, old_root) and hmac.compare_digest(sr, new_root)):
        raise MerkleProofError("merkle_consistency_invalid", "the computed roots differ")


def _check_trivial_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> None:
    """Equal sizes or an empty old tree: the proof is empty and the roots are the ones implied."""
    if proof:
        raise MerkleProofError("merkle_consistency_invalid", "the proof must be empty")
    if old_size == 0 and not hmac.compare_digest(old_root, EMPTY_ROOT):
        raise MerkleProofError("merkle_consistency_invalid", "the empty tree has another root")
    if old_size == new_size and not hmac.compare_digest(old_root, new_root):
        raise MerkleProofError("merkle_consistency_invalid", "equal sizes with different roots")


def _consistency_roots(
    old_size: int, new_size: int, old_root: bytes, proof: Sequence[bytes]
) -> tuple[bytes, bytes]:
    """Steps 1-7 of RFC 9162 §2.1.4.2 for 0 < old_size < new_size: the two roots the proof implies."""
    if not proof:
        raise MerkleProofError("merkle_consistency_invalid", "the proof is empty")
    path = [old_root, *proof] if old_size & (old_size - 1) == 0 else list(proof)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise MerkleProofError("merkle_consistency_invalid", "the proof is too long")
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            while not fn & 1 and fn:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise MerkleProofError("merkle_consistency_invalid", "the proof is too short")
    return fr, sr


def _largest_power_of_two_below(n: int) -> int:
    """The k of RFC 6962: the largest power of two strictly smaller than n (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


def _check_hashes(*hashes: object) -> None:
    for value in hashes:
        if not isinstance(value, bytes) or len(value) != HASH_SIZE:
            raise MerkleProofError("merkle_hash_shape", f"{value!r:.40}")


def _is_int(value: object) -> bool:
    """True for a real int; bool is an int subclass in Python but never a size or an index."""
    return isinstance(value, int) and not isinstance(value, bool)
