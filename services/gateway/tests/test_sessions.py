"""The gateway's session cache (services/gateway/sessions.py): bounded, short-lived, keyed by a
hash of the token, and forgotten at once on what this process revokes."""
from services.gateway.sessions import SessionCache


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def claims(account_id):
    return {"account_id": account_id, "role": "activist", "handle": account_id, "verified": False}


def test_claims_are_kept_for_the_ttl_only():
    clock = Clock()
    cache = SessionCache(ttl_s=5, clock=clock)
    cache.put("token-1", claims("a"))
    assert cache.get("token-1") == claims("a") and cache.get("token-2") is None
    clock.now += 4.9
    assert cache.get("token-1") == claims("a")
    clock.now += 0.2
    assert cache.get("token-1") is None


def test_the_token_itself_is_never_kept():
    cache = SessionCache()
    cache.put("a-secret-token", claims("a"))
    assert "a-secret-token" not in repr(cache.entries)


def test_it_holds_at_most_its_size_dropping_the_least_recently_used():
    cache = SessionCache(size=2)
    cache.put("t1", claims("a"))
    cache.put("t2", claims("b"))
    cache.get("t1")
    cache.put("t3", claims("c"))
    assert cache.get("t2") is None and cache.get("t1") and cache.get("t3")


def test_a_sign_out_forgets_the_token_and_everywhere_every_session_of_the_account():
    cache = SessionCache()
    for token, account in (("t1", "a"), ("t2", "a"), ("t3", "b")):
        cache.put(token, claims(account))
    assert cache.forget_token("t1") == "a" and cache.get("t1") is None and cache.get("t2")
    cache.forget_account("a")
    assert cache.get("t2") is None and cache.get("t3") == claims("b")


def test_a_ttl_of_zero_keeps_nothing():
    cache = SessionCache(ttl_s=0)
    cache.put("t1", claims("a"))
    assert cache.get("t1") is None
