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


def client_address(request, trusted_hops=0):
    """The visitor's address. Behind `trusted_hops` proxies (the Ingress), the socket's peer is the
    last proxy, which appends the address it saw to X-Forwarded-For: the entry `trusted_hops` from
    the end is the visitor's. Entries before it were written by the client and are not believed."""
    if trusted_hops > 0:
        forwarded = [part.strip() for part in request.headers.get("X-Forwarded-For", "").split(",") if part.strip()]
        if len(forwarded) >= trusted_hops:
            return forwarded[-trusted_hops]
    return request.remote_addr or ""


class RateLimiter(DependencyProvider):
    """Injects `check(action, request)`, raising TooManyRequests over the limit, and returning the
    caller's source: an opaque key for their address (for profiles' per-handle throttle).

    Limits per client address come from config: SIGN_UP_LIMIT an hour, SIGN_IN_LIMIT per 15 minutes,
    CAMPAIGN_SIGN_LIMIT signatures and CAMPAIGN_LETTER_LIMIT letters an hour.
    Generous on purpose: people behind Tor share a handful of exit addresses. Behind the Ingress,
    TRUSTED_PROXY_HOPS=1 keys them by the visitor's address, not the Ingress's (which would put
    everyone in one bucket).
    """

    def setup(self):
        config = self.container.config
        self.buckets = {
            "sign_up": TokenBuckets(int(config.get("SIGN_UP_LIMIT", 5)), 3600),
            "sign_in": TokenBuckets(int(config.get("SIGN_IN_LIMIT", 20)), 900),
            # Signatures need no account: the limit per address is what keeps one client from
            # inflating a campaign's counts (an email signs once, but need not be given).
            "sign_campaign": TokenBuckets(int(config.get("CAMPAIGN_SIGN_LIMIT", 10)), 3600),
            # Letters need an account, but accounts are cheap: this keeps one client from burying
            # the moderators' queue.
            "write_letter": TokenBuckets(int(config.get("CAMPAIGN_LETTER_LIMIT", 20)), 3600),
        }
        self.key = os.urandom(32)
        self.trusted_hops = int(config.get("TRUSTED_PROXY_HOPS") or 0)

    def get_dependency(self, worker_ctx):
        def check(action, request):
            buckets = self.buckets[action]
            key = hmac.new(self.key, client_address(request, self.trusted_hops).encode(), hashlib.sha256).digest()
            if not buckets.allow(key):
                raise TooManyRequests(f"Too many attempts; try again in {buckets.retry_after(key)} seconds.")
            return key.hex()[:32]
        return check
