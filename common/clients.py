"""Who the client of a request is: for the registry's public query limits and the verifier's
uploads in flight per client, both behind the same nginx.

The TCP peer is the client, unless the peer is one of the proxies the operator named
(``Settings.trusted_proxies``): then the client is the address that proxy observed, i.e. the
rightmost ``X-Forwarded-For`` entry that is not itself a trusted proxy. Entries further left were
written by the client and are never believed, so rotating that header earns nothing. (Our nginx
configuration overwrites the header with the address it observed, which leaves exactly one entry.)

Buckets are per address for IPv4 and per /64 network for IPv6: one subscriber usually holds a whole
/64, and counting its 2^64 addresses one by one would give it as many buckets.
"""

from __future__ import annotations

import argparse
import ipaddress
import os
from collections.abc import Iterable
from dataclasses import dataclass

from common.errors import SkillpassError

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address
_IPV6_BUCKET_PREFIX = 64
TRUSTED_PROXIES_ENV = "SKILLPASS_TRUSTED_PROXIES"


def _address(text: str) -> Address | None:
    try:
        found = ipaddress.ip_address(text.strip().strip("[]"))
    except ValueError:
        return None
    if isinstance(found, ipaddress.IPv6Address) and found.ipv4_mapped is not None:
        return found.ipv4_mapped
    return found


@dataclass(frozen=True)
class TrustedProxies:
    """The networks whose ``X-Forwarded-For`` is believed (none by default: the peer is the client)."""

    networks: tuple[Network, ...] = ()

    @classmethod
    def parse(cls, entries: Iterable[str]) -> TrustedProxies:
        """From addresses or CIDR networks, e.g. ``("127.0.0.1", "172.28.240.0/24")``."""
        return cls(tuple(ipaddress.ip_network(e.strip(), strict=False) for e in entries if e.strip()))

    def trusts(self, address: Address) -> bool:
        """Whether ``address`` is one of the trusted proxies."""
        return any(address in network for network in self.networks)

    def client(self, peer: str | None, forwarded_for: str | None) -> str:
        """The client's address for a request from ``peer`` carrying this ``X-Forwarded-For``."""
        current = _address(peer or "")
        if current is None:
            return peer or "unknown"
        for entry in reversed((forwarded_for or "").split(",")):
            if not self.trusts(current):
                break
            hop = _address(entry)
            if hop is None:
                break  # a proxy we trust never writes garbage: stop at the last hop we could read
            current = hop
        return str(current)


def bucket_of(client: str) -> str:
    """The rate-limit bucket of a client address: the address itself, or its /64 for IPv6."""
    address = _address(client)
    if isinstance(address, ipaddress.IPv6Address):
        return str(ipaddress.IPv6Network((address, _IPV6_BUCKET_PREFIX), strict=False))
    return client if address is None else str(address)


def add_trusted_proxy_option(serve: argparse.ArgumentParser) -> None:
    """``--trusted-proxy``, the same for both services' ``serve``."""
    serve.add_argument(
        "--trusted-proxy",
        action="append",
        default=[],
        metavar="ADDRESS_OR_CIDR",
        help="可信反向代理（可重复；也可用环境变量，逗号分隔），默认以 TCP 对端为客户端 / a reverse proxy whose "
        f"X-Forwarded-For names the client (repeatable; also ${TRUSTED_PROXIES_ENV}, comma-separated); by default "
        "the TCP peer is the client",
    )


class ProxyListError(SkillpassError):
    """A trusted proxy that is not an address or network (``proxy_invalid``)."""

    def __init__(self, reason: str) -> None:
        super().__init__(
            "proxy_invalid", f"可信代理地址不正确：{reason}", f"not an address or network: {reason}"
        )


def trusted_proxies_from(named: list[str]) -> TrustedProxies:
    """The proxies named on the command line, else in the environment."""
    try:
        return TrustedProxies.parse(named or os.environ.get(TRUSTED_PROXIES_ENV, "").split(","))
    except ValueError as e:
        raise ProxyListError(str(e)) from e
