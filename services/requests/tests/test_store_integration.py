"""The requests store against the real database: a request's text is sealed at rest."""
import json
from datetime import datetime, timezone

import pytest
from cryptography.fernet import Fernet

from services.requests import rotate_keys, storage

NOW = datetime(2026, 1, 5, tzinfo=timezone.utc)


def request(request_id="r1", **extra):
    return {"_id": request_id, "author_id": "a1", "title": "Lawyer for my brother Reza",
            "body": "He is held in ward 209; call 0912 555 0199.", "skills": ["legal"], "languages": ["fa"],
            "country": "IR", "urgency": "high", "visibility": "private", "status": "open", "helper_ids": [],
            "hidden": False, "version": 1, "created_at": NOW, "updated_at": NOW} | extra


@pytest.fixture
def store(db_for):
    db = db_for("requests")
    storage.prepare(db)
    return storage.RequestStore(db, storage.RequestText(Fernet.generate_key().decode()))


def test_the_text_is_sealed_at_rest_and_open_to_the_service(store):
    store.insert(request(), [])
    raw = json.dumps(store.collection.find_one({"_id": "r1"}), default=str)
    assert "Reza" not in raw and "ward 209" not in raw and "0912" not in raw
    found = store.find("r1")
    assert (found["title"], found["body"]) == (request()["title"], request()["body"])
    assert "text_sealed" not in found
    assert [r["_id"] for r in store.by_author("a1")] == ["r1"] and store.by_author("a1")[0]["title"]
    assert store.export_page(None, 10)[0]["body"] == request()["body"]


def test_an_edit_reseals_and_its_events_see_the_open_text(store):
    store.insert(request(), [])
    seen = []
    updated = store.update("r1", lambda current: {"body": current["body"] + " Urgent."},
                           lambda doc: seen.append((doc["title"], doc["body"])) or [])
    assert updated["body"].endswith("Urgent.") and updated["version"] == 2
    assert seen == [(request()["title"], request()["body"] + " Urgent.")]
    assert "Urgent" not in json.dumps(store.collection.find_one({"_id": "r1"}), default=str)
    store.update("r1", lambda current: {"urgency": "critical"}, lambda doc: [])  # text untouched
    assert store.find("r1")["body"].endswith("Urgent.")


def test_text_copied_onto_another_request_does_not_open(store):
    store.insert(request("r1"), [])
    store.insert(request("r2", title="Another need here", body="Nothing to hide in this one."), [])
    token = store.collection.find_one({"_id": "r1"})["text_sealed"]
    store.collection.update_one({"_id": "r2"}, {"$set": {"text_sealed": token}})
    with pytest.raises(ValueError):
        store.find("r2")


def test_rotation_moves_every_text_to_the_new_key_and_seals_old_clear_text(db_for):
    db = db_for("requests")
    storage.prepare(db)
    old = Fernet.generate_key().decode()
    storage.RequestStore(db, storage.RequestText(old)).insert(request("r1"), [])
    db[storage.REQUESTS].insert_one(request("r-legacy"))  # stored in clear by an older version
    new = Fernet.generate_key().decode()
    counts = rotate_keys.rotate(db, f"{new},{old}")
    assert counts == {"sealed": 1, "rotated": 1, "unreadable": 0, "remaining": 0}
    only_new = storage.RequestStore(db, storage.RequestText(new))
    assert only_new.find("r1")["title"] == request()["title"]
    assert only_new.find("r-legacy")["body"] == request()["body"]
    assert "Reza" not in json.dumps(list(db[storage.REQUESTS].find()), default=str)
    assert rotate_keys.rotate(db, f"{new},{old}") == {"sealed": 0, "rotated": 0, "unreadable": 0, "remaining": 0}
