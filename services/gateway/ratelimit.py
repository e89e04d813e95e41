"""Rate limits, without recording anyone's IP address.

A caller is known by a "source": an HMAC of their address (of its /64 for IPv6, which one
subscriber holds whole) under a key every gateway replica derives from the gateway's own secret
and that is never written anywhere: the same address is the same source whichever replica it
reaches, and nothing held can be turned back into the address.

Sign-up and every password check are bounded in profiles, per source and per account, in its
store: shared by every replica (services/profiles/service.py). What stays here, per process, are
the limits of actions that need no account (a campaign's signatures) or whose flood only buries a
queue (letters).
"""
import hashlib
import hmac
import ipaddress
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


def source_address(address):
    """What one caller is counted as: an IPv4 address, or an IPv6 address's /64 (a subscriber gets a
    whole /64 and picks any address in it)."""
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address
    if parsed.version == 6:
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.ip_network(f"{parsed}/64", strict=False))
    return str(parsed)


def source_key(key, address):
    return hmac.new(key, source_address(address).encode(), hashlib.sha256).digest()


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
    """Injects `check(action, request)`, raising TooManyRequests over the action's limit (if it has
    one here), and returning the caller's source: an opaque key for their address, the same in every
    replica (for profiles' shared bounds on sign-up and password checks: `sign_up`, `sign_in`).

    Limits per source from config: CAMPAIGN_SIGN_LIMIT signatures and CAMPAIGN_LETTER_LIMIT letters
    an hour. Generous on purpose: people behind Tor share a handful of exit addresses. Behind the
    Ingress, TRUSTED_PROXY_HOPS=1 keys them by the visitor's address, not the Ingress's (which would
    put everyone in one bucket).
    """

    def setup(self):
        config = self.container.config
        self.buckets = {
            # Signatures need no account: the limit per address is what keeps one client from
            # inflating a campaign's counts (an email signs once, but need not be given).
            "sign_campaign": TokenBuckets(int(config.get("CAMPAIGN_SIGN_LIMIT", 10)), 3600),
            # Letters need an account, but accounts are cheap: this keeps one client from burying
            # the moderators' queue.
            "write_letter": TokenBuckets(int(config.get("CAMPAIGN_LETTER_LIMIT", 20)), 3600),
            # Texts come from the provider's few addresses: they are limited by the number they
            # come from, and by the provider's account (services/gateway/intake/sms.py).
            "sms_number": TokenBuckets(int(config.get("SMS_NUMBER_LIMIT", 30)), 3600),
            "sms_account": TokenBuckets(int(config.get("SMS_ACCOUNT_LIMIT", 3000)), 3600),
            # Emails come from the project's relay: limited by the address they come from.
            "mail_address": TokenBuckets(int(config.get("MAIL_ADDRESS_LIMIT", 30)), 3600),
        }
        # Derived from the gateway's own secret, so every replica keys a source alike (no new
        # secret to hand out, and knowing a source key gives neither this key nor the secret).
        secret = (config.get("SEAL_KEY_GATEWAY") or "").encode()
        if not secret:
            raise ValueError("SEAL_KEY_GATEWAY is not configured")
        self.key = hmac.new(secret, b"allies rate-limit sources", hashlib.sha256).digest()
        self.trusted_hops = int(config.get("TRUSTED_PROXY_HOPS") or 0)

    def get_dependency(self, worker_ctx):
        def check(action, request, key=None):
            """`key`: what to count by instead of the caller's address (a phone number: keyed
            here like an address, so the buckets hold no number)."""
            key = source_key(self.key, key if key is not None else client_address(request, self.trusted_hops))
            buckets = self.buckets.get(action)  # sign_up, sign_in: bounded in profiles
            if buckets is not None and not buckets.allow(key):
                raise TooManyRequests(f"Too many attempts; try again in {buckets.retry_after(key)} seconds.")
            return key.hex()[:32]
        return check
