"""Keyset paging, one way everywhere: a page is ordered by a field and then by `_id`, and the next
page starts after the last document of the previous one (its id is the cursor). Ordering by the
field alone would skip or repeat documents that share its value (two notifications in the same
millisecond, campaigns created in the same second).

`page` runs on a real collection; `page_of` applies the same order to documents in memory, for the
stores' in-memory twins, so both pass one contract test."""


def _after(field, anchor, anchor_id, newest_first):
    beyond = "$lt" if newest_first else "$gt"
    return [{field: {beyond: anchor[field]}}, {field: anchor[field], "_id": {beyond: anchor_id}}]


def page(collection, query, field, after_id, limit, newest_first=True, projection=None, anchor_query=None):
    """(documents, whether more follow): up to `limit` documents matching `query`, ordered by
    (`field`, `_id`), after the document `after_id`. The cursor must itself match `anchor_query`
    (by default `query`): a cursor from someone else's page gives an empty page, not theirs."""
    query = dict(query)
    if after_id:
        anchor = collection.find_one(dict(query if anchor_query is None else anchor_query, _id=after_id), {field: 1})
        if anchor is None:
            return [], False
        query["$or"] = _after(field, anchor, after_id, newest_first)
    direction = -1 if newest_first else 1
    found = list(collection.find(query, projection).sort([(field, direction), ("_id", direction)]).limit(limit + 1))
    return found[:limit], len(found) > limit


def page_of(documents, field, anchor, limit, newest_first=True):
    """`page` over documents already filtered in memory; `anchor`: the cursor's document (None for
    the first page). The caller checks the cursor as `page` does (None found: an empty page)."""
    ordered = sorted(documents, key=lambda d: (d[field], d["_id"]), reverse=newest_first)
    if anchor is not None:
        key = (anchor[field], anchor["_id"])
        ordered = [d for d in ordered if ((d[field], d["_id"]) < key if newest_first else (d[field], d["_id"]) > key)]
    return ordered[:limit], len(ordered) > limit
