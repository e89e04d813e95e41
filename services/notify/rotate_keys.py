"""Re-encrypt every stored message text and webhook secret with the current (first) MESSAGE_KEYS key.

    MESSAGE_KEYS="<new>,<old>" python -m services.notify.rotate_keys

Run it after deploying the new key in front of the old ones (docs/notify.md, "Rotating message
keys"); when it reports `remaining under old keys: 0`, the old key can be removed from
MESSAGE_KEYS. Safe to run twice, and while notify is running (each document is rewritten only if
its token is unchanged since it was read). Prints counts only.
"""
import sys

from cryptography.fernet import Fernet, InvalidToken

from services.common.store import mongo
from services.common.config import database_name, load_config

from . import messages, storage

FIELDS = ((storage.MESSAGES, "ciphertext"), (storage.WEBHOOKS, "secret_sealed"))


def _under_current(current, token):
    try:
        current.decrypt(token.encode())
        return True
    except InvalidToken:
        return False


def rotate(db, keys):
    """Returns {"rotated": n, "unreadable": n, "remaining": n}: tokens moved to the current key,
    tokens no configured key opens (left alone), and tokens still under an older key afterwards."""
    cipher = messages.cipher_from_config(keys)
    current = Fernet(keys.split(",")[0].strip())
    counts = {"rotated": 0, "unreadable": 0, "remaining": 0}
    for collection, field in FIELDS:
        for document in db[collection].find({field: {"$exists": True}}, {field: 1}):
            token = document[field]
            if _under_current(current, token):
                continue
            try:
                fresh = messages.rotate(cipher, token)
            except InvalidToken:
                counts["unreadable"] += 1
                continue
            result = db[collection].update_one({"_id": document["_id"], field: token}, {"$set": {field: fresh}})
            counts["rotated"] += result.modified_count
        for document in db[collection].find({field: {"$exists": True}}, {field: 1}):
            if not _under_current(current, document[field]):
                counts["remaining"] += 1
    counts["remaining"] -= counts["unreadable"]
    return counts


def main():
    config = load_config()
    client = mongo.connect(config)
    try:
        counts = rotate(client[database_name(config, "notify")], config.get("MESSAGE_KEYS") or "")
    finally:
        client.close()
    print(f"rotated: {counts['rotated']}, unreadable with every configured key: {counts['unreadable']}, "
          f"remaining under old keys: {counts['remaining']}")
    return 0 if counts["remaining"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
