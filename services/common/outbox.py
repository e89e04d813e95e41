"""Transactional outbox without transactions.

FerretDB (like MongoDB without a replica set) gives atomicity only within one document, so a
state change and the events it causes are written in the *same* document: the events go into
its `_outbox` array in the same update. After the write, `flush` publishes them and pulls each
one out once the broker confirmed it. A process that dies in between leaves the events in the
document, and `flush_pending` (run at start-up and on a timer) publishes them later. Events may
therefore be published more than once; consumers are idempotent on `event_id`.

Finding what a crash left behind must not scan the data: `_outbox.0 $exists` is a full scan on
every backend but MongoDB's (on FerretDB, every document decoded on every tick). So each write
first inserts a marker of its own, `<collection>:<document>:<token>` with a fresh token, into the
small `outbox_pending` collection, and writes the same token into the document together with its
events. A flush reads the document, publishes its events, and deletes the marker of the token the
document carries: that write's events were just published, and so were those of any earlier write
(they were in the same outbox). A marker whose token was overwritten by a later write, or whose
write never landed, stays until the timer, which flushes its document on every tick, drops it
after `STALE_AFTER`, by which time its write has landed or failed. The timer reads the markers,
never the data.
"""
import logging
import uuid
from datetime import timedelta

from nameko.amqp.publish import UndeliverableMessage
from pymongo.errors import BulkWriteError

from .events import utcnow

log = logging.getLogger(__name__)

OUTBOX = "_outbox"
TOKEN = "_outbox_token"
PENDING = "outbox_pending"
# Far longer than any write takes to land after its marker.
STALE_AFTER = timedelta(seconds=60)
# The projection that reads a document without its outbox.
HIDE = {OUTBOX: 0, TOKEN: 0}
DUPLICATE_KEY = 11000


def prepare(db):
    """The markers are found by collection on every tick."""
    db[PENDING].create_index("collection")


def _key(collection, doc_id, token):
    return f"{collection.name}:{doc_id}:{token}"


def mark(collection, doc_id):
    """Record that `doc_id` is about to get events; returns the token to write with them."""
    token = uuid.uuid4().hex
    collection.database[PENDING].insert_one({"_id": _key(collection, doc_id, token), "collection": collection.name,
                                             "doc_id": doc_id, "since": utcnow()})
    return token


def stage(update, events, token):
    """`update` with `events` appended to the document's outbox, and the marker's token."""
    update = dict(update)
    update["$push"] = dict(update.get("$push", {}), **{OUTBOX: {"$each": list(events)}})
    update["$set"] = dict(update.get("$set", {}), **{TOKEN: token})
    return update


def insert_with_events(collection, document, events, token=None):
    """Insert a document with its events (raises DuplicateKeyError if it exists). `token`: a marker
    the caller made already (`mark`), for a write that may follow this one if it fails."""
    token = token or mark(collection, document["_id"])
    collection.insert_one(dict(document, **{OUTBOX: list(events), TOKEN: token}))


def insert_many_with_events(collection, documents, events_of):
    """Insert several documents, each with its events (`events_of[document id]`), in two writes:
    their markers, then the documents, all under one token. Returns (token, ids inserted); a
    document that already existed (a redelivery) is skipped, as `insert_with_events` would raise."""
    token = uuid.uuid4().hex
    now = utcnow()
    collection.database[PENDING].insert_many(
        [{"_id": _key(collection, d["_id"], token), "collection": collection.name, "doc_id": d["_id"],
          "token": token, "since": now} for d in documents])
    try:
        collection.insert_many([dict(d, **{OUTBOX: list(events_of[d["_id"]]), TOKEN: token}) for d in documents],
                               ordered=False)
        return token, [d["_id"] for d in documents]
    except BulkWriteError as error:
        if any(e.get("code") != DUPLICATE_KEY for e in error.details.get("writeErrors", [])):
            raise
        duplicates = {documents[e["index"]]["_id"] for e in error.details["writeErrors"]}
        return token, [d["_id"] for d in documents if d["_id"] not in duplicates]


