"""Rate limits for sign-up and sign-in, without recording anyone's IP address.

Buckets are keyed by an HMAC of the client address under a random key that lives only in this
process's memory and is never written anywhere: the limiter can tell two requests came from the
same address, but nothing it holds can be turned back into the address. (Per-handle sign-in
throttling, which holds across replicas, lives in profiles.)
"""
import hashlib
import hmac
import os
import threading
import time

from nameko.extensions import DependencyProvider

from services.common.errors import TooManyRequests


class TokenBuckets:
    """`allow(key)`: at most `capacity` events in a burst, refilled at `capacity` per `period_s`."""

    def __init__(self, capacity, period_s, clock=time.monotonic, max_keys=100_000):
        self.capacity = float(capacity)
        self.rate = self.capacity / float(period_s)
        self.clock = clock
        self.max_keys = max_keys
        self._buckets = {}
        self._lock = threading.Lock()

    def allow(self, key):
        now = self.clock()
        with self._lock:
            tokens, last = self._buckets.get(key, (self.capacity, now))
            tokens = min(self.capacity, tokens + (now - last) * self.rate)
            allowed = tokens >= 1
            self._buckets[key] = (tokens - 1 if allowed else tokens, now)
            if len(self._buckets) > self.max_keys:  # bounded memory under a flood of addresses
                self._buckets.clear()
            return allowed

    def retry_after(self, key):
        tokens, _ = self._buckets.get(key, (self.capacity, 0))
        return max(1, int((1 - tokens) / self.rate) + 1)


class RateLimiter(DependencyProvider):
    """Injects `check(action, client_address)`, raising TooManyRequests over the limit.

    Limits per client address come from config: SIGN_UP_LIMIT an hour, SIGN_IN_LIMIT per 15 minutes.
    Generous on purpose: people behind Tor share a handful of exit addresses.
    """

    def setup(self):
        config = self.container.config
        self.buckets = {
            "sign_up": TokenBuckets(int(config.get("SIGN_UP_LIMIT", 5)), 3600),
            "sign_in": TokenBuckets(int(config.get("SIGN_IN_LIMIT", 20)), 900),
        }
        self.key = os.urandom(32)

    def get_dependency(self, worker_ctx):
        def check(action, client_address):
            buckets = self.buckets[action]
            key = hmac.new(self.key, (client_address or "").encode(), hashlib.sha256).digest()
            if not buckets.allow(key):
                raise TooManyRequests(f"Too many attempts; try again in {buckets.retry_after(key)} seconds.")
        return check
