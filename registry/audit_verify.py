"""Offline check of a copy of the audit log: every event's link to the one before it, and every
signed checkpoint's root over the events it covers. Reports the first inconsistency.

A log copy is JSON: ``{"entries": [{"index", "data"}], "checkpoints": [{"size", "root", "time",
"signature"}]}``, as ``skillpass registry audit verify --registry URL --save FILE`` downloads it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from credential.errors import CredentialError
from credential.signed_document import TYP_CHECKPOINT, open_document
from keys import PublicKey
from keys.recipes import b64url_decode
from registry import merkle


@dataclass(frozen=True)
class Finding:
    """The first inconsistency: which event (or checkpoint) and why, or ``ok``."""

    ok: bool
    index: int | None = None
    message: str = ""


def _event_problem(i: int, entry: Any, previous: bytes | None) -> str | None:
    if not isinstance(entry, dict) or entry.get("index") != i or not isinstance(entry.get("data"), str):
        return "entry is missing or out of order"
    try:
        event = json.loads(entry["data"])
    except ValueError:
        return "event is not JSON"
    if not isinstance(event, dict) or event.get("index") != i:
        return "event's own index differs from its position"
    expected_prev = "" if previous is None else previous.hex()
    if event.get("prev") != expected_prev:
        return "the hash this event records for its predecessor does not match it"
    return None


def verify_log(copy: dict[str, Any], registry_key: PublicKey) -> Finding:
    """Check a downloaded log; the first failure wins."""
    entries = copy.get("entries")
    checkpoints = copy.get("checkpoints")
    if not isinstance(entries, list) or not isinstance(checkpoints, list):
        return Finding(False, None, "not a log copy (entries and checkpoints expected)")
    hashes: list[bytes] = []
    for i, entry in enumerate(entries):
        problem = _event_problem(i, entry, hashes[-1] if hashes else None)
        if problem is not None:
            # A broken link means the predecessor was altered (or this event was).
            return Finding(False, max(i - 1, 0) if "predecessor" in problem else i, problem)
        hashes.append(merkle.leaf_hash(entry["data"].encode("ascii")))
    return _check_checkpoints(checkpoints, hashes, registry_key)


def _check_checkpoints(checkpoints: list[Any], hashes: list[bytes], registry_key: PublicKey) -> Finding:
    covered = 0
    for checkpoint in sorted(checkpoints, key=lambda c: c.get("size", 0) if isinstance(c, dict) else 0):
        try:
            signed = open_document(b64url_decode(checkpoint["signature"]), registry_key, TYP_CHECKPOINT)
            size, root = signed["size"], signed["root"]
        except (CredentialError, KeyError, TypeError, ValueError) as e:
            return Finding(False, None, f"checkpoint signature invalid: {e}")
        if size != checkpoint.get("size") or root.hex() != checkpoint.get("root"):
            return Finding(False, None, f"checkpoint of size {size}: fields differ from what was signed")
        if size > len(hashes):
            return Finding(
                False, len(hashes), f"checkpoint of size {size} covers events missing from the copy"
            )
        if merkle.root_from_leaf_hashes(hashes[:size]) != root:
            # Every link held, so an altered event changed each one after it (their ``prev``): the
            # last event signed here is certainly altered, and it is the one when only one was.
            return Finding(
                False,
                size - 1,
                f"event {size - 1} (and perhaps events back to {covered}) differs from what the "
                f"checkpoint of size {size} signed",
            )
        covered = size
    if covered < len(hashes):
        return Finding(
            True, None, f"{len(hashes)} events; the last {len(hashes) - covered} are not yet checkpointed"
        )
    return Finding(True, None, f"{len(hashes)} events, {len(checkpoints)} checkpoints: consistent")