def publish_inserted(collection, token, inserted, events_of, group, dispatch):
    """Publish the events `insert_many_with_events` wrote, from memory, then clear them in one
    write: `group` (e.g. `{"request_id": r}`, an indexed equality) names the documents, and only
    those still carrying `token` are cleared. One another writer changed meanwhile keeps its
    outbox for that writer's flush (our event then goes out twice: consumers are idempotent).
    An event several of the documents carry (one act's event) is published once."""
    published = set()
    for doc_id in inserted:
        for event in events_of[doc_id]:
            if event["event_id"] not in published:  # one event several documents carry goes once
                dispatch(event["event_type"], event)
                published.add(event["event_id"])
    collection.update_many(dict(group, **{TOKEN: token}), {"$set": {OUTBOX: []}})
    collection.database[PENDING].delete_many({"collection": collection.name, "token": token})


def update_one_with_events(collection, condition, update, events, token=None):
    """`update_one(condition, update)` with `events` in the same write; True if it matched.
    `token`: a marker the caller made already (`mark`)."""
    token = token or mark(collection, condition["_id"])
    return collection.update_one(condition, stage(update, events, token)).modified_count == 1


def strip(document):
    """A stored document without its outbox, for returning to callers."""
    if document is not None:
        document.pop(OUTBOX, None)
        document.pop(TOKEN, None)
    return document


def update_with_events(collection, doc_id, change, make_events, retries=5):
    """Change one document and stage the events that change causes, in one atomic update.

    `change(current) -> {field: value}` computes the new fields from the current document;
    `make_events(updated) -> [event]` builds the events from the new state. The version number is
    bumped, and the write only lands if nobody else changed the document since it was read (we
    re-read and retry): two writers never produce two events with the same version.
    Returns the updated document (without its outbox), or None if there is no such document.
    """
    for _ in range(retries):
        current = strip(collection.find_one({"_id": doc_id}))
        if current is None:
            return None
        fields = dict(change(current), version=current["version"] + 1)
        updated = dict(current, **fields)
        if update_one_with_events(collection, {"_id": doc_id, "version": current["version"]},
                                  {"$set": fields}, make_events(updated)):
            return updated
    raise ConcurrentUpdate(f"{collection.name}/{doc_id} kept changing while being updated")


def replace_with_events(collection, current, replacement, events):
    """Replace a whole document (e.g. by a tombstone that keeps no personal data) together with
    the events announcing it, if nobody changed it since `current` was read."""
    token = mark(collection, current["_id"])
    result = collection.replace_one({"_id": current["_id"], "version": current["version"]},
                                    dict(replacement, **{OUTBOX: list(events), TOKEN: token}))
    if result.modified_count != 1:
        raise ConcurrentUpdate(f"{collection.name}/{current['_id']} changed while being replaced")


class ConcurrentUpdate(Exception):
    pass


def flush(collection, doc_id, dispatch):
    """Publish the pending events of one document, oldest first. Returns how many it published."""
    document = collection.find_one({"_id": doc_id}, {OUTBOX: 1, TOKEN: 1})
    if document is None:
        return 0
    published = 0
    for event in document.get(OUTBOX, []):
        # nameko's dispatcher publishes with confirms and persistent delivery: when it returns
        # the broker has the event.
        try:
            dispatch(event["event_type"], event)
        except UndeliverableMessage:
            # No queue for it (services/common/topology.py): it stays here, and the relay timer
            # publishes it once its consumers' queues exist.
            log.warning("%s %s could not be routed to any queue; kept in the outbox", event["event_type"],
                        event["event_id"])
            return published
        collection.update_one({"_id": doc_id}, {"$pull": {OUTBOX: event}})
        published += 1
    if document.get(TOKEN):
        collection.database[PENDING].delete_one({"_id": _key(collection, doc_id, document[TOKEN])})
    return published


def flush_pending(collection, dispatch, limit=500):
    """Publish whatever a crash (or a broker outage) left in any outbox of `collection`."""
    total = 0
    pending = collection.database[PENDING]
    markers = list(pending.find({"collection": collection.name}, {"doc_id": 1, "since": 1}).limit(limit))
    stale = utcnow() - STALE_AFTER
    for doc_id in dict.fromkeys(marker["doc_id"] for marker in markers):
        try:
            total += flush(collection, doc_id, dispatch)
        except Exception:  # the broker is away; the timer will try again
            log.warning("outbox flush of %s failed; will retry", collection.name, exc_info=True)
            return total
    for marker in markers:  # their documents were just flushed: whatever they marked is out
        if marker["since"] < stale:
            pending.delete_one({"_id": marker["_id"]})
    if total:
        log.info("outbox: published %d pending event(s) from %s", total, collection.name)
    return total
