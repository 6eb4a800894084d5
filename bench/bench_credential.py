"""Credential wire format: encode+sign and decode+verify against raw PyNaCl in the same run, the QR
versions of the examples, and QR image generation with zxing-cpp against the pure-Python qrcode.

Run: .venv/bin/python bench/bench_credential.py
"""

from __future__ import annotations

import io
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _measure import ratio

from skillpass import qrimage
from skillpass.credential import CertificateClaims, decode, encode, verify
from skillpass.keys import Signer

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def _claims(name: str) -> CertificateClaims:
    return CertificateClaims.from_certificate(json.loads((EXAMPLES / f"certificate-{name}.json").read_text()))


def main() -> None:
    signer = Signer.generate()
    claims = _claims("typical")
    text = encode(claims, signer)
    message = decode(text).sign1.to_be_signed()
    signature = signer.sign(message)

    r, mine, raw = ratio(
        lambda: verify(decode(text), signer.public_key), lambda: signer.public_key.verify(message, signature)
    )
    print(f"decode+verify: {mine:,.0f}/s, raw PyNaCl verify {raw:,.0f}/s, ratio {r:.0%} (target >= 60%)")
    r, mine, raw = ratio(lambda: encode(claims, signer), lambda: signer.sign(message))
    print(f"encode+sign:   {mine:,.0f}/s, raw PyNaCl sign {raw:,.0f}/s, ratio {r:.0%} (target >= 25%)")

    for name, limit in (("typical", 11), ("longest", 16)):
        qr = encode(_claims(name), signer)
        print(f"QR {name}: {len(qr)} characters, version {qrimage.qr_version(qr)} at Q (target <= {limit})")

    print(f"QR PNG, zxing-cpp: {_ms(lambda: qrimage.render_png(text)):.2f} ms per code")
    try:
        import qrcode  # type: ignore[import-untyped]
    except ImportError:
        print("QR PNG, qrcode: not installed")
        return

    def with_qrcode() -> None:
        code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_Q)
        code.add_data(text)
        code.make(fit=True)
        code.make_image().save(io.BytesIO())

    print(f"QR PNG, qrcode:    {_ms(with_qrcode):.2f} ms per code")


def _ms(operation: object, count: int = 30) -> float:
    assert callable(operation)
    start = time.perf_counter()
    for _ in range(count):
        operation()
    return (time.perf_counter() - start) / count * 1000


if __name__ == "__main__":
    main()
