"""Who the public query limit counts: the peer, or what a trusted proxy observed; IPv6 by /64; and a
full bucket table that forgets one client at a time, never everyone at once."""

from __future__ import annotations

from common.clients import TrustedProxies, bucket_of
from registry.ratelimit import RateLimiter

NGINX = TrustedProxies.parse(["10.0.0.10"])


def test_without_a_trusted_proxy_the_peer_is_the_client() -> None:
    assert TrustedProxies().client("203.0.113.5", "198.51.100.1") == "203.0.113.5"
    assert NGINX.client("203.0.113.5", "198.51.100.1") == "203.0.113.5"  # not the proxy: ignored


def test_behind_a_trusted_proxy_the_client_is_what_the_proxy_observed() -> None:
    assert NGINX.client("10.0.0.10", "198.51.100.7") == "198.51.100.7"
    assert NGINX.client("10.0.0.10", "1.2.3.4, 5.6.7.8, 198.51.100.7") == "198.51.100.7"
    assert NGINX.client("::ffff:10.0.0.10", "[2001:db8::1]") == "2001:db8::1"
    chain = TrustedProxies.parse(["10.0.0.0/24"])
    assert chain.client("10.0.0.10", "1.2.3.4, 198.51.100.7, 10.0.0.11") == "198.51.100.7"
    assert chain.client("10.0.0.10", "10.0.0.12, 10.0.0.11") == "10.0.0.12"
    assert NGINX.client("10.0.0.10", None) == "10.0.0.10"
    assert NGINX.client("10.0.0.10", "1.2.3.4, not-an-address") == "10.0.0.10"


def test_ipv6_clients_share_one_bucket_per_64() -> None:
    assert (
        bucket_of("2001:db8:1:2::1") == bucket_of("2001:db8:1:2:ffff:ffff:ffff:ffff") == "2001:db8:1:2::/64"
    )
    assert bucket_of("2001:db8:1:3::1") != bucket_of("2001:db8:1:2::1")
    assert bucket_of("198.51.100.7") == "198.51.100.7"
    assert bucket_of("::ffff:198.51.100.7") == "198.51.100.7"
    limiter = RateLimiter(rate=0.0, burst=3)
    answers = [limiter.allow(bucket_of(f"2001:db8:1:2::{i:x}"), 0.0) for i in range(1, 6)]
    assert answers == [True, True, True, False, False]
    assert limiter.allow(bucket_of("2001:db8:1:3::1"), 0.0)


def test_a_full_table_forgets_one_idle_bucket_at_a_time_never_all() -> None:
    limiter = RateLimiter(rate=0.0, burst=1, max_clients=3)
    assert limiter.allow("attacker", 0.0)
    for i in range(10):  # an address-spraying flood fills the table again and again
        assert limiter.allow(f"spray-{i}", 1.0)
        assert not limiter.allow("attacker", 1.0)
