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
