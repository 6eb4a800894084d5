"""The verifier: an engine that judges a QR text against verified trust data, the trust cache that
syncs that data from the registry, a facade for the CLI and the HTTP service, and the service itself.

``engine.verify`` is pure (no I/O, no clock); ``Verifier`` captures the time, holds the
``TrustStore`` and talks to the registry for online checks.
"""

from verifier.engine import CLOCK_SKEW, TrustData, verify
from verifier.errors import RegistryUnavailableError, TrustError, VerifierError
from verifier.trust import TrustStore, VerifierConfig, default_cache_dir, load_registry_key
from verifier.verdict import CHECK_CODES, Check, HolderInput, RegistryRecord, Verdict
from verifier.verifier import Verifier

__all__ = [
    "CHECK_CODES",
    "CLOCK_SKEW",
    "Check",
    "HolderInput",
    "RegistryRecord",
    "RegistryUnavailableError",
    "TrustData",
    "TrustError",
    "TrustStore",
    "Verdict",
    "Verifier",
    "VerifierConfig",
    "VerifierError",
    "default_cache_dir",
    "load_registry_key",
    "verify",
]
