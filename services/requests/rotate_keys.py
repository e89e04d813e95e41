"""Seal every request's text with the current (first) REQUEST_TEXT_KEYS key.

    REQUEST_TEXT_KEYS="<new>,<old>" python -m services.requests.rotate_keys

(services/common/ops/rotate_keys.py; docs/security.md, "Rotating".) It also seals the text of
requests stored in clear before text was sealed at rest (an install from before this change), each
only if unchanged since it was read (same version).
"""
import sys

from services.common.ops import rotate_keys

from .storage import REQUESTS, RequestText

FIELDS = ((REQUESTS, "text_sealed"),)


def seal_clear_text(db, keys):
    """{"sealed": n}: requests an older version kept in clear, sealed now under the current key."""
    text = RequestText(keys)
    sealed = 0
    for document in db[REQUESTS].find({"deleted": {"$ne": True}, "text_sealed": {"$exists": False}},
                                      {"title": 1, "body": 1, "version": 1}):
        if document.get("title") is None and document.get("body") is None:
            continue
        fresh = text.seal(document["_id"], document.get("title"), document.get("body"))
        sealed += db[REQUESTS].update_one({"_id": document["_id"], "version": document.get("version")},
                                          {"$set": {"text_sealed": fresh, "title": None, "body": None}}).modified_count
    return {"sealed": sealed}


def rotate(db, keys):
    """{"sealed": n, "rotated": n, "unreadable": n, "remaining": n}."""
    return dict(seal_clear_text(db, keys), **rotate_keys.rotate(db, FIELDS, keys, "REQUEST_TEXT_KEYS"))


if __name__ == "__main__":
    sys.exit(rotate_keys.main("requests", "REQUEST_TEXT_KEYS", FIELDS, before=seal_clear_text))
