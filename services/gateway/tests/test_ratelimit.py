from services.gateway.ratelimit import TokenBuckets


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def test_a_burst_is_allowed_then_refused_until_tokens_refill():
    clock = Clock()
    buckets = TokenBuckets(capacity=3, period_s=60, clock=clock)
    assert [buckets.allow("a") for _ in range(4)] == [True, True, True, False]
    assert buckets.allow("b")  # another address has its own bucket
    assert buckets.retry_after("a") > 0
    clock.now = 20.0  # 3 per 60 s: one token back after 20 s
    assert buckets.allow("a") and not buckets.allow("a")


def test_memory_stays_bounded_under_a_flood_of_addresses():
    buckets = TokenBuckets(capacity=1, period_s=60, clock=Clock(), max_keys=100)
    for i in range(1000):
        buckets.allow(f"address-{i}")
    assert len(buckets._buckets) <= 100


def test_behind_trusted_proxies_the_visitors_address_is_the_one_they_appended():
    from types import SimpleNamespace

    from services.gateway.ratelimit import client_address

    def request(forwarded=None, peer="10.0.0.5"):
        return SimpleNamespace(headers={"X-Forwarded-For": forwarded} if forwarded else {}, remote_addr=peer)

    # No proxy trusted: the header is the client's own words, and ignored.
    assert client_address(request("1.2.3.4"), 0) == "10.0.0.5"
    # One proxy (the Ingress) appended what it saw; what the client wrote before it is not believed.
    assert client_address(request("6.6.6.6, 203.0.113.7"), 1) == "203.0.113.7"
    assert client_address(request("203.0.113.7"), 1) == "203.0.113.7"
    assert client_address(request("6.6.6.6, 203.0.113.7, 10.1.1.1"), 2) == "203.0.113.7"
    # Fewer entries than trusted hops: the request did not come through them; the peer it is.
    assert client_address(request(None), 1) == "10.0.0.5"


def test_a_source_is_an_ipv4_address_or_an_ipv6_slash_64_keyed_alike_in_every_replica():
    """One subscriber holds a whole IPv6 /64: keyed by address, it would be 2**64 sources."""
    from services.gateway.ratelimit import source_address, source_key

    assert source_address("2001:db8:1:2:aaaa::1") == source_address("2001:db8:1:2:ffff:1:2:3") == "2001:db8:1:2::/64"
    assert source_address("2001:db8:1:3::1") != source_address("2001:db8:1:2::1")
    assert source_address("::ffff:203.0.113.7") == source_address("203.0.113.7") == "203.0.113.7"
    assert source_address("not an address") == "not an address"
    key = b"k" * 32  # what each replica derives from the gateway's secret
    assert source_key(key, "2001:db8:1:2::1") == source_key(key, "2001:db8:1:2::9")
    assert source_key(key, "203.0.113.7") != source_key(b"x" * 32, "203.0.113.7")
