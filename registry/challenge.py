"""Anti-spam challenges for anonymous complaint filing, with no third-party service: a proof of work
for API clients and an arithmetic question for the script-free page.

A challenge is a token the registry MACs (so it stores nothing until one is redeemed): its expiry, a
random nonce, its kind and — for a question — a MAC of the answer, never the answer itself. Each
token is accepted once (a bounded in-memory set of redeemed tokens until they expire), so one
solution cannot file many complaints. Per-process like the rate limiter; see docs/security.md.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading

from registry.errors import RegistryError

POW_BITS = 16
TTL_SECONDS = 600
_MAX_REDEEMED = 100_000
_DIGITS_ZH = "零一二三四五六七八九"


def pow_ok(token: str, nonce: str, bits: int) -> bool:
    """Whether SHA-256 of ``token:nonce`` starts with ``bits`` zero bits."""
    digest = hashlib.sha256(f"{token}:{nonce}".encode()).digest()
    return int.from_bytes(digest, "big") >> (256 - bits) == 0


class Challenges:
    """Issue and redeem challenges signed with a key derived from the registry's secret."""

    def __init__(self, secret: bytes, bits: int = POW_BITS) -> None:
        self._key = hmac.new(secret, b"complaint-challenge", hashlib.sha256).digest()
        self.bits = bits
        self._redeemed: dict[str, int] = {}
        self._lock = threading.Lock()

    def _mac(self, text: str) -> str:
        return hmac.new(self._key, text.encode(), hashlib.sha256).hexdigest()[:32]

    def proof_of_work(self, now: int) -> dict[str, object]:
        """A proof-of-work challenge for API clients."""
        body = f"{now + TTL_SECONDS}.{secrets.token_hex(8)}.pow{self.bits}"
        return {
            "challenge": f"{body}.{self._mac(body)}",
            "bits": self.bits,
            "expires_in": TTL_SECONDS,
            "rule": f"find nonce: SHA-256 of '<challenge>:<nonce>' starts with {self.bits} zero bits",
        }

    def question(self, now: int) -> tuple[str, str, str]:
        """A question for the page: (token, Chinese question, English question)."""
        a, b = secrets.randbelow(9) + 1, secrets.randbelow(9) + 1
        body = f"{now + TTL_SECONDS}.{secrets.token_hex(8)}.q"
        token = f"{body}.{self._mac(body + '=' + str(a + b))}"
        return token, f"{_DIGITS_ZH[a]}加{_DIGITS_ZH[b]}等于几？（填阿拉伯数字）", f"What is {a} plus {b}?"

    def redeem(self, token: str, answer: str, now: int) -> None:
        """Accept a solved challenge once; anything else is ``challenge_failed``."""
        parts = token.split(".")
        if len(parts) != 4 or not parts[0].isdigit() or int(parts[0]) < now or len(answer) > 64:
            raise RegistryError("challenge_failed", "missing, malformed or expired challenge")
        body, mac = ".".join(parts[:3]), parts[3]
        if parts[2] == "q":
            good = hmac.compare_digest(mac, self._mac(body + "=" + answer.strip()))
        else:
            good = (
                parts[2] == f"pow{self.bits}"
                and hmac.compare_digest(mac, self._mac(body))
                and pow_ok(token, answer, self.bits)
            )
        if not good:
            raise RegistryError("challenge_failed", "wrong answer")
        with self._lock:
            if len(self._redeemed) > _MAX_REDEEMED:
                self._redeemed = {t: e for t, e in self._redeemed.items() if e >= now}
            if token in self._redeemed:
                raise RegistryError("challenge_failed", "this challenge was already used")
            self._redeemed[token] = int(parts[0])
