"""Text at rest, sealed with Fernet (AES-128-CBC + HMAC-SHA256, the `cryptography` package) and
bound to the document it belongs to.

Keys come from a setting holding "k1,k2,..." (current first): every key in the list opens, so keys
rotate without downtime (each service's `rotate_keys`). The document's id is sealed in with the
text and checked on the way out, so a token copied onto another document does not open there: a
copy of a database gives away neither a private request, a letter to a prisoner, nor a name a
family kept for itself.
"""
import json

from cryptography.fernet import Fernet, MultiFernet


def fernet_keys(value, setting):
    """The setting's comma-separated keys, current first, as one MultiFernet; refuses to run
    without a key."""
    keys = [key.strip() for key in (value or "").split(",") if key.strip()]
    if not keys:
        raise ValueError(f"{setting} is not configured (comma-separated Fernet keys, current first)")
    return MultiFernet([Fernet(key) for key in keys])


class BoundText:
    """Values (any JSON) sealed together with the id of the document that holds them."""

    def __init__(self, keys, setting):
        self.cipher = fernet_keys(keys, setting)

    def seal(self, doc_id, *values):
        return self.cipher.encrypt(json.dumps([doc_id, *values]).encode()).decode()

    def open(self, doc_id, token):
        """The values sealed for `doc_id`, as a list; ValueError if the token is another document's."""
        bound_id, *values = json.loads(self.cipher.decrypt(token.encode()))
        if bound_id != doc_id:
            raise ValueError(f"the text stored on {doc_id} is another document's")
        return values

    def rotate(self, token):
        """The same values under the current key."""
        return self.cipher.rotate(token.encode()).decode()
