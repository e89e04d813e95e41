"""The gateway is no decryption oracle: it opens a sealed reply only if the service it called
sealed it for this very call (services/common/trust/keyring.py), on the real broker.

A compromised pod on the bus can copy a sealed reply (a session token, sealed to the gateway) and
feed it back as its own answer to a call it serves: a public search, or the same service's answer
to another call. The gateway must refuse it, and nothing of it may reach the client.
"""
import requests
from nameko.rpc import rpc

from services.common.trust.keyring import ReplyCall, keyring
from services.gateway.service import GatewayService
from tests.e2e.platform import free_port

TOKEN = "the-activists-session-token"
CAPTURED = []  # what the compromised pod copied off the bus


class Profiles:
    """Stands in for profiles: its first login reply is genuine (sealed for that call); every later
    one is the first, copied, as a pod replaying it would send it."""
    name = "profiles"
    reply_call = ReplyCall()

    @rpc
    def login(self, payload, source=None):
        if not CAPTURED:
            CAPTURED.append(keyring().seal_reply("profiles", "login", self.reply_call,
                                                 {"token": TOKEN, "expires_at": "2030-01-01T00:00:00+00:00",
                                                  "account_id": "a1", "role": "activist"}))
        return CAPTURED[0]


class Search:
    """Stands in for a compromised search pod: it answers a public search with the copied reply."""
    name = "search"

    @rpc
    def search_requests(self, viewer, params):
        return CAPTURED[0]


def test_a_copied_sealed_reply_is_refused_whoever_sends_it(container_factory, config):
    CAPTURED.clear()
    port = free_port()
    for service in (Profiles, Search):
        container_factory(service, config).start()
    container_factory(GatewayService, dict(config, WEB_SERVER_ADDRESS=f"127.0.0.1:{port}")).start()
    url = f"http://127.0.0.1:{port}"
    credentials = {"handle": "roya", "password": "correct horse battery"}

    genuine = requests.post(f"{url}/api/sessions", json=credentials, timeout=20)
    assert genuine.status_code == 200 and genuine.json()["token"] == TOKEN  # sealed for its call: opened

    replayed = requests.post(f"{url}/api/sessions", json=credentials, timeout=20)  # same service, another call
    oracle = requests.get(f"{url}/api/search/requests", params={"q": "anything"}, timeout=20)  # another service
    for refused in (replayed, oracle):
        assert refused.status_code == 503 and refused.json()["error"]["code"] == "service_unavailable"
        assert TOKEN not in refused.text
