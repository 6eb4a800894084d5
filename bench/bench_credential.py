"""Credential wire format: encode+sign and decode+verify against raw PyNaCl in the same run, the QR
versions and character counts of both examples in both printed forms, and QR image generation with zxing-cpp against the pure-Python qrcode.

Run: .venv/bin/python bench/bench_credential.py [--rounds N]  (a smoke run: --rounds 1)
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _measure import ratio, result

from common import qrimage
from credential import CertificateClaims, decode, encode, url_form, verify
from keys import Signer

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
VERIFIER_URL = "https://verify.skillpass.cn"  # a verifier host of typical length (19 characters)


def _claims(name: str) -> CertificateClaims:
    return CertificateClaims.from_certificate(json.loads((EXAMPLES / f"certificate-{name}.json").read_text()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15, help="interleaved rounds per ratio (default 15)")
    rounds = parser.parse_args().rounds
    signer = Signer.generate()
    claims = _claims("typical")
    text = encode(claims, signer)
    message = decode(text).sign1.to_be_signed()
    signature = signer.sign(message)

    r, mine, raw = ratio(
        lambda: verify(decode(text), signer.public_key),
        lambda: signer.public_key.verify(message, signature),
        rounds,
    )
    print(f"decode+verify: {mine:,.0f}/s, raw PyNaCl verify {raw:,.0f}/s, ratio {r:.0%} (target >= 60%)")
    result(
        "credential decode+verify vs raw PyNaCl verify",
        f"{r:.0%} ({mine:,.0f}/s vs {raw:,.0f}/s)",
        ">= 60 %",
        r >= 0.6,
    )
    r, mine, raw = ratio(lambda: encode(claims, signer), lambda: signer.sign(message), rounds)
    print(f"encode+sign:   {mine:,.0f}/s, raw PyNaCl sign {raw:,.0f}/s, ratio {r:.0%} (target >= 25%)")
    result(
        "credential encode+sign vs raw PyNaCl sign",
        f"{r:.0%} ({mine:,.0f}/s vs {raw:,.0f}/s)",
        ">= 25 %",
        r >= 0.25,
    )

    # Targets at Q (DESIGN): typical <= 10 plain and <= 11 URL form; longest <= 14 plain, <= 15 URL.
    for name, plain_limit, url_limit in (("typical", 10, 11), ("longest", 14, 15)):
        plain = encode(_claims(name), signer)
        for form, qr, limit in (
            ("plain", plain, plain_limit),
            ("URL", url_form(plain, VERIFIER_URL), url_limit),
        ):
            version = qrimage.qr_version(qr)
            print(f"QR {name}, {form} form: {len(qr)} characters, version {version} at Q (target <= {limit})")
            result(
                f"QR version at Q, {name} example, {form} form",
                f"version {version} ({len(qr)} characters)",
                f"<= {limit}",
                version <= limit,
            )

    zxing_ms = _ms(lambda: qrimage.render_png(text))
    print(f"QR PNG, zxing-cpp: {zxing_ms:.2f} ms per code")
    try:
        import qrcode
    except ImportError:
        print("QR PNG, qrcode: not installed")
        return

    def with_qrcode() -> None:
        code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_Q)
        code.add_data(text)
        code.make(fit=True)
        code.make_image().save(io.BytesIO())

    qrcode_ms = _ms(with_qrcode)
    print(f"QR PNG, qrcode:    {qrcode_ms:.2f} ms per code")
    result(
        "QR PNG generation, zxing-cpp vs qrcode",
        f"{zxing_ms:.1f} ms vs {qrcode_ms:.1f} ms per code",
        "choose the faster",
    )


def _ms(operation: object, count: int = 30) -> float:
    assert callable(operation)
    start = time.perf_counter()
    for _ in range(count):
        operation()
    return (time.perf_counter() - start) / count * 1000


if __name__ == "__main__":
    main()
