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
