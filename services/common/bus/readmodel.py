"""Applying another service's facts to a read model, in version order, exactly once in effect.

Events about one thing (a profile, a request) carry a version that grows with every change. A
read model applies an event only if its version is newer than what it holds, so a duplicate or an
older event that arrives late changes nothing.
"""
from pymongo.errors import DuplicateKeyError


CREATED, UPDATED = "created", "updated"


def apply_if_newer(collection, doc_id, update, version):
    """Apply `update` ($set, $unset...) to `doc_id` if `version` is newer than the stored one,
    creating the document if there is none. Returns CREATED (there was none: nothing can refer
    to it yet), UPDATED, or None when it was not applied (as new or newer is stored)."""
    update = dict(update)
    update["$set"] = dict(update.get("$set", {}), version=version)
    condition = {"_id": doc_id, "version": {"$lt": version}}
    try:
        result = collection.update_one(condition, update, upsert=True)
    except DuplicateKeyError:
        # The document exists and the condition did not hold when we looked: it is as new or
        # newer (a no-op), or another event of the same thing created it at this very moment, so
        # try once more against what is there now rather than lose a newer fact.
        return UPDATED if collection.update_one(condition, update).modified_count == 1 else None
    if result.upserted_id is not None:
        return CREATED
    return UPDATED if result.modified_count == 1 else None
