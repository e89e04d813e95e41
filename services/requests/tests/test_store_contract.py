"""One contract, two adapters: the in-memory RequestStore the workflow's tests use (memory.py)
behaves as the real one over FerretDB does (storage.py)."""
import uuid
from datetime import datetime, timedelta, timezone

import pytest
from cryptography.fernet import Fernet
from pymongo.errors import DuplicateKeyError

from services.requests import memory, storage
from tests.support import STORE_ADAPTERS, every_page, store_adapter

NOW = datetime(2026, 12, 5, 12, 0, tzinfo=timezone.utc)


@pytest.fixture(params=STORE_ADAPTERS)
def store(request):
    return store_adapter(request, "requests", memory.InMemoryRequestStore,
                         lambda db: storage.RequestStore(db, storage.RequestText(Fernet.generate_key().decode())),
                         storage.prepare)


def need(author, **fields):
    return {"_id": uuid.uuid4().hex, "author_id": author, "title": "A lawyer for an appeal",
            "body": "The hearing is next month.", "skills": ["legal"], "languages": ["fa"], "country": "IR",
            "urgency": "high", "visibility": "public", "status": "open", "helper_ids": [], "hidden": False,
            "version": 1, "created_at": NOW, "updated_at": NOW} | fields


def event(name):
    return {"event_id": uuid.uuid4().hex, "event_type": name}


def test_a_request_is_stored_once_with_its_events_and_changed_by_version(store):
    published = []

    def dispatch(event_type, payload):
        published.append(payload["event_id"])

    author = uuid.uuid4().hex
    first = need(author)
    created = event("request_created")
    store.publish(store.insert(first, [created]), dispatch)
    with pytest.raises(DuplicateKeyError):
        store.insert(first, [event("request_created")])
    assert store.find(first["_id"])["title"] == "A lawyer for an appeal"
    updated_event = event("request_updated")
    updated = store.update(first["_id"], lambda current: {"title": current["title"] + " now"},
                           lambda after: [dict(updated_event, version=after["version"])])
    assert updated["version"] == 2 and updated["title"] == "A lawyer for an appeal now"
    store.flush(first["_id"], dispatch)
    store.flush(first["_id"], dispatch)
    assert published == [created["event_id"], updated_event["event_id"]]
    assert store.update(uuid.uuid4().hex, lambda current: {}, lambda after: []) is None


def test_an_authors_requests_are_counted_paged_and_forgotten(store):
    author = uuid.uuid4().hex
    made = [need(author, created_at=NOW + timedelta(minutes=n // 2)) for n in range(5)]  # ties in pairs
    for request in made:
        store.insert(request, [])
    store.update(made[0]["_id"], lambda current: {"status": "closed"}, lambda after: [])
    assert store.open_count(author) == 4
    seen = every_page(lambda limit, before: store.page_by_author(author, limit, before))
    expected = [r["_id"] for r in sorted(made, key=lambda r: (r["created_at"], r["_id"]), reverse=True)]
    assert seen == expected
    assert [r["_id"] for r in store.by_author(author)][0] in (made[3]["_id"], made[4]["_id"])
    gone = store.find(made[1]["_id"])
    store.replace_with_tombstone(gone, [event("request_closed")])
    assert store.find(made[1]["_id"]) is None and made[1]["_id"] not in [r["_id"] for r in store.by_author(author)]
    assert made[1]["_id"] not in [r["_id"] for r in store.export_page(None, 100_000)]


def test_a_moderators_readings_are_kept_in_order(store):
    request_id = uuid.uuid4().hex
    store.record_moderator_reading("mod-1", request_id)
    store.record_moderator_reading("mod-2", request_id)
    assert [r["moderator_id"] for r in store.moderator_readings(request_id)] == ["mod-1", "mod-2"]
    store.forget_moderator_readings(request_id)
    assert store.moderator_readings(request_id) == []


def test_a_campaigns_mode_is_kept_by_version_and_its_needs_found(store):
    campaign_id = uuid.uuid4().hex
    assert not store.campaign_paused(campaign_id)
    assert store.remember_campaign_mode(campaign_id, "paused", 3)
    assert not store.remember_campaign_mode(campaign_id, "public", 2)  # older
    assert store.campaign_paused(campaign_id)
    asks = [need("family", campaign_id=campaign_id), need("family", campaign_id=campaign_id)]
    for request in asks + [need("family")]:
        store.insert(request, [])
    assert sorted(r["_id"] for r in store.of_campaign(campaign_id)) == sorted(r["_id"] for r in asks)
    assert {r["title"] for r in store.of_campaign(campaign_id)} == {"A lawyer for an appeal"}  # text opened
