"""One contract, two adapters each: the in-memory lifecycle store and index the workflow's tests
use (memory.py) behave as the real ones over FerretDB and Elasticsearch do."""
import uuid
from datetime import datetime, timedelta, timezone

import pytest

from services.search import indices, lifecycles, memory
from services.search.bulk import BulkWriter
from services.search.indexing import SearchIndex
from tests.support import STORE_ADAPTERS, store_adapter

T0 = datetime(2026, 12, 6, 12, 0, tzinfo=timezone.utc)


@pytest.fixture(params=STORE_ADAPTERS)
def store(request):
    return store_adapter(request, "search", memory.InMemoryLifecycleStore, lifecycles.LifecycleStore,
                         lifecycles.prepare)


@pytest.fixture(params=["in-memory", "elasticsearch"])
def index(request):
    if request.param == "in-memory":
        yield memory.InMemoryIndex()
        return
    es = request.getfixturevalue("es_client")
    prefix = f"contract-{uuid.uuid4().hex[:8]}"
    indices.ensure_indices(es, prefix)
    writer = BulkWriter(es)
    writer.start()
    yield SearchIndex(es, writer, prefix)
    writer.stop()
    es.indices.delete(index=f"{prefix}-*")


def request_data(request_id, version, **fields):
    return {"request_id": request_id, "version": version, "skills": ["legal"], "country": "IR", "urgency": "high",
            "visibility": "public", "status": "open", "hidden": False, "created_at": T0} | fields


def test_a_lifecycle_takes_request_facts_by_version_and_the_earliest_times_whatever_the_order(store):
    request_id = uuid.uuid4().hex
    first = store.merge_time(request_id, "first_proposed_at", T0 + timedelta(minutes=5))  # overtook its request
    assert first["rev"] == 1 and "country" not in first
    store.merge_request(request_data(request_id, 2, status="closed"))
    late = store.merge_request(request_data(request_id, 1))  # older, late: nothing changes
    assert (late["status"], late["version"], late["rev"]) == ("closed", 2, 2)
    earlier = store.merge_time(request_id, "first_proposed_at", T0 + timedelta(minutes=1))
    assert earlier["first_proposed_at"] == T0 + timedelta(minutes=1) and earlier["rev"] == 3
    same = store.merge_time(request_id, "first_proposed_at", T0 + timedelta(minutes=9))
    assert same["rev"] == 3
    met = store.merge_time(request_id, "accepted_at", T0 + timedelta(hours=1))
    assert met["accepted_at"] == T0 + timedelta(hours=1) and met["rev"] == 4
    assert store.find(request_id) == met and store.find(uuid.uuid4().hex) is None
    assert not {"author_id", "title", "body"} & set(met)  # no person, no text


def test_an_index_keeps_the_newest_version_of_a_document_and_a_delete_holds_against_older_writes(index):
    doc_id = uuid.uuid4().hex
    index.put(("volunteers", doc_id, {"handle": "v2"}, 2))
    index.put(("volunteers", doc_id, {"handle": "v1"}, 1))  # older, late
    assert index.get("volunteers", doc_id) == {"handle": "v2"}
    index.put(("volunteers", doc_id, None, 3), ("campaigns", doc_id, {"title": "Free them"}, 1))
    index.put(("volunteers", doc_id, {"handle": "v2"}, 2))  # a late copy brings nothing back
    assert index.get("volunteers", doc_id) is None and index.get("campaigns", doc_id) == {"title": "Free them"}
    assert index.get("requests", doc_id) is None
