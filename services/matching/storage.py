"""The matching database: its read models of volunteers and requests, and its proposals."""
import uuid

from pymongo.errors import DuplicateKeyError

from services.common import outbox

VOLUNTEERS = "volunteers"
REQUESTS = "requests"
MATCHES = "matches"

_MATCH_NAMESPACE = uuid.UUID("6f1c2a44-5d0e-4f1b-9a7e-2c4d8b3e9f10")


def prepare(db):
    db[VOLUNTEERS].create_index("skills")
    db[VOLUNTEERS].create_index("languages")
    db[REQUESTS].create_index("skills")
    db[MATCHES].create_index("request_id")
    db[MATCHES].create_index("volunteer_id")


def match_id(request_id, volunteer_id):
    """Deterministic: proposing the same volunteer for the same request twice is the same match,
    so a redelivered event cannot create a second proposal."""
    return uuid.uuid5(_MATCH_NAMESPACE, f"{request_id}:{volunteer_id}").hex


def upsert_newer(collection, doc_id, fields, version):
    """Apply `fields` only if `version` is newer than what is stored. Returns True if applied.

    Duplicate and out-of-order events are both no-ops: the filter does not match, and the upsert
    then collides with the existing `_id`.
    """
    try:
        result = collection.update_one(
            {"_id": doc_id, "version": {"$lt": version}},
            {"$set": dict(fields, version=version)},
            upsert=True,
        )
    except DuplicateKeyError:
        return False
    return result.modified_count == 1 or result.upserted_id is not None


def candidates(db, request):
    """Volunteers who share at least one required skill, retrieved by the skills index."""
    return db[VOLUNTEERS].find({"skills": {"$in": request["skills"]}, "status": "active"})


def open_requests_needing(db, skills):
    return db[REQUESTS].find({"status": "open", "skills": {"$in": list(skills)}})


def count_matches(db, request_id):
    return db[MATCHES].count_documents({"request_id": request_id})


def insert_match(db, match, events):
    """Insert a proposal with its events. False if it already existed (a redelivery)."""
    try:
        db[MATCHES].insert_one(dict(match, **{outbox.OUTBOX: list(events)}))
        return True
    except DuplicateKeyError:
        return False


def matches_for(db, field, account_id):
    return [outbox.strip(m) for m in db[MATCHES].find({field: account_id}).sort("proposed_at", -1)]


def ping(db):
    db.command("ping")
    return True
