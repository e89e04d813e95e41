"""Every event handler of every service fed malformed, oversized and hostile messages.

The bus is closed to the public (each service has its own broker user: broker_users.py), but a
bug in a producer, a half-migrated message or a compromised service can put anything on it. For
every consumer queue of the platform, messages that are not JSON, JSON of the wrong shape, events
with every field of the wrong type, an 8 MB field, deep nesting, and a pickle whose loading would
run code: afterwards no service has died, every queue is empty again (each message dropped or
dead-lettered, none redelivered forever), nothing was executed, no body reached a log, and a real
need still flows end to end.
"""
import json
import os
import pickle
import uuid

from kombu import Connection, Producer

from services.common.bus import topology
from services.common.bus.events import make_event
from services.common.tests.test_events import request_data
from tests.support import wait_until

MARKER = f"hostile-{uuid.uuid4().hex}"


class RunsCode:
    """Unpickling this would create a folder: the proof that a pickle was loaded."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (os.mkdir, (self.path,))


def hostile_bodies(event_type, tmp_path):
    valid = make_event("requests", "request_created", request_data(title=MARKER))
    wrong_types = dict(valid, data={key: {"$where": MARKER} for key in valid["data"]})
    json_bodies = [
        b"\xff\xfe not json " + MARKER.encode(),
        b"[]", b'"a string"', b"null", b"1e999", b"{}",
        json.dumps({"event_id": MARKER, "data": MARKER}).encode(),
        json.dumps(dict(valid, event_type=event_type, schema_version=-1)).encode(),
        json.dumps(dict(valid, event_type=event_type, occurred_at=MARKER)).encode(),
        json.dumps(dict(wrong_types, event_type=event_type)).encode(),
        json.dumps(dict(valid, event_type=event_type, data=dict(valid["data"], title=MARKER * 250_000))).encode(),
        b'{"data": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
    ]
    return [(body, "application/json") for body in json_bodies] + [
        (pickle.dumps(RunsCode(str(tmp_path / f"pwned-{event_type}"))), "application/x-python-serialize")]


def test_every_handler_survives_hostile_messages_and_the_platform_still_works(platform, person, tmp_path):
    queues = [(name, event_type) for source in topology.SERVICES for name, event_type in topology.consumers_of(source)]
    assert len(queues) > 20  # every handler of every service
    with Connection(platform.amqp_uri) as connection:
        producer = Producer(connection.channel())
        for name, event_type in queues:
            for body, content_type in hostile_bodies(event_type, tmp_path):
                # The default exchange routes by queue name: straight to that handler.
                producer.publish(body, exchange="", routing_key=name, content_type=content_type,
                                 content_encoding="binary" if content_type != "application/json" else "utf-8",
                                 delivery_mode=2, retry=False)

    def drained():
        listed = {q["name"]: q.get("messages", 0) for q in platform.rabbit_manager._get("queues", platform.vhost)}
        return all(listed.get(name, 0) == 0 for name, _ in queues) and listed
    wait_until(drained, timeout=180, interval=2, message="every handler's queue to drain")
    assert platform.healthy(), "a service died of a hostile message"
    assert not list(tmp_path.glob("pwned-*")), "a pickle was loaded: code from the bus was run"
    assert MARKER not in platform.logs(), "a hostile body reached a log"

    # The platform still does its work.
    activist = person(f"still-{uuid.uuid4().hex[:6]}", "activist")
    volunteer = person(f"lawyer-{uuid.uuid4().hex[:6]}", "volunteer")
    assert volunteer.call("PUT", "/api/me/profile", {"skills": ["legal"], "languages": ["fa"], "countries": ["IR"],
                                                     "availability_hours": 5}).status_code == 200
    response = activist.call("POST", "/api/requests", {
        "title": "Lawyer for a detained blogger", "body": "Advice on an appeal is needed within a week.",
        "skills": ["legal"], "languages": ["fa"], "country": "IR", "urgency": "high", "visibility": "public"})
    assert response.status_code == 201, response.text
    wait_until(lambda: volunteer.call("GET", "/api/matches").json().get("items"), timeout=60,
               message="the lawyer to be proposed")
