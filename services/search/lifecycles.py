"""The search service's own database: each request's lifecycle (what was asked, where, when, its
status; the first proposal; when its author confirmed a helper), assembled from events of three
services that arrive in any order. No text and no person's id: analytics.py reports over it.

Each event is merged idempotently: request fields only from a newer request version, times only if
earlier than what is held. Every change bumps `rev`, the external version of the lifecycle's
document in the analytics index, so the newest state wins there whatever order the writes land in.
"""
from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from services.common.store.mongo import create_collections

LIFECYCLES = "lifecycles"
REQUEST_FIELDS = ("skills", "country", "urgency", "visibility", "status", "hidden", "created_at")


def prepare(db):
    create_collections(db, LIFECYCLES)


class LifecycleStore:
    def __init__(self, db):
        self.collection = db[LIFECYCLES]

    def merge_request(self, data):
        """Apply a request event's facts if its version is newer. Returns the current lifecycle.
        The first version usually finds no lifecycle yet: it is created in one command."""
        return self._merge(data["request_id"], {"$or": [{"version": None}, {"version": {"$lt": data["version"]}}]},
                           {"$set": dict({key: data[key] for key in REQUEST_FIELDS}, version=data["version"]),
                            "$inc": {"rev": 1}},
                           new_likely=data["version"] == 1)

    def merge_time(self, request_id, field, moment):
        """Keep the earliest `moment` for `field` (first proposal, the need met)."""
        return self._merge(request_id, {"$or": [{field: None}, {field: {"$gt": moment}}]},
                           {"$set": {field: moment}, "$inc": {"rev": 1}})

    def find(self, request_id):
        return self.collection.find_one({"_id": request_id})

    def _merge(self, request_id, condition, update, new_likely=False):
        """Apply `update` where `condition` holds, creating the lifecycle if there is none; return
        the lifecycle as it is now. In one command when the update applies, two when it does not
        (most of a request's proposals come after its first): the update, then a read; three when
        there is no lifecycle yet (a proposal that overtook its request on the other queue).
        `new_likely` (a request's first version): try creating it first, in one command; if it
        exists, the upsert collides with its `_id` and the update is tried on what is there."""
        collection, condition = self.collection, dict(condition, _id=request_id)
        if new_likely:
            try:
                return collection.find_one_and_update(condition, update, upsert=True,
                                                      return_document=ReturnDocument.AFTER)
            except DuplicateKeyError:
                pass
        changed = collection.find_one_and_update(condition, update, return_document=ReturnDocument.AFTER)
        if changed is not None:
            return changed
        current = collection.find_one({"_id": request_id})
        if current is not None:
            return current
        try:
            return collection.find_one_and_update(condition, update, upsert=True, return_document=ReturnDocument.AFTER)
        except DuplicateKeyError:
            # Another event of the same request created it meanwhile: the update is tried again
            # against what is there now (losing it would lose a fact).
            return (collection.find_one_and_update(condition, update, return_document=ReturnDocument.AFTER)
                    or collection.find_one({"_id": request_id}))
