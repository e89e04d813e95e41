"""The secrets every deployment needs, and a generator for local ones.

`python -m services.common.ops.secrets` prints fresh values as an env file; `./dev` writes them once
to .local/secrets.env. Production takes them from a Kubernetes Secret.
"""
import secrets

from cryptography.fernet import Fernet

from services.common.trust import keyring as bus_keys
from services.common.ops import broker_users, store_users
from services.common.trust.sealing import generate_keypair

SECRET_KEYS = ("CONTACT_KEY", "NOTIFY_PUBLIC_KEY", "NOTIFY_PRIVATE_KEY", "MESSAGE_KEYS",
               "REQUEST_TEXT_KEYS", "CAMPAIGN_TEXT_KEYS", "SIGNATURE_KEY", "MAIL_INTAKE_TOKEN") + bus_keys.KEY_NAMES + tuple(
    f"AMQP_PASSWORD_{user.upper()}" for user in broker_users.USERS) + store_users.DEPLOYMENT_KEYS


def new_secrets():
    private, public = generate_keypair()
    return {
        "CONTACT_KEY": Fernet.generate_key().decode(),
        "NOTIFY_PUBLIC_KEY": public,
        "NOTIFY_PRIVATE_KEY": private,
        # notify's Fernet keys for message text at rest, comma-separated, current first.
        "MESSAGE_KEYS": Fernet.generate_key().decode(),
        # requests' Fernet keys for a request's title and body at rest, the same way.
        "REQUEST_TEXT_KEYS": Fernet.generate_key().decode(),
        # campaigns' Fernet keys for what a campaign says about the prisoner, at rest, the same way;
        # and the key of the keyed hash that lets one email sign a campaign once (never kept itself).
        "CAMPAIGN_TEXT_KEYS": Fernet.generate_key().decode(),
        "SIGNATURE_KEY": secrets.token_urlsafe(32),
        # What the inbound mail relay (services/mailin) signs the messages it posts to the gateway with.
        "MAIL_INTAKE_TOKEN": secrets.token_urlsafe(32),
        # Sealed payloads, signed viewers and operator commands on the bus (services/common/trust/keyring.py).
        **bus_keys.new_keys(),
        # One broker user per workload (services/common/ops/broker_users.py): compose's .env and the
        # definitions the broker loads; Kubernetes puts each in its workload's AMQP_URI.
        **{f"AMQP_PASSWORD_{user.upper()}": password for user, password in broker_users.new_passwords().items()},
        # One store user per service (services/common/ops/store_users.py), the stores' administrators.
        **store_users.new_passwords(),
    }


# The secrets of the deployment that are not about the bus, by the one workload holding each.
OTHER_KEYS_OF = {"profiles": ("CONTACT_KEY", "NOTIFY_PUBLIC_KEY"), "notify": ("NOTIFY_PRIVATE_KEY", "MESSAGE_KEYS"),
                 "requests": ("REQUEST_TEXT_KEYS",),
                 "campaigns": ("CAMPAIGN_TEXT_KEYS", "SIGNATURE_KEY", "NOTIFY_PUBLIC_KEY"),
                 "gateway": ("MAIL_INTAKE_TOKEN",), "mailin": ("MAIL_INTAKE_TOKEN",)}


def keys_of(workload):
    """Every secret one workload holds (its Secret in deploy/k8s, its environment in compose)."""
    return OTHER_KEYS_OF.get(workload, ()) + bus_keys.HELD_BY.get(workload, ())


if __name__ == "__main__":
    import sys
    if sys.argv[1:2] == ["--keys-of"]:  # for shell scripts: KEY1|KEY2|...
        print("|".join(keys_of(sys.argv[2])))
    elif sys.argv[1:2] == ["--carried-to"]:  # the generated env on stdin: the workload's store passwords
        generated = dict(line.split("=", 1) for line in sys.stdin.read().splitlines() if "=" in line)
        for key, (name, workload) in store_users.CARRIED_AS.items():
            if workload == sys.argv[2]:
                print(f"{name}={generated[key]}")
    else:
        for key, value in new_secrets().items():
            print(f"{key}={value}")
