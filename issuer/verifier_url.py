"""Which verifier a certificate's QR code names: the URL form a phone camera or WeChat opens, or the
plain form when nothing names a verifier.

The verifier is ``--verifier-url``, else the ``SKILLPASS_VERIFIER_URL`` setting, else the first
official verifier host the registry's signed directory lists (``registry serve --verifier-host``), so
institutions of a deployment that lists one print the URL form without configuring anything.
``--plain-qr`` asks for the plain form.
"""

from __future__ import annotations

import os
from dataclasses import replace

from credential import verifier_origin
from issuer.client import RegistryClient
from issuer.run import IssueError, IssueRequest

VERIFIER_URL_ENV = "SKILLPASS_VERIFIER_URL"


def configured_verifier_url(flag: str | None, *, plain: bool) -> str | None:
    """The flag, else the environment, checked before anything is submitted; None when neither is
    set (the registry's directory then decides) or with ``plain``."""
    url = None if plain else flag or os.environ.get(VERIFIER_URL_ENV) or None
    if url is not None:
        try:
            verifier_origin(url)
        except ValueError as e:
            raise IssueError(
                "verifier_url_invalid", f"核验网址无效：{e}", f"invalid verifier URL: {e}"
            ) from e
    return url


def with_registry_default(request: IssueRequest, client: RegistryClient, *, plain: bool) -> IssueRequest:
    """``request`` naming the registry's first official verifier when nothing named one (a dry run
    prints nothing, so it asks nothing)."""
    if request.verifier_url is not None or plain or request.dry_run:
        return request
    return replace(request, verifier_url=client.official_verifier_url())
