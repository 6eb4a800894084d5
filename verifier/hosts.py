"""The foreign-host warning for URL-form credentials (docs/spec.md §3.2).

A URL-form QR opens whatever site it names. A forger can print a genuine-looking certificate whose
QR opens a look-alike site that shows a green tick for anything. Whoever verifies with us still
gets the credential's real verdict, and is also told when the QR names a host the signed
directory does not list as an official verifier. Plain-form texts name no host.
"""

from __future__ import annotations

from typing import Any

from credential import QR_PREFIX, CredentialError, decode
from credential.directory import Directory
from verifier import messages


def host_finding(qr_text: str, directory: Directory | None) -> dict[str, Any] | None:
    """``{"host", "official"}`` for a URL-form text, with the warning's code and words when the
    host is not official (or there is no directory to tell); ``None`` for any other text."""
    if qr_text.startswith(QR_PREFIX):  # the plain form, the hot path: nothing to look at
        return None
    try:
        host = decode(qr_text).verifier_host
    except CredentialError:
        return None
    if host is None:
        return None
    if directory is not None and directory.is_official_verifier(host):
        return {"host": host, "official": True}
    zh, en = messages.VERIFIER_HOST_FOREIGN
    return {
        "host": host,
        "official": False,
        "code": "verifier_host_foreign",
        "message_zh": zh.format(host=host),
        "message_en": en.format(host=host),
    }
