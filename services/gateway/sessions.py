"""The claims a session token stands for, kept a few seconds in each gateway process.

Resolving a bearer token is an RPC to profiles (two broker deliveries and two store commands) on
every call a signed-in person makes; a page or a client making several calls in a row asks the
same question each time. Each gateway process keeps the answer for `SESSION_CACHE_S` seconds (5
by default; 0 turns it off), in a bounded LRU keyed by the SHA-256 of the token (the token itself
is never kept).

Revocation: what this process does itself takes effect at once (sign-out, sign-out everywhere,
deletion, a moderator's suspension or verification change through this gateway evict the token or
every entry of the account). What it cannot see (another replica's sign-out, an operator's role
change, a session expiring) takes effect within `SESSION_CACHE_S`: a revoked session stops
working within seconds everywhere (tests/e2e/test_accounts_requests.py shows both).
"""
import hashlib
import threading
import time
from collections import OrderedDict

DEFAULT_TTL_S = 5.0
DEFAULT_SIZE = 10_000


def _key(token):
    return hashlib.sha256(token.encode()).hexdigest()


class SessionCache:
    def __init__(self, ttl_s=DEFAULT_TTL_S, size=DEFAULT_SIZE, clock=time.monotonic):
        self.ttl_s, self.size, self.clock = ttl_s, size, clock
        self.entries = OrderedDict()  # key -> (expires, claims)
        self.lock = threading.Lock()

    def get(self, token):
        """The claims cached for `token`, or None (absent or older than the TTL)."""
        if self.ttl_s <= 0:
            return None
        key = _key(token)
        with self.lock:
            entry = self.entries.get(key)
            if entry is None:
                return None
            if entry[0] <= self.clock():
                del self.entries[key]
                return None
            self.entries.move_to_end(key)
            return dict(entry[1])

    def put(self, token, claims):
        if self.ttl_s <= 0:
            return
        with self.lock:
            self.entries[_key(token)] = (self.clock() + self.ttl_s, dict(claims))
            self.entries.move_to_end(_key(token))
            while len(self.entries) > self.size:
                self.entries.popitem(last=False)

    def forget_token(self, token):
        """Evict one session; returns the account it was for, if it was cached."""
        with self.lock:
            entry = self.entries.pop(_key(token), None)
        return entry[1]["account_id"] if entry else None

    def forget_account(self, account_id):
        """Evict every session of an account this process holds."""
        with self.lock:
            for key in [k for k, (_, claims) in self.entries.items() if claims["account_id"] == account_id]:
                del self.entries[key]


CACHE = SessionCache()


def configure(config):
    """The TTL from configuration (once per process; tests may set 0 to turn the cache off)."""
    CACHE.ttl_s = float(config.get("SESSION_CACHE_S", DEFAULT_TTL_S))
