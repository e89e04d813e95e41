"""An outage is waited out, not charged to the event; a bug is charged (and dead-lettered)."""
import elastic_transport
import pymongo.errors
import pytest
from elasticsearch import ApiError, NotFoundError
from nameko.exceptions import RemoteError

from services.common.bus import consumer
from services.common.bus.consumer import consumes
from services.common.bus.events import make_event
from services.common.outage import is_outage, pauses
from services.common.tests.fake_ledger import MemoryLedger
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


class Consumer:
    def __init__(self, failures_of_db=0, failures_of_work=0, bug=False, work=None):
        self.event_ledger = MemoryLedger(failures_of_db)
        self.work_fails, self.bug, self.done, self.work = failures_of_work, bug, [], work

    @consumes("requests", "request_created")
    def on_request_created(self, event):
        if self.bug:
            raise KeyError("a field the code wrongly expects")
        if self.work_fails:
            self.work_fails -= 1
            raise elastic_transport.ConnectionError("the index is restarting")
        if self.work:
            self.work()
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
    event = make_event("requests", "request_created", request_data())
    with pytest.raises(KeyError):
        Consumer.on_request_created(service, event)
    assert no_sleeping == [consumer.RETRY_PAUSE_S] and service.done == []
    # Its claim is released: the redelivery is handled at once, not after the claim's lease.
    assert service.event_ledger.state(event["event_id"]) is None
    service.bug = False
    Consumer.on_request_created(service, event)
    assert service.done == [event["event_id"]]


def test_two_copies_of_one_event_are_never_handled_at_once(monkeypatch):
    """An outbox published it twice and both copies arrived together: the second waits for the
    first's outcome, and then does nothing (matching once proposed two volunteers this way)."""
    import eventlet
    monkeypatch.setattr(consumer.eventlet, "sleep", eventlet.sleep)  # real waiting, green threads
    running, overlapped = [], []

    def work():
        overlapped.append(bool(running))
        running.append(1)
        eventlet.sleep(0.05)
        running.pop()

    service = Consumer(work=work)
    event = make_event("requests", "request_created", request_data())
    copies = [eventlet.spawn(Consumer.on_request_created, service, event) for _ in range(3)]
    for copy in copies:
        copy.wait()
    assert service.done == [event["event_id"]] and overlapped == [False]


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
