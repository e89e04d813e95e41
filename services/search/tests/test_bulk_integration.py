"""bulk.BulkWriter against the real Elasticsearch: writes of concurrent handlers go out together,
each handler hears of its own operations only, and the sender survives a failed request."""
import eventlet
import pytest
from elastic_transport import ConnectionError as TransportConnectionError

from services.common.outage import is_outage
from services.search import indexing, indices
from services.search.bulk import BulkWriter, ItemFailed


class Counting:
    """The real client, with its `bulk` calls counted (and slowed, so that writers pile up)."""

    def __init__(self, client, delay=0.0):
        self.client, self.delay, self.sizes = client, delay, []
        self.fail_next = None

    def bulk(self, operations):
        self.sizes.append(sum(1 for op in operations if {"index", "delete"} & set(op)))
        eventlet.sleep(self.delay)
        if self.fail_next is not None:
            failure, self.fail_next = self.fail_next, None
            raise failure
        return self.client.bulk(operations=operations)


@pytest.fixture
def index(es_client, config):
    name = f"{config['ES_INDEX_PREFIX']}-bulk-test"
    es_client.indices.create(index=name, mappings=indices.VOLUNTEERS_MAPPING, settings=indices.SETTINGS)
    yield name
    es_client.indices.delete(index=name)


@pytest.fixture
def writer(es_client):
    counting = Counting(es_client, delay=0.05)
    writer = BulkWriter(counting)
    writer.start()
    yield writer
    writer.stop()


def volunteer(handle):
    return {"handle": handle, "bio": "", "skills": ["legal"], "languages": ["fa"], "countries": ["IR"],
            "verified": False, "availability_hours": 4}


def test_concurrent_writes_share_requests_and_each_is_applied(writer, index, es_client):
    threads = [eventlet.spawn(writer.write, indexing.operations(index, f"v{n}", volunteer(f"h{n}"), 1))
               for n in range(20)]
    for thread in threads:
        thread.wait()
    es_client.indices.refresh(index=index)
    assert es_client.count(index=index)["count"] == 20
    sizes = writer.client.sizes
    assert sum(sizes) == 20 and len(sizes) < 20 and max(sizes) > 1  # grouped, none lost


def test_a_lone_write_waits_for_no_one(writer, index, es_client):
    writer.write(indexing.operations(index, "alone", volunteer("alone"), 1))
    assert writer.client.sizes == [1]
    assert es_client.get(index=index, id="alone")["_version"] == 1


def test_repeated_older_and_missing_are_success_and_a_bad_item_fails_its_writer_only(writer, index, es_client):
    writer.write(indexing.operations(index, "v1", volunteer("h1"), 5))
    good = [eventlet.spawn(writer.write, indexing.operations(index, "v1", volunteer("h1-old"), 4)),  # older: 409
            eventlet.spawn(writer.write, indexing.operations(index, "gone", None, 2)),  # deleting nothing: 404
            eventlet.spawn(writer.write, indexing.operations(index, "v2", volunteer("h2"), 1))]
    bad = eventlet.spawn(writer.write, indexing.operations(index, "v3", {"handle": "h3", "nonsense": 1}, 1))
    for thread in good:
        thread.wait()
    with pytest.raises(ItemFailed) as failed:
        bad.wait()
    assert failed.value.status == 400 and not is_outage(failed.value)
    assert es_client.get(index=index, id="v1")["_source"]["handle"] == "h1"
    assert es_client.get(index=index, id="v2")["_version"] == 1


def test_an_outage_reaches_every_waiting_writer_and_the_sender_carries_on(writer, index, es_client):
    writer.client.fail_next = TransportConnectionError("connection refused")
    threads = [eventlet.spawn(writer.write, indexing.operations(index, f"o{n}", volunteer(f"o{n}"), 1))
               for n in range(3)]
    outcomes = []
    for thread in threads:
        try:
            thread.wait()
            outcomes.append("written")
        except TransportConnectionError as exc:
            assert is_outage(exc)
            outcomes.append("outage")
    assert outcomes[0] == "outage"  # the first request failed; the others were in it or after it
    writer.write(indexing.operations(index, "after", volunteer("after"), 1))
    assert es_client.get(index=index, id="after")["_version"] == 1


def test_overloaded_or_recovering_items_count_as_an_outage():
    assert is_outage(ItemFailed(429, "es_rejected_execution_exception"))
    assert is_outage(ItemFailed(503, "unavailable_shards_exception"))
    assert not is_outage(ItemFailed(400, "strict_dynamic_mapping_exception"))
