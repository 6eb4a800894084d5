"""Who may use the institution console: only the person at this machine, who opened the link it printed.

The console listens on loopback, but a loopback port is reachable by every local user and, through DNS
rebinding, by any web page the clerk visits. So, as Jupyter does:

1. ``skillpass issuer console`` prints a link carrying a random launch key (256 bits, new each start);
   opening it sets an HttpOnly, SameSite=Strict session cookie. Without the cookie every page answers
   403 and says to open the printed link.
2. The ``Host`` header must name this console (``127.0.0.1``, ``localhost`` or ``[::1]`` with its port,
   or the host it was told to listen on), which defeats DNS rebinding.
3. Every form carries a CSRF token; a POST without the right one is refused (403 ``csrf_failed``).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from typing import Final

COOKIE: Final = "skillpass_issuer_console"
_LOOPBACK_NAMES: Final = ("127.0.0.1", "localhost", "[::1]")


@dataclass(frozen=True)
class Guard:
    """The launch key of this run and what follows from it."""

    host: str
    port: int
    launch_key: str = field(default_factory=lambda: secrets.token_urlsafe(32))

    @property
    def session(self) -> str:
        """The cookie value: derived from the launch key, so a restart ends every session."""
        return hmac.new(self.launch_key.encode(), b"session", hashlib.sha256).hexdigest()

    @property
    def csrf(self) -> str:
        """The token every form carries."""
        return hmac.new(self.launch_key.encode(), b"csrf", hashlib.sha256).hexdigest()

    def opens(self, key: str | None) -> bool:
        """Whether ``key`` is this run's launch key."""
        return key is not None and hmac.compare_digest(key.encode(), self.launch_key.encode())

    def has_session(self, cookie: str | None) -> bool:
        """Whether the request carries this run's session cookie."""
        return cookie is not None and hmac.compare_digest(cookie.encode(), self.session.encode())

    def csrf_ok(self, submitted: object) -> bool:
        """Whether a form's ``csrf_token`` is this run's."""
        return isinstance(submitted, str) and hmac.compare_digest(submitted.encode(), self.csrf.encode())

    def host_ok(self, host_header: str | None) -> bool:
        """Whether the ``Host`` header names this console (no DNS rebinding)."""
        names = {*_LOOPBACK_NAMES, self.host if ":" not in self.host else f"[{self.host}]"}
        return host_header in {f"{name}:{self.port}" for name in names}

    def link(self) -> str:
        """The link the command prints: it opens a session in the browser."""
        host = self.host if ":" not in self.host else f"[{self.host}]"
        return f"http://{host}:{self.port}/open?key={self.launch_key}"
