"""No event dropped for want of a queue.

nameko publishes events with `mandatory=False`: an event published before its consumers ever
declared their queues (a first deployment where `requests` starts before `matching`) is routed
nowhere and lost, with no error. So each publisher, when it starts, declares the queue of every
consumer of its events (the same queue, bound the same way, that the consumer's `event_handler`
declares: found by reading the services' entrypoints), and publishes an event that has consumers
with `mandatory=True`: should it still be unroutable, the publish fails and the event stays in
its outbox, to be published again by the relay timer.
"""
import importlib
import logging

from kombu import Connection, Queue
from nameko.constants import AMQP_SSL_CONFIG_KEY
from nameko.events import EventDispatcher, EventHandler, get_event_exchange

log = logging.getLogger(__name__)

SERVICES = ("profiles", "requests", "matching", "notify", "search")


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
    with Connection(config["AMQP_URI"], ssl=config.get(AMQP_SSL_CONFIG_KEY)) as connection:
        channel = connection.channel()
        for name, event_type in consumers:
            Queue(name, exchange=exchange, routing_key=event_type, durable=True, auto_delete=False,
                  exclusive=False)(channel).declare()
    return {event_type for _, event_type in consumers}


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
