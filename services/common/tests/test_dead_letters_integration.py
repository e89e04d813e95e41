"""A poison message goes to the dead-letter queue, by the broker, and can be replayed once fixed."""
import json
from datetime import datetime, timezone

from nameko.standalone.events import event_dispatcher
from nameko.testing.services import entrypoint_waiter

from services.common.bus import dead_letters
from services.common.bus.consumer import consumes
from services.common.bus.events import make_event
from services.common.store.mongo import ServiceDatabase
from tests.support import wait_until

HANDLED, BROKEN = [], {"on": True}


class Fragile:
    name = "fragile"
    db = ServiceDatabase()

    @consumes("requests", "request_created")
    def on_request_created(self, event):
        if BROKEN["on"] and event.data["title"] == "poison pill":
            raise RuntimeError("a bug meets this event")
        HANDLED.append(event.event_id)


def created(title, request_id):
    return make_event("requests", "request_created", {
        "request_id": request_id, "author_id": "a1", "title": title, "body": "A family needs help.",
        "skills": ["legal"], "languages": ["fa"], "country": "IR", "urgency": "high", "visibility": "public",
        "status": "open", "hidden": False, "created_at": datetime(2026, 1, 5, tzinfo=timezone.utc), "version": 1})


def test_a_poison_event_is_dead_lettered_after_the_limit_then_replayed_once(container_factory, config):
    HANDLED.clear()
    BROKEN["on"] = True
    config = dict(config, EVENT_DELIVERY_LIMIT=2)
    container = container_factory(Fragile, config)
    container.start()
    dispatch = event_dispatcher(config)
    poison, fine = created("poison pill", "r1"), created("Lawyer needed", "r2")
    dispatch("requests", "request_created", poison)
    with entrypoint_waiter(container, "on_request_created", callback=lambda *a: fine["event_id"] in HANDLED,
                           timeout=30):
        dispatch("requests", "request_created", fine)  # the poison does not hold the queue
    dead = wait_until(lambda: dead_letters.list_dead(config), timeout=30, message="the poison to be dead-lettered")
    assert [(d["event_id"], d["event_type"], d["queue"]) for d in dead] == [
        (poison["event_id"], "request_created", "evt-requests-request_created--fragile.on_request_created")]
    assert "poison pill" not in str(dead)  # ids and types, never bodies
    assert dead_letters.list_dead(config) == dead  # listing takes nothing away

    BROKEN["on"] = False  # the bug is fixed
    with entrypoint_waiter(container, "on_request_created", timeout=30):
        assert [d["event_id"] for d in dead_letters.replay(config)] == [poison["event_id"]]
    assert HANDLED.count(poison["event_id"]) == 1 and dead_letters.list_dead(config) == []
    # Replaying it again (say, from a copy) changes nothing: the ledger knows it.
    with entrypoint_waiter(container, "on_request_created", timeout=30):
        dispatch("requests", "request_created", poison)
    assert HANDLED.count(poison["event_id"]) == 1


def test_replay_refuses_a_letter_that_does_not_belong_to_the_queue_it_names(container_factory, config):
    """A letter put on dead-letters by hand, naming a consumer of another event (a forged
    confirmation aimed at a request handler), is not replayed: it stays, reported."""
    from kombu import Connection, Exchange

    from services.common.bus.topology import DEAD_LETTER_EXCHANGE, DEAD_LETTER_QUEUE

    container_factory(Fragile, config).start()  # declares its queue and the dead-letter queue
    queue = "evt-requests-request_created--fragile.on_request_created"
    forged = make_event("matching", "match_confirmed", {"match_id": "m", "request_id": "r1", "volunteer_id": "agent",
                                                        "author_id": "a1", "status": "confirmed", "score": 1.0,
                                                        "reasons": [], "proposed_at": datetime.now(timezone.utc),
                                                        "version": 2})
    with Connection(config["AMQP_URI"]) as connection:
        connection.Producer().publish(
            json.dumps(forged, default=str), exchange=Exchange(DEAD_LETTER_EXCHANGE, type="direct", passive=True),
            routing_key=DEAD_LETTER_QUEUE, content_type="application/json",
            headers={"x-death": [{"queue": queue, "exchange": "matching.events", "reason": "rejected", "count": 1}]})
    wait_until(lambda: dead_letters.list_dead(config), message="the forged letter to be listed")
    refused = []
    assert dead_letters.replay(config, refused=refused) == []
    assert [(r["event_id"], r["queue"]) for r in refused] == [(forged["event_id"], queue)]
    assert [d["event_id"] for d in dead_letters.list_dead(config)] == [forged["event_id"]]  # left for the operator
    assert forged["event_id"] not in HANDLED
