"""Each service on the bus as its own least-privileged RabbitMQ user (services/common/ops/broker_users.py).

The platform of this module runs every service as its own broker user, with the permissions and
topic permissions deploy/k8s and compose give them. A whole journey works, so the permissions are
enough; and a service's user cannot read another's RPC queue, nor address an operator-only RPC,
so they are no more than enough.
"""
import uuid
from urllib.parse import urlparse

import pytest
from amqp.exceptions import AccessRefused, NotAllowed
from kombu import Connection, Exchange, Queue

from services.common.ops.broker_users import RPC_EXCHANGE
from tests.support import wait_until

PLATFORM_OVERRIDES = {"BROKER_USERS": True}


def test_a_whole_journey_runs_with_one_least_privileged_user_per_service(platform, person, appoint):
    moderator = appoint(person(f"mod-{uuid.uuid4().hex[:6]}", "activist"), "moderator").sign_in_again()
    helper = person(f"helper-{uuid.uuid4().hex[:6]}", "volunteer")
    assert moderator.call("POST", f"/api/moderation/accounts/{helper.account['id']}/verify").ok
    assert helper.call("PUT", "/api/me/profile", {"skills": ["policy"], "languages": ["uz"]}).ok
    family = person(f"family-{uuid.uuid4().hex[:6]}", "activist")
    request_id = family.call("POST", "/api/requests", {
        "title": "Meeting with lawmakers", "body": "Details in a private message.", "skills": ["policy"],
        "languages": ["uz"], "country": "UZ", "visibility": "volunteers"}).json()["id"]
    match = wait_until(lambda: helper.call("GET", "/api/matches").json()["items"], message="a proposal")[0]
    assert helper.call("POST", f"/api/matches/{match['id']}/accept").status_code == 200
    assert family.call("POST", f"/api/matches/{match['id']}/confirm").status_code == 200
    wait_until(lambda: family.call("POST", f"/api/matches/{match['id']}/messages",
                                   {"text": "Thank you."}).status_code == 201, message="the channel to open")
    wait_until(lambda: helper.call("GET", "/api/search/requests", q="lawmakers").json()["total"] == 1,
               message="search to index it")
    wait_until(lambda: any(n["kind"] == "match_confirmed"
                           for n in helper.call("GET", "/api/notifications").json()["items"]),
               message="notify to tell the helper")
    assert family.call("GET", f"/api/requests/{request_id}").json()["status"] == "matched"


def _publish(platform, user, routing_key):
    with Connection(platform.broker_uri(user), transport_options={"confirm_publish": True}) as connection:
        producer = connection.Producer(exchange=Exchange(RPC_EXCHANGE, type="topic", passive=True))
        producer.publish({"args": [], "kwargs": {}}, routing_key=routing_key, retry=False)


def _consume(platform, user, queue_name):
    with Connection(platform.broker_uri(user)) as connection:
        Queue(queue_name, exchange=Exchange(RPC_EXCHANGE, type="topic"), routing_key="x.*",
              no_declare=True)(connection.channel()).get()


@pytest.mark.parametrize("user,routing_key", [
    ("matching", "profiles.grant_role"),   # a service cannot call another's RPC at all
    ("notify", "requests.get_request"),
    ("gateway", "profiles.grant_role"),    # the gateway cannot appoint anyone
    ("gateway", "requests.export_requests"),
])
def test_a_user_cannot_address_what_is_not_its_own(platform, user, routing_key):
    with pytest.raises((AccessRefused, NotAllowed)):
        _publish(platform, user, routing_key)


def test_what_each_user_needs_is_allowed(platform):
    _publish(platform, "gateway", "profiles.get_me")
    _publish(platform, "operator", "profiles.grant_role")


@pytest.mark.parametrize("user,queue", [("matching", "rpc-profiles"), ("search", "rpc-notify"),
                                        ("gateway", "evt-profiles-profile_registered--notify.on_profile_registered")])
def test_a_user_cannot_read_another_services_queue(platform, user, queue):
    with pytest.raises((AccessRefused, NotAllowed)):
        _consume(platform, user, queue)


@pytest.mark.parametrize("user", ["search", "matching", "profiles"])
def test_a_service_cannot_bind_a_queue_to_the_gateways_replies(platform, user):
    """A compromised pod must not copy the gateway's sealed replies off the bus: binding its own
    reply-style queue to a reply routing key (a uuid) is refused; the gateway's own binding is not."""
    def bind(as_user):
        with Connection(platform.broker_uri(as_user)) as connection:
            channel = connection.channel()
            queue = Queue(f"rpc.reply-{as_user}-{uuid.uuid4()}", exchange=Exchange(RPC_EXCHANGE, type="topic"),
                          routing_key=str(uuid.uuid4()), auto_delete=True)
            queue(channel).declare()

    with pytest.raises((AccessRefused, NotAllowed)):
        bind(user)
    bind("gateway")


def test_the_definitions_passwords_are_what_rabbitmq_checks(platform):
    """The hashes broker_users writes into definitions.json (what deploy/k8s and compose load)
    let exactly the right password in."""
    from services.common.ops.broker_users import password_hash
    name, password = f"{platform.vhost}-hashcheck", uuid.uuid4().hex
    platform.rabbit_manager._put("users", name, json={"password_hash": password_hash(password),
                                                      "hashing_algorithm": "rabbit_password_hashing_sha256",
                                                      "tags": ""})
    try:
        platform.rabbit_manager.set_vhost_permissions(platform.vhost, name, "", "", "")
        url = urlparse(platform.amqp_uri)
        for given, works in ((password, True), (password + "x", False)):
            uri = url._replace(netloc=f"{name}:{given}@{url.hostname}:{url.port}").geturl()
            with Connection(uri, connect_timeout=5) as connection:
                if works:
                    connection.connect()
                else:
                    with pytest.raises(AccessRefused):
                        connection.connect()
    finally:
        platform.rabbit_manager._delete("users", name)


