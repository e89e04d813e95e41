"""The secrets every deployment needs, and a generator for local ones.

`python -m services.common.secrets` prints fresh values as an env file; `./dev` writes them once
to .local/secrets.env. Production takes them from a Kubernetes Secret.
"""
from cryptography.fernet import Fernet

from .sealing import generate_keypair

SECRET_KEYS = ("CONTACT_KEY", "NOTIFY_PUBLIC_KEY", "NOTIFY_PRIVATE_KEY", "MESSAGE_KEYS")


def new_secrets():
    private, public = generate_keypair()
    return {
        "CONTACT_KEY": Fernet.generate_key().decode(),
        "NOTIFY_PUBLIC_KEY": public,
        "NOTIFY_PRIVATE_KEY": private,
        # notify's Fernet keys for message text at rest, comma-separated, current first.
        "MESSAGE_KEYS": Fernet.generate_key().decode(),
    }


if __name__ == "__main__":
    for key, value in new_secrets().items():
        print(f"{key}={value}")
