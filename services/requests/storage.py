"""The requests database: one document per request, with its outbox; and flags."""
from services.common import flags, outbox
from services.common.errors import Conflict
from services.common.events import utcnow

REQUESTS = "requests"


def prepare(db):
    db[REQUESTS].create_index("author_id")
    db[REQUESTS].create_index("status")
    flags.prepare(db)


def insert_request(db, request, events):
    outbox.insert_with_events(db[REQUESTS], request, events)


def find_request(db, request_id):
    request = outbox.strip(db[REQUESTS].find_one({"_id": request_id}))
    return None if request is None or request.get("deleted") else request


def update_request(db, request_id, change, make_events):
    """Versioned update with its events (see outbox.update_with_events)."""
    def stamped(current):
        return dict(change(current), updated_at=utcnow())

    try:
        return outbox.update_with_events(db[REQUESTS], request_id, stamped, make_events)
    except outbox.ConcurrentUpdate:
        raise Conflict("The request changed while saving; try again.") from None


def replace_with_tombstone(db, request, events):
    """Forget a request's content in one write, keeping only what stops a late event reviving it."""
    tombstone = {"_id": request["_id"], "deleted": True, "status": "withdrawn", "version": request["version"] + 1,
                 "updated_at": utcnow()}
    outbox.replace_with_events(db[REQUESTS], request, tombstone, events)


def requests_by(db, author_id):
    return [outbox.strip(r) for r in
            db[REQUESTS].find({"author_id": author_id, "deleted": {"$ne": True}}).sort("created_at", -1)]


def export_page(db, after_id, limit):
    query = {"deleted": {"$ne": True}}
    if after_id:
        query["_id"] = {"$gt": after_id}
    return [outbox.strip(r) for r in db[REQUESTS].find(query).sort("_id", 1).limit(limit)]