def test_the_operator_lists_and_replays_dead_letters_as_its_own_user(platform):
    from services.common.bus import dead_letters
    operator = dict(platform.config, AMQP_URI=platform.broker_uri("operator"))
    assert dead_letters.list_dead(operator) == []
    assert dead_letters.replay(operator) == []
    with pytest.raises((AccessRefused, NotAllowed)):
        _consume(platform, "operator", "rpc-profiles")


@pytest.mark.parametrize("user", ["matching", "requests", "notify", "search", "profiles", "gateway"])
def test_no_service_can_forge_or_read_a_dead_letter(platform, user):
    """Dead-lettering is the broker's, by policy: a compromised pod cannot put a forged event on
    `dead-letters` for the operator to replay into a consumer (a confirmation, say), nor read the
    events that died there, nor declare the queue or the exchange itself."""
    from services.common.bus.topology import DEAD_LETTER_EXCHANGE, DEAD_LETTER_QUEUE
    with pytest.raises((AccessRefused, NotAllowed)):
        with Connection(platform.broker_uri(user), transport_options={"confirm_publish": True}) as connection:
            connection.Producer(exchange=Exchange(DEAD_LETTER_EXCHANGE, type="direct", passive=True)).publish(
                {"event_type": "match_confirmed"}, routing_key=DEAD_LETTER_QUEUE, retry=False,
                headers={"x-death": [{"queue": "evt-matching-match_confirmed--requests.on_match_confirmed",
                                      "exchange": "matching.events", "count": 1}]})
    with pytest.raises((AccessRefused, NotAllowed)):
        with Connection(platform.broker_uri(user)) as connection:
            Queue(DEAD_LETTER_QUEUE, no_declare=True)(connection.channel()).get()
    with pytest.raises((AccessRefused, NotAllowed)):
        with Connection(platform.broker_uri(user)) as connection:
            Exchange(DEAD_LETTER_EXCHANGE, type="direct", durable=True)(connection.channel()).declare()


def test_the_consumers_queues_are_dead_lettered_by_the_brokers_policy(platform):
    """(That the broker really moves a poison event there under this policy:
    services/common/tests/test_dead_letters_integration.py.)"""
    import re

    from services.common.bus.topology import DEAD_LETTER_POLICY
    [policy] = [p for p in platform.rabbit_manager._get("policies", platform.vhost) if p["name"] == DEAD_LETTER_POLICY]
    assert policy["definition"] == {"dead-letter-exchange": "dead-letters", "dead-letter-routing-key": "dead-letters"}
    queues = [q for q in platform.rabbit_manager.get_queues(platform.vhost) if q["name"].startswith("evt-")]
    assert len(queues) > 10
    for queue in queues:
        assert re.match(policy["pattern"], queue["name"]) and "x-dead-letter-exchange" not in queue["arguments"]
    assert "x-dead-letter-exchange" not in queue["arguments"]


def test_the_autoscaler_reads_queue_lengths_and_nothing_else(platform):
    """KEDA's scaler (deploy/k8s/autoscaling) asks each consumer queue its length with a passive
    declare, exactly as its RabbitMQ scaler does; the same user can read no message, publish
    nothing, declare nothing."""
    queue = "evt-requests-request_created--matching.on_request_created"
    with Connection(platform.broker_uri("autoscaler")) as connection:
        name, messages, _ = connection.channel().queue_declare(queue, passive=True)
        assert name == queue and messages >= 0
    with pytest.raises((AccessRefused, NotAllowed)):
        _consume(platform, "autoscaler", queue)
    with pytest.raises((AccessRefused, NotAllowed)):
        _publish(platform, "autoscaler", "profiles.get_me")
    with pytest.raises((AccessRefused, NotAllowed)):
        with Connection(platform.broker_uri("autoscaler")) as connection:
            connection.channel().queue_declare(f"scaler-{uuid.uuid4().hex}", durable=True, auto_delete=False)


def test_each_service_runs_as_its_own_store_user_and_owns_only_its_own_database(platform):
    """The stores' side of least privilege (tests/test_store_users.py shows what a user is refused):
    each running service was given only its own store user, and its database is that user's."""
    import psycopg

    from services.common.ops import store_users
    prefix = platform.config["DB_PREFIX"]
    for name, process in platform.processes.items():
        with open(f"/proc/{process.pid}/environ", "rb") as handle:
            environ = dict(item.split("=", 1) for item in handle.read().decode().split("\0") if "=" in item)
        own = store_users.role(name) if name in store_users.SERVICES else ""
        assert environ["MONGO_USERNAME"] == own, name
        assert not any(key.startswith("STORE_PASSWORD_") for key in environ), name
        assert environ["ES_USERNAME"] == (own if name == "search" else ""), name
        assert "@" not in environ.get("FERRETDB_POSTGRESQL_URL", ""), name  # no owner's password either
    with psycopg.connect(platform.config["FERRETDB_POSTGRESQL_URL"]) as connection:
        owners = dict(connection.execute(
            "SELECT nspname, pg_get_userbyid(nspowner) FROM pg_namespace WHERE nspname LIKE %s",
            (prefix + "\\_%",)).fetchall())
    assert owners == {f"{prefix}_{service}": store_users.role(service) for service in store_users.SERVICES}
