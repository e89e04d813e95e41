"""No event is lost for want of a queue, against the real broker (services/common/bus/topology.py)."""
from datetime import datetime, timezone

import pytest
from nameko.amqp.publish import UndeliverableMessage
from nameko.testing.services import dummy, entrypoint_hook, entrypoint_waiter

from services.common.store import outbox
from services.common.bus.events import make_event
from services.common.bus.topology import ReliableEventDispatcher, consumers_of, declare_consumer_queues
from services.matching.service import MatchingService


class EarlyRequests:
    """The requests service's publishing side, started alone (as on a first deployment)."""
    name = "requests"
    dispatch = ReliableEventDispatcher()

    @dummy
    def publish(self, event):
        self.dispatch(event["event_type"], event)

    @dummy
    def flush(self, collection, doc_id):
        return outbox.flush(collection, doc_id, self.dispatch)


def request_created(request_id="r1"):
    return make_event("requests", "request_created", {
        "request_id": request_id, "author_id": "a1", "title": "Lawyer needed", "body": "A family needs help.",
        "skills": ["legal"], "languages": ["fa"], "country": "IR", "urgency": "high", "visibility": "public",
        "status": "open", "hidden": False, "created_at": datetime(2026, 1, 5, tzinfo=timezone.utc), "version": 1})


def test_an_event_published_before_its_consumer_ever_ran_reaches_it(container_factory, config):
    publisher = container_factory(EarlyRequests, config)
    publisher.start()
    with entrypoint_hook(publisher, "publish") as publish:
        publish(request_created())  # matching has never started on this broker
    matching = container_factory(MatchingService, config)
    with entrypoint_waiter(matching, "on_request_created", timeout=20):
        matching.start()


def test_an_unroutable_event_is_an_error_and_stays_in_its_outbox(container_factory, config, rabbit_manager,
                                                                  db_for):
    publisher = container_factory(EarlyRequests, config)
    publisher.start()
    vhost = config["AMQP_URI"].rsplit("/", 1)[1]
    for name, event_type in consumers_of("requests"):
        if event_type == "request_created":
            rabbit_manager._delete("queues", vhost, name)  # an operator removed them by mistake
    with entrypoint_hook(publisher, "publish") as publish:
        with pytest.raises(UndeliverableMessage):
            publish(request_created())

    collection = db_for("requests")["requests"]
    event = request_created("r2")
    outbox.insert_with_events(collection, {"_id": "r2", "version": 1}, [event])
    with entrypoint_hook(publisher, "flush") as flush:
        assert flush(collection, "r2") == 0
        assert [e["event_id"] for e in collection.find_one({"_id": "r2"})[outbox.OUTBOX]] == [event["event_id"]]
        declare_consumer_queues(config, "requests")  # the next start of the publisher does this
        assert flush(collection, "r2") == 1
    assert collection.find_one({"_id": "r2"})[outbox.OUTBOX] == []


def test_an_empty_classic_queue_of_an_older_version_is_replaced(config, rabbit_manager):
    from kombu import Queue

    from services.common.bus.topology import connect
    name, _ = consumers_of("requests")[0]
    with connect(config) as connection:
        Queue(name, durable=True)(connection.channel()).declare()  # as nameko declared it before
    declare_consumer_queues(config, "requests")
    vhost = config["AMQP_URI"].rsplit("/", 1)[1]
    assert rabbit_manager.get_queue(vhost, name)["arguments"]["x-queue-type"] == "quorum"
