"""No event dropped for want of a queue, and no poison message looping forever.

nameko publishes events with `mandatory=False`: an event published before its consumers ever
declared their queues (a first deployment where `requests` starts before `matching`) is routed
nowhere and lost, with no error. So each publisher, when it starts, declares the queue of every
consumer of its events (the same queue, bound the same way, that the consumer's `event_handler`
declares: found by reading the services' entrypoints), and publishes an event that has consumers
with `mandatory=True`: should it still be unroutable, the publish fails and the event stays in
its outbox, to be published again by the relay timer.

Consumer queues are RabbitMQ quorum queues with a delivery limit, dead-lettered by the broker: a
message its handler fails on `EVENT_DELIVERY_LIMIT` times (each retry after a pause, consumer.py)
is moved by the broker to the `dead-letters` queue instead of holding a worker forever (nameko's
`requeue_on_error` loops otherwise). `python -m services.common.bus.dead_letters` lists and replays
them; consumers are idempotent, so a replayed event changes nothing twice.

Dead-lettering is the broker's own, by policy (`broker_objects`), not queue arguments: declaring a
queue with a dead-letter exchange takes write on that exchange, and a service allowed to write
there could forge dead letters for the operator to replay. So the services cannot publish to,
read or declare `dead-letters`; the deployment's broker definitions (broker_users.definitions),
`./dev up` and the tests (`prepare_broker`) declare it, and only the operator reads it.
"""
import importlib
import logging

from amqp.exceptions import PreconditionFailed
from kombu import Connection, Exchange, Queue
from nameko.constants import AMQP_SSL_CONFIG_KEY
from nameko.events import EventDispatcher, EventHandler, get_event_exchange

from services.common import catalog

log = logging.getLogger(__name__)

SERVICES = catalog.BACKEND
DEAD_LETTER_EXCHANGE = DEAD_LETTER_QUEUE = "dead-letters"
DEFAULT_DELIVERY_LIMIT = 5


def consumer_queue(name, exchange, event_type, config):
    """A consumer's queue, exactly as both its consumer and its publisher declare it."""
    limit = int(config.get("EVENT_DELIVERY_LIMIT") or DEFAULT_DELIVERY_LIMIT)
    return Queue(name, exchange=exchange, routing_key=event_type, durable=True, auto_delete=False, exclusive=False,
                 queue_arguments={"x-queue-type": "quorum", "x-delivery-limit": limit})


def dead_letter_queue():
    """The dead-letter queue, as the operator's tooling reads it (passively: it never declares it)."""
    return Queue(DEAD_LETTER_QUEUE, exchange=Exchange(DEAD_LETTER_EXCHANGE, type="direct", durable=True),
                 routing_key=DEAD_LETTER_QUEUE, durable=True, auto_delete=False, no_declare=True)


# The policy that dead-letters every event consumer's queue (their names: consumers_of).
DEAD_LETTER_POLICY = "dead-lettering"
CONSUMER_QUEUES = "^evt-"


def broker_objects(vhost="/"):
    """What the broker holds for dead-lettering, in RabbitMQ's definitions format: the exchange, the
    queue and its binding, and the policy applying them to the consumers' queues."""
    return {
        "exchanges": [{"name": DEAD_LETTER_EXCHANGE, "vhost": vhost, "type": "direct", "durable": True,
                       "auto_delete": False, "internal": False, "arguments": {}}],
        "queues": [{"name": DEAD_LETTER_QUEUE, "vhost": vhost, "durable": True, "auto_delete": False,
                    "arguments": {}}],
        "bindings": [{"source": DEAD_LETTER_EXCHANGE, "vhost": vhost, "destination": DEAD_LETTER_QUEUE,
                      "destination_type": "queue", "routing_key": DEAD_LETTER_QUEUE, "arguments": {}}],
        "policies": [{"name": DEAD_LETTER_POLICY, "vhost": vhost, "pattern": CONSUMER_QUEUES, "apply-to": "queues",
                      "priority": 0, "definition": {"dead-letter-exchange": DEAD_LETTER_EXCHANGE,
                                                    "dead-letter-routing-key": DEAD_LETTER_QUEUE}}],
    }


