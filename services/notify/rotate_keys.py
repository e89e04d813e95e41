"""Re-encrypt every stored message text and webhook secret with the current (first) MESSAGE_KEYS key.

    MESSAGE_KEYS="<new>,<old>" python -m services.notify.rotate_keys

(services/common/ops/rotate_keys.py; docs/notify.md, "Rotating message keys".)
"""
import sys

from services.common.ops import rotate_keys

from . import storage

FIELDS = ((storage.MESSAGES, "ciphertext"), (storage.WEBHOOKS, "secret_sealed"))


def rotate(db, keys):
    return rotate_keys.rotate(db, FIELDS, keys, "MESSAGE_KEYS")


if __name__ == "__main__":
    sys.exit(rotate_keys.main("notify", "MESSAGE_KEYS", FIELDS))
