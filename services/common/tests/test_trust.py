"""Sealed replies are bound to their call (services/common/trust/keyring.py): the gateway opens a reply
only if the service it called sealed it, for the method it called, for this very call."""
import pytest
from nacl.public import PrivateKey, PublicKey, SealedBox

from services.common.trust.keyring import Keyring, UnboundReply, _b64, _canonical, _unb64, new_keys, new_reply_call

KEYS = new_keys()
RING = Keyring(KEYS)
RESULT = {"token": "a session token", "role": "activist"}


def test_a_reply_opens_for_the_call_it_was_sealed_for():
    call = new_reply_call()
    reply = RING.seal_reply("profiles", "login", call, RESULT)
    assert set(reply) == {"sealed_reply"} and "session token" not in reply["sealed_reply"]
    assert RING.open_reply("profiles", "login", call, reply) == RESULT


@pytest.mark.parametrize("service, method, call", [
    ("profiles", "login", "another call"),        # copied and fed back as the answer to another call
    ("profiles", "get_me", "the call"),           # as the answer of another method
    ("requests", "login", "the call"),            # by another service that seals replies
    ("search", "login", "the call"),              # by a service that seals nothing at all
    ("matching", "login", "the call"),
])
def test_a_copied_reply_is_refused(service, method, call):
    reply = RING.seal_reply("profiles", "login", "the call", RESULT)
    with pytest.raises(UnboundReply):
        RING.open_reply(service, method, call, reply)


def test_a_reply_only_the_gateway_could_open_but_anyone_could_write_is_refused():
    """An anonymous sealed box to the gateway's public key (the old form) proves nothing about its writer."""
    anonymous = SealedBox(PublicKey(_unb64(KEYS["SEAL_PUBLIC_GATEWAY"]))).encrypt(
        _canonical({"from": "profiles", "method": "login", "call": "the call", "result": RESULT}))
    for reply in ({"sealed": _b64(anonymous)}, {"sealed_reply": _b64(anonymous)}, {"sealed_reply": 7}, RESULT):
        with pytest.raises(UnboundReply):
            RING.open_reply("profiles", "login", "the call", reply)


def test_a_reply_written_with_another_key_claiming_to_be_profiles_is_refused():
    impostor = dict(KEYS, SEAL_KEY_PROFILES=_b64(PrivateKey.generate()))  # a pod with a key of its own
    forged = Keyring(impostor).seal_reply("profiles", "login", "the call", RESULT)
    with pytest.raises(UnboundReply):
        RING.open_reply("profiles", "login", "the call", forged)


# ---- signed viewers are bound to the call they were signed for (`aud`)

from services.common.errors import Forbidden  # noqa: E402
from services.common.trust.keyring import ANY_AUDIENCE, GATEWAY_AUDIENCE  # noqa: E402

CLAIMS = {"account_id": "a1", "role": "activist", "handle": "family", "verified": False}


def test_the_gateway_signs_a_viewer_again_for_each_call_and_it_counts_there_only():
    resolved = RING.sign_viewer(CLAIMS)  # when the gateway resolves a session
    assert resolved["claims"]["aud"] == GATEWAY_AUDIENCE
    for_get = RING.for_call(resolved, "requests", "get_request")
    assert for_get["claims"]["aud"] == "requests.get_request"
    assert RING.verify_viewer(for_get, "requests.get_request") == CLAIMS
    for elsewhere in ("requests.edit_request", "profiles.get_request", "matching.list_matches"):
        with pytest.raises(Forbidden):
            RING.verify_viewer(for_get, elsewhere)
    with pytest.raises(Forbidden):  # the gateway's own is valid at no service
        RING.verify_viewer(resolved, "requests.get_request")
    with pytest.raises(Forbidden):  # nor outside a call
        RING.verify_viewer(for_get)


def test_only_a_viewer_the_gateway_signed_for_itself_is_signed_again():
    for_one_call = RING.sign_viewer(CLAIMS, audience="requests.get_request")
    for other in (for_one_call, "a handle", None, {"claims": "x", "signature": "y"}):
        assert RING.for_call(other, "matching", "list_matches") is other  # passed on as it is
    # One that claims to be the gateway's but is not signed with its key is not made valid.
    stranger = Keyring(new_keys()).sign_viewer(CLAIMS)
    with pytest.raises(Forbidden):
        RING.for_call(stranger, "requests", "get_request")
    with pytest.raises(Forbidden):
        RING.for_call(dict(RING.sign_viewer(CLAIMS), claims=dict(CLAIMS, aud=GATEWAY_AUDIENCE, role="moderator",
                                                                  expires_at=2**40)), "requests", "get_request")


def test_a_viewer_for_any_call_is_what_only_the_key_holders_tooling_signs():
    assert RING.verify_viewer(RING.sign_viewer(CLAIMS, audience=ANY_AUDIENCE), "search.requests") == CLAIMS
