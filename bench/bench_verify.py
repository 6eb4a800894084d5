"""In-process verification: the verifier engine's full verdict against raw PyNaCl verify, same run.

The engine runs every offline check (format, key, signature, key window, institution status,
scope, certificate number, status list) on fresh trust data with a 2^20-entry status list, over
64 distinct credentials in turn so no input is favoured. For scale, the credential layer's
decode+verify (what the engine cannot avoid) is measured against the same baseline; the gap
between the two lines is the engine's own overhead.

Run: .venv/bin/python bench/bench_verify.py [--rounds N]  (a smoke run: --rounds 1)
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import sys
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from _measure import ratio, result
from credential_fixtures import typical_claims
from nacl.signing import VerifyKey

from credential import decode, encode
from credential import verify as verify_signature
from credential.directory import ACTIVE, Directory, Institution, KeyEntry, Scope, StatusChange
from credential.status_list import StatusList
from keys import Signer
from verifier.engine import TrustData, verify

_NOW = 1_795_000_000  # 2026-11-18, inside the trust data's window
_CODE = "Y000011000001"
_CREDENTIALS = 64


def _trust(signer: Signer) -> TrustData:
    institution = Institution(
        code=_CODE,
        name="中国国家铁路集团有限公司",
        uscc="91100000000000000X",
        category="Y",
        statuses=(StatusChange(ACTIVE, date(2020, 1, 1), 1),),
        scopes=(Scope("6-31-01-03", "电工", (1, 2, 3, 4, 5), date(2020, 1, 1)),),
        keys=(KeyEntry(signer.kid, signer.public_key.raw, date(2020, 1, 1)),),
    )
    directory = Directory(7, _NOW - 3600, _NOW + 86400, (institution,))
    return TrustData(directory, {0: StatusList(2**20, 2)}, _NOW + 86400)


def _credential(signer: Signer, serial: int) -> str:
    claims = typical_claims(
        certificate_number=f"{_CODE}263{serial:06d}",
        issue_date=date(2026, 11, 2),
        status_index=1000 + serial * 7919,
    )
    return encode(claims, signer)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=21, help="interleaved rounds per ratio (default 21)")
    rounds = parser.parse_args().rounds
    signer = Signer.generate()
    trust = _trust(signer)
    texts = [_credential(signer, serial) for serial in range(1, _CREDENTIALS + 1)]
    assert all(verify(text, trust, _NOW).valid for text in texts)
    parsed = decode(texts[0])
    message, signature = parsed.sign1.to_be_signed(), parsed.sign1.signature
    raw_key = VerifyKey(signer.public_key.raw)
    engine_inputs = itertools.cycle(texts)
    layer_inputs = itertools.cycle(texts)
    single = texts[0]

    def engine() -> object:
        return verify(next(engine_inputs), trust, _NOW)

    def engine_single() -> object:
        return verify(single, trust, _NOW)

    def credential_layer() -> None:
        verify_signature(decode(next(layer_inputs)), signer.public_key)

    def raw() -> object:
        return raw_key.verify(message, signature)

    r, mine, base = ratio(engine, raw, rounds=rounds)
    print(f"engine verify, {_CREDENTIALS} distinct credentials: {mine:,.0f}/s, raw PyNaCl verify {base:,.0f}/s, "
          f"ratio {r:.0%} (target >= 60%)")  # fmt: skip
    result("verifier engine (all offline checks, distinct credentials) vs raw PyNaCl verify",
           f"{r:.0%} ({mine:,.0f}/s vs {base:,.0f}/s)", ">= 60 %", r >= 0.6)  # fmt: skip
    one, one_rate, one_base = ratio(engine_single, raw, rounds=rounds)
    print(
        f"engine verify, one credential repeated: {one_rate:,.0f}/s vs raw {one_base:,.0f}/s, ratio {one:.0%}"
    )
    result("verifier engine, one credential repeated (as bench_credential measures)",
           f"{one:.0%} ({one_rate:,.0f}/s vs {one_base:,.0f}/s)", ">= 60 %", one >= 0.6)  # fmt: skip
    layer, layer_rate, layer_base = ratio(credential_layer, raw, rounds=rounds)
    print(f"credential decode+verify alone, distinct credentials: {layer_rate:,.0f}/s vs raw {layer_base:,.0f}/s, "
          f"ratio {layer:.0%}")  # fmt: skip
    overhead = (1 / r - 1 / layer) * 1e6 / statistics.mean([base, layer_base])
    print(f"engine's own overhead beyond decode+verify: about {overhead:.1f} µs per verification")
    result("credential decode+verify alone, distinct credentials (the floor under the engine)", f"{layer:.0%}",
           "for reference")  # fmt: skip


if __name__ == "__main__":
    main()
