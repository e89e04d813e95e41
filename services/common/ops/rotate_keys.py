"""Move every sealed token of a service's store to the current (first) key of its setting: one
helper for requests, notify and campaigns (each names its collections and fields).

    <SETTING>="<new>,<old>" python -m services.<service>.rotate_keys

Run it after deploying a new key in front of the old ones (docs/security.md, "Rotating"); when it
reports `remaining under old keys: 0`, the old key can go. Safe to run twice and while the service
runs: a document is rewritten only if its token is unchanged since it was read. Prints counts
only, never text. Tooling: no service imports it.
"""
import sys

from cryptography.fernet import Fernet, InvalidToken

from services.common.config import database_name, load_config
from services.common.store import mongo
from services.common.trust.textseal import fernet_keys


def _under(current, token):
    try:
        current.decrypt(token.encode())
        return True
    except InvalidToken:
        return False


def rotate(db, fields, keys, setting):
    """{"rotated": n, "unreadable": n, "remaining": n} over every `(collection, field)` of `fields`:
    tokens moved to the current key, tokens no configured key opens (left alone), and tokens still
    under an older key afterwards."""
    cipher = fernet_keys(keys, setting)
    current = Fernet(keys.split(",")[0].strip())
    counts = {"rotated": 0, "unreadable": 0, "remaining": 0}
    for collection, field in fields:
        for document in db[collection].find({field: {"$exists": True}}, {field: 1}):
            token = document[field]
            if not isinstance(token, str) or _under(current, token):
                continue
            try:
                fresh = cipher.rotate(token.encode()).decode()
            except InvalidToken:
                counts["unreadable"] += 1
                continue
            counts["rotated"] += db[collection].update_one({"_id": document["_id"], field: token},
                                                           {"$set": {field: fresh}}).modified_count
        counts["remaining"] += sum(1 for document in db[collection].find({field: {"$exists": True}}, {field: 1})
                                   if isinstance(document[field], str) and not _under(current, document[field]))
    counts["remaining"] -= counts["unreadable"]
    return counts


def main(service, setting, fields, before=None):
    """The command line of one service's `rotate_keys`: `before(db, keys)` may add counts of its own
    (requests seals text an older version kept in clear) before the rotation."""
    config = load_config()
    keys = config.get(setting) or ""
    client = mongo.connect(config)
    try:
        db = client[database_name(config, service)]
        counts = dict(before(db, keys) if before is not None else {}, **rotate(db, fields, keys, setting))
    finally:
        client.close()
    print(", ".join(f"{name}: {n}" for name, n in counts.items() if name not in ("unreadable", "remaining")) +
          (", " if len(counts) > 2 else "") +
          f"unreadable with every configured key: {counts['unreadable']}, remaining under old keys: {counts['remaining']}")
    return 0 if counts["remaining"] == 0 else 1


if __name__ == "__main__":
    sys.exit("run a service's own: python -m services.<service>.rotate_keys")
