"""Seal every request's text with the current (first) REQUEST_TEXT_KEYS key.

    REQUEST_TEXT_KEYS="<new>,<old>" python -m services.requests.rotate_keys

Run it after deploying a new key in front of the old ones (docs/security.md, "Rotating"); when it
reports `remaining under old keys: 0` the old key can go. It also seals the text of requests
stored in clear before text was sealed at rest (an install from before this change). Safe to run
twice and while requests runs: each document is rewritten only if unchanged since it was read
(same version). Prints counts only, never text.
"""
import sys

from cryptography.fernet import Fernet, InvalidToken

from services.common.store import mongo
from services.common.config import database_name, load_config

from .storage import REQUESTS, RequestText


def rotate(db, keys):
    """{"sealed": n, "rotated": n, "unreadable": n, "remaining": n}."""
    text = RequestText(keys)
    current = Fernet(keys.split(",")[0].strip())
    counts = {"sealed": 0, "rotated": 0, "unreadable": 0, "remaining": 0}
    for document in db[REQUESTS].find({"deleted": {"$ne": True}}, {"title": 1, "body": 1, "text_sealed": 1,
                                                                   "version": 1}):
        token = document.get("text_sealed")
        condition = {"_id": document["_id"], "version": document.get("version")}
        if not token:
            if document.get("title") is None and document.get("body") is None:
                continue
            fresh = text.seal(document["_id"], document.get("title"), document.get("body"))
            result = db[REQUESTS].update_one(condition, {"$set": {"text_sealed": fresh, "title": None, "body": None}})
            counts["sealed"] += result.modified_count
            continue
        try:
            current.decrypt(token.encode())
            continue  # already under the current key
        except InvalidToken:
            pass
        try:
            fresh = text.rotate(token)
        except InvalidToken:
            counts["unreadable"] += 1
            continue
        counts["rotated"] += db[REQUESTS].update_one(dict(condition, text_sealed=token),
                                                     {"$set": {"text_sealed": fresh}}).modified_count
    for document in db[REQUESTS].find({"deleted": {"$ne": True}}, {"text_sealed": 1, "title": 1}):
        token = document.get("text_sealed")
        if token:
            try:
                current.decrypt(token.encode())
            except InvalidToken:
                counts["remaining"] += 1
        elif document.get("title") is not None:
            counts["remaining"] += 1
    counts["remaining"] -= counts["unreadable"]
    return counts


def main():
    config = load_config()
    client = mongo.connect(config)
    try:
        counts = rotate(client[database_name(config, "requests")], config.get("REQUEST_TEXT_KEYS") or "")
    finally:
        client.close()
    print(f"sealed: {counts['sealed']}, rotated: {counts['rotated']}, "
          f"unreadable with every configured key: {counts['unreadable']}, remaining under old keys: {counts['remaining']}")
    return 0 if counts["remaining"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
