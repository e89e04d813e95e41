"""Transactional outbox without transactions.

FerretDB (like MongoDB without a replica set) gives atomicity only within one document, so a
state change and the events it causes are written in the *same* document: the events go into
its `_outbox` array in the same update, with a fresh `_outbox_token` and the flag
`_outbox_pending: true`. After the write, `flush` reads the outbox, publishes it, and clears it
(and the flag) in one write, on the condition that the token is still the one it read: a later
write's events, under a later token, wait for that write's flush. A process that dies in between
leaves the flag, and `flush_pending` (run at start-up and on a timer) finds the flagged documents
through an index that holds only them (sparse on MongoDB; on FerretDB the flag is a pushed-down
equality served by its GIN index) and publishes them. Events may therefore be published more
than once; consumers are idempotent (the business write or the ledger, DESIGN "The spine").

A write with events costs the write itself, the flush's read and its clear: three commands, and
the timer reads only the flagged documents, never the data. (Until the lean round each write first
inserted a marker into an `outbox_pending` collection and deleted it after the flush, and each
event was pulled out on its own: five commands or more. `prepare` moves what such markers still
point at onto the flag, once, and drops them.)
"""
import logging
import uuid
from collections import namedtuple

from nameko.amqp.publish import UndeliverableMessage
from pymongo.errors import BulkWriteError

from services.common.store import backlog

log = logging.getLogger(__name__)

OUTBOX = "_outbox"
TOKEN = "_outbox_token"
FLAG = "_outbox_pending"
# The earlier version's markers (see the module's docstring).
OLD_MARKERS = "outbox_pending"
# The projection that reads a document without its outbox.
HIDE = {OUTBOX: 0, TOKEN: 0, FLAG: 0}
# What a flush writes once the events it read are out.
CLEARED = {"$set": {OUTBOX: []}, "$unset": {TOKEN: "", FLAG: ""}}
DUPLICATE_KEY = 11000


def prepare(db):
    """Once per database: flag the documents the earlier version's markers point at, if their
    outbox still holds events, and drop the markers (a collection that only shrinks)."""
    if OLD_MARKERS not in db.list_collection_names():
        return
    for marker in db[OLD_MARKERS].find({}, {"collection": 1, "doc_id": 1}):
        db[marker["collection"]].update_one({"_id": marker["doc_id"], f"{OUTBOX}.0": {"$exists": True}},
                                            {"$set": {FLAG: True}})
    db.drop_collection(OLD_MARKERS)


def index(collection):
    """The index the timer finds pending documents through: on MongoDB it holds only them."""
    collection.create_index(FLAG, sparse=True)


def new_token():
    return uuid.uuid4().hex


def _carrying(events, token):
    return {OUTBOX: list(events), TOKEN: token, FLAG: True}


def stage(update, events):
    """`update` with `events` appended to the document's outbox, under a fresh token."""
    update = dict(update)
    update["$push"] = dict(update.get("$push", {}), **{OUTBOX: {"$each": list(events)}})
    update["$set"] = dict(update.get("$set", {}), **{TOKEN: new_token(), FLAG: True})
    return update


class Inserted(namedtuple("Inserted", "collection doc_id token events")):
    """A document just inserted with its events: nothing can be in its outbox but them, so
    `publish` sends them from memory, without reading them back."""


def insert_with_events(collection, document, events):
    """Insert a document with its events (raises DuplicateKeyError if it exists). Returns an
    `Inserted` for `publish`."""
    token = new_token()
    collection.insert_one(dict(document, **_carrying(events, token)))
    return Inserted(collection, document["_id"], token, list(events))


def publish(inserted, dispatch):
    """Publish what `insert_with_events` wrote, from memory, and clear it: two commands where a
    `flush` takes three. If another write changed the document meanwhile (the token is no longer
    ours), the outbox stays for that write's flush, and our events go out twice."""
    publish_inserted(inserted.collection, inserted.token, [inserted.doc_id], {inserted.doc_id: inserted.events},
                     {"_id": inserted.doc_id}, dispatch)


def insert_many_with_events(collection, documents, events_of):
    """Insert several documents, each with its events (`events_of[document id]`), in one write,
    all under one token. Returns (token, ids inserted); a document that already existed (a
    redelivery) is skipped, as `insert_with_events` would raise."""
    token = new_token()
    try:
        collection.insert_many([dict(d, **_carrying(events_of[d["_id"]], token)) for d in documents], ordered=False)
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
    collection.update_many(dict(group, **{TOKEN: token}), CLEARED)


def update_one_with_events(collection, condition, update, events):
    """`update_one(condition, update)` with `events` in the same write; True if it matched."""
    return collection.update_one(condition, stage(update, events)).modified_count == 1


def strip(document):
    """A stored document without its outbox, for returning to callers."""
    if document is not None:
        for field in HIDE:
            document.pop(field, None)
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
    result = collection.replace_one({"_id": current["_id"], "version": current["version"]},
                                    dict(replacement, **_carrying(events, new_token())))
    if result.modified_count != 1:
        raise ConcurrentUpdate(f"{collection.name}/{current['_id']} changed while being replaced")


class ConcurrentUpdate(Exception):
    pass


def flush(collection, doc_id, dispatch):
    """Publish the pending events of one document, oldest first, and clear them if no later write
    added its own meanwhile. Returns how many it published."""
    document = collection.find_one({"_id": doc_id}, {OUTBOX: 1, TOKEN: 1, FLAG: 1})
    if document is None or not (document.get(FLAG) or document.get(OUTBOX)):
        return 0
    events = document.get(OUTBOX, [])
    for published, event in enumerate(events):
        # nameko's dispatcher publishes with confirms and persistent delivery: when it returns
        # the broker has the event.
        try:
            dispatch(event["event_type"], event)
        except UndeliverableMessage:
            # No queue for it (services/common/bus/topology.py): it stays here, flagged, and the relay
            # timer publishes it once its consumers' queues exist.
            log.warning("%s %s could not be routed to any queue; kept in the outbox", event["event_type"],
                        event["event_id"])
            return published
    # A later write changed the token: its events (and ours again) go out with its flush.
    collection.update_one({"_id": doc_id, TOKEN: document.get(TOKEN)}, CLEARED)
    return len(events)


def flush_pending(collection, dispatch, limit=500):
    """Publish whatever a crash (or a broker outage) left in any outbox of `collection`."""
    total = 0
    pending = list(collection.find({FLAG: True}, {"_id": 1}).limit(limit))
    backlog.outbox_seen(collection.name, len(pending))
    for document in pending:
        try:
            total += flush(collection, document["_id"], dispatch)
        except Exception:  # the broker is away; the timer will try again
            log.warning("outbox flush of %s failed; will retry", collection.name, exc_info=True)
            return total
    if total:
        log.info("outbox: published %d pending event(s) from %s", total, collection.name)
    return total