def prepare_broker(client, vhost):
    """Declare `broker_objects` on a running broker through its management API, as an
    administrator (idempotent). `client`: nameko's management client (`_put`, `_post`)."""
    objects = broker_objects(vhost)
    for exchange in objects["exchanges"]:
        client._put("exchanges", vhost, exchange["name"], json={"type": exchange["type"], "durable": True})
    for queue in objects["queues"]:
        client._put("queues", vhost, queue["name"], json={"durable": True, "auto_delete": False})
    for binding in objects["bindings"]:
        client._post("bindings", vhost, "e", binding["source"], "q", binding["destination"],
                     json={"routing_key": binding["routing_key"]})
    for policy in objects["policies"]:
        client._put("policies", vhost, policy["name"], json={key: policy[key] for key in (
            "pattern", "apply-to", "priority", "definition")})


def connect(config):
    return Connection(config["AMQP_URI"], ssl=config.get(AMQP_SSL_CONFIG_KEY))


def declare(connection, queue):
    """Declare a consumer queue. One left by an older version as a classic queue (without the
    dead-lettering arguments) is replaced if it is empty; if it holds messages, nothing is
    deleted and the operator is told what to do."""
    try:
        queue(connection.channel()).declare()
    except PreconditionFailed:
        channel = connection.channel()
        _, messages, _ = channel.queue_declare(queue.name, passive=True)
        if messages:
            raise RuntimeError(
                f"queue {queue.name} is a classic queue holding {messages} message(s): let its consumer of "
                "the previous version drain it, then delete it (rabbitmqctl delete_queue) and start again") from None
        log.warning("replacing the empty classic queue %s by a quorum queue", queue.name)
        channel.queue_delete(queue.name)
        queue(connection.channel()).declare()


def consumers_of(source):
    """[(queue name, event type)] of every service's handlers of `source`'s events."""
    found = []
    for package in SERVICES:
        module = importlib.import_module(f"services.{package}.service")
        for service_cls in vars(module).values():
            service_name = getattr(service_cls, "name", None)
            if not isinstance(service_cls, type) or service_name != package:
                continue
            for attribute, method in vars(service_cls).items():
                for entrypoint in getattr(method, "nameko_entrypoints", ()):
                    if isinstance(entrypoint, EventHandler) and entrypoint.source_service == source:
                        queue = f"evt-{source}-{entrypoint.event_type}--{service_name}.{attribute}"
                        found.append((queue, entrypoint.event_type))
    return found


def declare_consumer_queues(config, source):
    """Declare (idempotently) every consumer queue of `source`'s events, bound as its consumer
    binds it. Returns the event types that have consumers."""
    exchange = get_event_exchange(source, config)
    consumers = consumers_of(source)
    with connect(config) as connection:
        for name, event_type in consumers:
            declare(connection, consumer_queue(name, exchange, event_type, config))
    return {event_type for _, event_type in consumers}


class QuorumEventHandler(EventHandler):
    """nameko's event_handler on a quorum queue with a delivery limit and dead-lettering."""

    def setup(self):
        super().setup()
        config = self.container.config
        self.queue = consumer_queue(self.queue.name, self.queue.exchange, self.event_type, config)
        with connect(config) as connection:
            declare(connection, self.queue)


class ReliableEventDispatcher(EventDispatcher):
    """nameko's EventDispatcher, with its consumers' queues declared at start and `mandatory`
    publishing for every event that has consumers."""

    def setup(self):
        super().setup()
        self.consumed = declare_consumer_queues(self.container.config, self.container.service_name)

    def get_dependency(self, worker_ctx):
        extra_headers = self.get_message_headers(worker_ctx)

        def dispatch(event_type, event_data):
            self.publisher.publish(event_data, exchange=self.exchange, routing_key=event_type,
                                   extra_headers=extra_headers, mandatory=event_type in self.consumed)

        return dispatch


if __name__ == "__main__":
    # `python -m services.common.bus.topology prepare [VHOST]`: the dead-lettering objects on the broker of
    # RABBIT_MGMT_URI (the local stack's; `./dev up` runs it), in VHOST (default: AMQP_URI's).
    import os
    import sys
    from urllib.parse import unquote, urlsplit

    from nameko.testing.rabbit import Client  # the management API client nameko ships

    if sys.argv[1:2] != ["prepare"]:
        sys.exit("usage: python -m services.common.bus.topology prepare [VHOST]")
    vhost = sys.argv[2] if len(sys.argv) > 2 else unquote(urlsplit(os.environ["AMQP_URI"]).path[1:]) or "/"
    prepare_broker(Client(os.environ["RABBIT_MGMT_URI"].rstrip("/")), vhost)
