"""The conformance vectors of docs/spec.md §10: they do not drift from their generator, they cover
what the issue asks, and the project reaches every expected result."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from credential.status_token import open_status_list_token
from keys import PublicKey
from verifier import engine
from verifier.hosts import host_finding
from verifier.snapshot import SignedTrust, TrustBounds, open_trust

ROOT = Path(__file__).resolve().parents[1]
VECTORS = ROOT / "spec" / "vectors"


def _load_generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("generate_vectors", ROOT / "spec" / "generate_vectors.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _vectors() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((VECTORS / "vectors.json").read_text(encoding="utf-8"))
    return data


ALL = [(kind, v) for kind in ("valid", "invalid") for v in _vectors()[kind]]


def test_committed_vectors_are_exactly_what_the_generator_makes() -> None:
    built = _load_generator().build()
    assert sorted(built) == sorted(p.name for p in VECTORS.iterdir())
    for name, data in built.items():
        assert (VECTORS / name).read_bytes() == data, f"{name} drifted: run spec/generate_vectors.py"


def test_vectors_cover_what_the_specification_promises() -> None:
    vectors = _vectors()
    valid, invalid = vectors["valid"], vectors["invalid"]
    assert len(valid) >= 20 and len(invalid) >= 40
    names = [v["name"] for v in valid + invalid]
    assert len(set(names)) == len(names)
    assert any(v["text"].startswith("SP2:") for v in valid) and any(
        v["text"].startswith("HTTPS://") for v in valid
    )
    assert {f"level_{n}" for n in range(1, 6)} <= set(names)
    assert {n for n in names if n.startswith("id_type_")} == {
        "id_type_1_plain", "id_type_2_url", "id_type_3_plain", "id_type_4_url", "id_type_5_plain", "id_type_6_url",
    }  # fmt: skip
    codes = {v["expect"]["code"] for v in invalid}
    from credential import REJECTIONS

    format_codes = set(REJECTIONS) - {"signature_invalid"}
    assert format_codes <= codes, format_codes - codes
    assert {
        "signature_invalid", "key_unknown", "occupation_out_of_scope", "level_out_of_scope", "key_not_yet_valid",
        "key_expired", "key_retired", "key_revoked", "institution_removed", "revoked", "suspended", "prefix_missing",
    } <= codes  # fmt: skip
    assert any(v["expect"].get("warning") == "verifier_host_foreign" for v in valid + invalid)


@pytest.fixture(scope="module")
def trust() -> engine.TrustData:
    key = PublicKey(bytes.fromhex(_vectors()["registry_public_key"]))
    signed = SignedTrust(
        (VECTORS / "directory.cose").read_bytes(), {0: (VECTORS / "status-list-0.cwt").read_bytes()}
    )
    return open_trust(signed, key, TrustBounds())


def test_trust_data_is_signed_by_the_published_registry_key(trust: engine.TrustData) -> None:
    key = PublicKey(bytes.fromhex(_vectors()["registry_public_key"]))
    token = open_status_list_token((VECTORS / "status-list-0.cwt").read_bytes(), key)
    assert token.sub == "https://registry.example.cn/api/v1/status-lists/0"
    assert trust.directory.verifier_hosts == tuple(_vectors()["verifier_hosts"])


@pytest.mark.parametrize(("kind", "vector"), ALL, ids=[f"{k}-{v['name']}" for k, v in ALL])
def test_the_project_reaches_every_expected_result(
    trust: engine.TrustData, kind: str, vector: dict[str, Any]
) -> None:
    verdict = engine.verify(vector["text"], trust, _vectors()["now"])
    assert verdict.code == vector["expect"]["code"], verdict.checks
    assert verdict.valid == (kind == "valid")
    finding = host_finding(vector["text"], trust.directory)
    warning = None if finding is None or finding["official"] else finding["code"]
    assert warning == vector["expect"].get("warning")
