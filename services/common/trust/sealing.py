"""Contact details sealed for notify: only the holder of notify's private key can read them.

profiles knows a person's email and must get it to notify without it being readable on the bus
or by any other consumer (matching, search). It encrypts with notify's RSA public key (OAEP with
SHA-256); notify alone holds the private key. Keys are base64 of PEM, so they fit in one
environment variable or Secret entry.
"""
import base64

from cryptography.exceptions import InvalidKey
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

_OAEP = padding.OAEP(mgf=padding.MGF1(algorithm=hashes.SHA256()), algorithm=hashes.SHA256(), label=None)


def generate_keypair():
    """(private_b64, public_b64) for NOTIFY_PRIVATE_KEY and NOTIFY_PUBLIC_KEY."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=3072)
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(private).decode(), base64.b64encode(public).decode()


class Sealer:
    def __init__(self, public_b64):
        if not public_b64:
            raise ValueError("NOTIFY_PUBLIC_KEY is not configured")
        self._key = serialization.load_pem_public_key(base64.b64decode(public_b64))

    def seal(self, text):
        return None if text is None else base64.b64encode(self._key.encrypt(text.encode(), _OAEP)).decode()


class Opener:
    def __init__(self, private_b64):
        if not private_b64:
            raise ValueError("NOTIFY_PRIVATE_KEY is not configured")
        self._key = serialization.load_pem_private_key(base64.b64decode(private_b64), password=None)

    def open(self, sealed):
        if sealed is None:
            return None
        try:
            return self._key.decrypt(base64.b64decode(sealed), _OAEP).decode()
        except (ValueError, InvalidKey):
            return None
