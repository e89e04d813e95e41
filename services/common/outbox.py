"""Transactional outbox without transactions.

FerretDB (like MongoDB without a replica set) gives atomicity only within one document, so a
state change and the events it causes are written in the *same* document: the events go into
its `_outbox` array in the same update. After the write, `flush` publishes them and pulls each
one out once the broker confirmed it. A process that dies in between leaves the events in the
document, and `flush_pending` (run at start-up and on a timer) publishes them later. Events may
therefore be published more than once; consumers are idempotent on `event_id`.
"""
import logging

log = logging.getLogger(__name__)

OUTBOX = "_outbox"
PENDING = {f"{OUTBOX}.0": {"$exists": True}}


def stage(events):
    """The `$push` clause that appends `events` to a document's outbox in the same update."""
    return {OUTBOX: {"$each": list(events)}}


def strip(document):
    """A stored document without its outbox, for returning to callers."""
    if document is not None:
        document.pop(OUTBOX, None)
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
        result = collection.update_one({"_id": doc_id, "version": current["version"]},
                                       {"$set": fields, "$push": stage(make_events(updated))})
        if result.modified_count == 1:
            return updated
    raise ConcurrentUpdate(f"{collection.name}/{doc_id} kept changing while being updated")


def replace_with_events(collection, current, replacement, events):
    """Replace a whole document (e.g. by a tombstone that keeps no personal data) together with
    the events announcing it, if nobody changed it since `current` was read."""
    result = collection.replace_one({"_id": current["_id"], "version": current["version"]},
                                    dict(replacement, **{OUTBOX: list(events)}))
    if result.modified_count != 1:
        raise ConcurrentUpdate(f"{collection.name}/{current['_id']} changed while being replaced")


class ConcurrentUpdate(Exception):
    pass


def flush(collection, doc_id, dispatch):
    """Publish the pending events of one document, oldest first. Returns how many it published."""
    document = collection.find_one({"_id": doc_id}, {OUTBOX: 1})
    published = 0
    for event in (document or {}).get(OUTBOX, []):
        # nameko's dispatcher publishes with confirms and persistent delivery: when it returns
        # the broker has the event.
        dispatch(event["event_type"], event)
        collection.update_one({"_id": doc_id}, {"$pull": {OUTBOX: event}})
        published += 1
    return published


def flush_pending(collection, dispatch, limit=500):
    """Publish whatever a crash (or a broker outage) left in any outbox of `collection`."""
    total = 0
    for document in collection.find(PENDING, {"_id": 1}).limit(limit):
        try:
            total += flush(collection, document["_id"], dispatch)
        except Exception:  # the broker is away; the timer will try again
            log.warning("outbox flush of %s failed; will retry", collection.name, exc_info=True)
            break
    if total:
        log.info("outbox: published %d pending event(s) from %s", total, collection.name)
    return total
