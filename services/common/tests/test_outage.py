"""An outage is waited out, not charged to the event; a bug is charged (and dead-lettered)."""
import elastic_transport
import pymongo.errors
import pytest
from elasticsearch import ApiError, NotFoundError
from nameko.exceptions import RemoteError

from services.common import consumer
from services.common.consumer import consumes
from services.common.events import make_event
from services.common.outage import is_outage, pauses
from services.common.tests.test_events import request_data
from services.gateway.http import ServiceUnavailable, call


def api_error(status, cls=ApiError):
    meta = elastic_transport.ApiResponseMeta(status=status, http_version="1.1", headers={}, duration=0.0, node=None)
    return cls("error", meta, {})


@pytest.mark.parametrize("exc, outage", [
    (pymongo.errors.ServerSelectionTimeoutError("no servers"), True),
    (pymongo.errors.AutoReconnect("connection closed"), True),
    (elastic_transport.ConnectionError("refused"), True),
    (api_error(503), True),
    (api_error(429), True),
    (api_error(404, NotFoundError), False),
    (api_error(400), False),
    (pymongo.errors.DuplicateKeyError("dup"), False),
    (pymongo.errors.OperationFailure("bad query"), False),
    (KeyError("title"), False),
])
def test_what_counts_as_an_outage(exc, outage):
    assert is_outage(exc) is outage


def test_pauses_grow_then_hold():
    waits = pauses(first=0.5, most=4)
    assert [next(waits) for _ in range(6)] == [0.5, 1, 2, 4, 4, 4]


class Ledger:
    """The ledger collection: find_one by _id, insert_one."""

    def __init__(self, fail):
        self.ids, self.fail = set(), fail

    def find_one(self, query, projection=None):
        if self.fail:
            self.fail -= 1
            raise pymongo.errors.ServerSelectionTimeoutError("the database is restarting")
        return {"_id": query["_id"]} if query["_id"] in self.ids else None

    def insert_one(self, document):
        self.ids.add(document["_id"])


class Consumer:
    def __init__(self, failures_of_db=0, failures_of_work=0, bug=False):
        self.ledger = Ledger(failures_of_db)
        self.db = {consumer.LEDGER: self.ledger}
        self.work_fails, self.bug, self.done = failures_of_work, bug, []

    @consumes("requests", "request_created")
    def on_request_created(self, event):
        if self.bug:
            raise KeyError("a field the code wrongly expects")
        if self.work_fails:
            self.work_fails -= 1
            raise elastic_transport.ConnectionError("the index is restarting")
        self.done.append(event.event_id)


@pytest.fixture(autouse=True)
def no_sleeping(monkeypatch):
    slept = []
    monkeypatch.setattr(consumer.eventlet, "sleep", slept.append)
    return slept


def test_an_outage_is_waited_out_and_the_event_handled_once(no_sleeping):
    service = Consumer(failures_of_db=3, failures_of_work=2)
    event = make_event("requests", "request_created", request_data())
    Consumer.on_request_created(service, event)  # returns: nothing raised, so nothing requeued
    assert service.done == [event["event_id"]]
    assert no_sleeping == [0.5, 1, 2, 4, 8]  # five waits, growing
    Consumer.on_request_created(service, event)  # delivered again: the ledger knows it
    assert service.done == [event["event_id"]]


def test_a_bug_is_raised_after_one_pause_so_the_broker_counts_it(no_sleeping):
    service = Consumer(bug=True)
    with pytest.raises(KeyError):
        Consumer.on_request_created(service, make_event("requests", "request_created", request_data()))
    assert no_sleeping == [consumer.RETRY_PAUSE_S] and service.done == []


def test_an_invalid_event_is_dropped_without_waiting(no_sleeping):
    service = Consumer()
    assert Consumer.on_request_created(service, {"event_id": "x", "data": "not an object"}) is None
    assert service.done == [] and no_sleeping == []


class Proxy:
    service_name = "requests"

    def __init__(self, exc):
        self.exc = exc

    def __call__(self, *args):
        raise self.exc


@pytest.mark.parametrize("exc", [RemoteError("ServerSelectionTimeoutError", "no servers"),
                                 RemoteError("ConnectionError", "refused"), ConnectionRefusedError(111, "refused")])
def test_the_gateway_answers_503_when_a_server_behind_a_service_is_down(exc):
    with pytest.raises(ServiceUnavailable):
        call(Proxy(exc))


def test_the_gateway_does_not_hide_a_bug_as_an_outage():
    with pytest.raises(RemoteError):
        call(Proxy(RemoteError("KeyError", "title")))


def test_an_invalid_event_is_logged_by_the_contracts_names_only(caplog):
    made_up = "name-of-a-prisoner"
    with caplog.at_level("ERROR"):
        Consumer.on_request_created(Consumer(), {"event_id": made_up, made_up: 1, "title": made_up})
    assert made_up not in caplog.text
    assert "(unknown field)" in caplog.text and "event_id" in caplog.text


def test_a_record_of_what_happened_outside_is_written_through_an_outage(no_sleeping, monkeypatch):
    from services.common import outage
    monkeypatch.setattr(outage.eventlet, "sleep", no_sleeping.append)
    tries = []

    def settle():
        tries.append(1)
        if len(tries) < 3:
            raise pymongo.errors.AutoReconnect("the database is restarting")
        return "written"

    assert outage.through_outage(settle, "email e1 sent") == "written" and len(tries) == 3
    with pytest.raises(KeyError):  # a bug is not waited out
        outage.through_outage(lambda: {}["missing"], "email e2 sent")
