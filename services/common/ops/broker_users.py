"""One RabbitMQ user per workload, allowed only what that workload does on the bus.

Without this every service shares one account, and any of them (or anyone holding its password)
can consume another service's RPC queue, read every event, or call `profiles.grant_role`. With it:

- each service may declare, bind and consume only its own queues (`rpc-<service>`, its reply
  queues, the event queues named after it) and publish events only on its own exchange;
- on `nameko-rpc` (a topic exchange) RabbitMQ's *topic permissions* restrict routing keys: the
  gateway may address the services' RPC methods, a service may only answer (a reply's routing key
  is the caller's reply-queue uuid) and never read replies (only callers bind reply keys), and
  only the operator user may address `grant_role` and the exports;
- the user `autoscaler` (KEDA, deploy/k8s/autoscaling) may do nothing at all: a passive
  declare, which tells a queue's length, needs no permission, and reading, publishing or
  declaring anything is refused;
- the user `guest` is left to loopback (RabbitMQ's default), and the broker listens only on TLS.

`python -m services.common.ops.broker_users definitions ENV_FILE` prints RabbitMQ's definitions JSON
(users with salted SHA-256 password hashes, permissions, topic permissions) from the
`AMQP_PASSWORD_<USER>` entries of ENV_FILE (`python -m services.common.ops.secrets` makes them);
`compose-files FOLDER ENV_FILE` writes what compose's broker mounts (its config, the definitions,
a CA and the broker's TLS certificate). docs/security.md, "Broker users".
"""
import base64
import hashlib
import json
import os
import secrets
import sys

from services.common import catalog
from services.common.bus import topology

RPC_EXCHANGE = "nameko-rpc"
UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
# Who publishes events, who consumes whose (DESIGN's table, as the code has it).
PUBLISHES = {"profiles", "requests", "matching", "notify", "campaigns"}
CONSUMES = {"matching": {"profiles", "requests"}, "notify": {"profiles", "requests", "matching", "campaigns"},
            "requests": {"profiles", "matching", "campaigns"}, "search": {"profiles", "requests", "matching", "campaigns"},
            "campaigns": {"profiles", "matching"}}
RPC_SERVERS = catalog.BACKEND
# RPC methods only the operator tooling calls (services/profiles/admin.py, services/search/rebuild.py).
OPERATOR_METHODS = r"profiles\.(grant_role|export_profiles)|requests\.export_requests"
# KEDA's scaler reads queue lengths only (a passive declare, which RabbitMQ allows without any
# permission); deploy/k8s/autoscaling.
AUTOSCALER = "autoscaler"
USERS = ("gateway",) + RPC_SERVERS + ("operator", AUTOSCALER)
NOTHING = "^$"


def _alternatives(names):
    return "|".join(sorted(names))


def permissions(user):
    """(configure, write, read) regexes on the vhost, and the topic permission on nameko-rpc
    (write, read) for `user`."""
    if user == AUTOSCALER:
        return NOTHING, NOTHING, NOTHING, (NOTHING, NOTHING)
    own_queues = [rf"rpc\.reply-{user}-{UUID}"]
    exchanges = [RPC_EXCHANGE]
    if user in RPC_SERVERS:
        own_queues.append(rf"rpc-{user}")
    if user in CONSUMES:
        sources = _alternatives(CONSUMES[user])
        own_queues.append(rf"evt-({sources})-[a-z_]+--{user}\.[a-z_]+")
        exchanges.append(rf"({sources})\.events")
    own_events = [rf"{user}\.events"] if user in PUBLISHES else []
    # A publisher declares (and binds) its consumers' queues before it publishes
    # (services/common/bus/topology.py): the queues of its own events, never reading them.
    event_queues = [rf"evt-{user}-[a-z_]+--[a-z]+\.[a-z_]+"] if user in PUBLISHES else []
    # The broker moves poison messages to `dead-letters` by policy (services/common/bus/topology.py):
    # no service declares, writes or reads it, so none can forge a dead letter. The operator alone
    # reads them and replays them (publishing to the default exchange, which routes by queue name).
    dead = [r"dead-letters"] if user == "operator" else []
    replay = [r"amq\.default"] if user == "operator" else []
    configure = "^(" + "|".join(own_queues + exchanges + own_events + event_queues) + ")$"
    write = "^(" + "|".join(own_queues + [RPC_EXCHANGE] + own_events + event_queues + replay) + ")$"
    # Binding a queue takes read on its exchange; a publisher reads only the queues of events it
    # wrote itself (it declares them for its consumers).
    read = "^(" + "|".join(own_queues + exchanges + own_events + event_queues + dead) + ")$"
    # Routing keys on nameko-rpc: requests to methods, replies to uuids, and the bindings of the
    # user's own queues (reading a topic exchange checks the binding key).
    if user == "gateway":
        methods = rf"(?!({OPERATOR_METHODS})$)({_alternatives(RPC_SERVERS)})\.[a-z_]+"
    elif user == "operator":
        methods = rf"({OPERATOR_METHODS})"
    else:
        methods = None
    topic_write = "^(" + "|".join(([methods] if methods else []) + ([UUID] if user in RPC_SERVERS else [])) + ")$"
    # Replies are read by the callers only (the gateway, the operator's tools): a service that could
    # bind a queue to reply routing keys could copy the gateway's sealed replies.
    topic_read = "^(" + "|".join([rf"{user}\.\*"] if user in RPC_SERVERS else [UUID]) + ")$"
    return configure, write, read, (topic_write, topic_read)


def password_hash(password, salt=None):
    """RabbitMQ's rabbit_password_hashing_sha256: base64(salt + sha256(salt + password))."""
    salt = salt if salt is not None else os.urandom(4)
    return base64.b64encode(salt + hashlib.sha256(salt + password.encode()).digest()).decode()


def definitions(passwords, vhost="/"):
    """RabbitMQ definitions for every user (`passwords`: {user: password})."""
    # With the dead-letter exchange, queue and policy, which no service may declare (topology.py).
    out = {"users": [], "vhosts": [{"name": vhost}], "permissions": [], "topic_permissions": [],
           **topology.broker_objects(vhost)}
    for user in USERS:
        out["users"].append({"name": user, "password_hash": password_hash(passwords[user]),
                             "hashing_algorithm": "rabbit_password_hashing_sha256", "tags": ""})
        configure, write, read, (topic_write, topic_read) = permissions(user)
        out["permissions"].append({"user": user, "vhost": vhost, "configure": configure, "write": write,
                                   "read": read})
        out["topic_permissions"].append({"user": user, "vhost": vhost, "exchange": RPC_EXCHANGE,
                                         "write": topic_write, "read": topic_read})
    return out


def passwords_from(env_file):
    """{user: password} from the AMQP_PASSWORD_<USER> lines of an env file (services.common.ops.secrets)."""
    with open(env_file) as handle:
        given = dict(line.strip().split("=", 1) for line in handle if "=" in line and not line.startswith("#"))
    return {user: given[f"AMQP_PASSWORD_{user.upper()}"] for user in USERS}


def new_passwords():
    return {user: secrets.token_urlsafe(24) for user in USERS}


RABBITMQ_CONF = """# Written by `python -m services.common.ops.broker_users compose-files` (services/common/ops/broker_users.py).
# TLS only; every user and its permissions from definitions.json; guest only from loopback.
listeners.tcp = none
listeners.ssl.default = 5671
ssl_options.cacertfile = /etc/rabbitmq/tls/ca.crt
ssl_options.certfile = /etc/rabbitmq/tls/tls.crt
ssl_options.keyfile = /etc/rabbitmq/tls/tls.key
ssl_options.verify = verify_none
ssl_options.fail_if_no_peer_cert = false
ssl_options.versions.1 = tlsv1.3
ssl_options.versions.2 = tlsv1.2
loopback_users.guest = true
definitions.import_backend = local_filesystem
definitions.local.path = /etc/rabbitmq/definitions/definitions.json
"""


def tls_files(hostname="rabbitmq", days=825):
    """A private CA and the broker's certificate for `hostname`: {file name: PEM text}. For
    compose; in Kubernetes use your cluster's issuer (cert-manager) the same way."""
    from datetime import datetime, timedelta, timezone

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.now(timezone.utc)

    def pem(key):
        return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                 serialization.NoEncryption()).decode()

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "broker CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number()).not_valid_before(now).not_valid_after(now + timedelta(days=days))
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hostname)]))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now).not_valid_after(now + timedelta(days=days))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(hostname)]), critical=False)
            .sign(ca_key, hashes.SHA256()))
    return {"ca.crt": ca.public_bytes(serialization.Encoding.PEM).decode(),
            "tls.crt": cert.public_bytes(serialization.Encoding.PEM).decode(), "tls.key": pem(key)}


def compose_files(folder, env_file):
    """Everything compose's broker needs, in `folder` (git-ignored): rabbitmq.conf, definitions.json
    from the AMQP_PASSWORD_<USER> entries of `env_file`, and a CA with the broker's certificate."""
    passwords = passwords_from(env_file)
    os.makedirs(folder, exist_ok=True)
    files = {"rabbitmq.conf": RABBITMQ_CONF, "definitions.json": json.dumps(definitions(passwords), indent=2),
             **tls_files()}
    for name, text in files.items():
        path = os.path.join(folder, name)
        with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644 if name.endswith(".crt") else 0o640),
                  "w") as handle:
            handle.write(text)
    return sorted(files)


def main(argv):
    if argv[:1] == ["passwords"]:
        for user, password in new_passwords().items():
            print(f"AMQP_PASSWORD_{user.upper()}={password}")
        return 0
    if argv[:1] == ["compose-files"] and len(argv) == 3:
        print("wrote " + ", ".join(compose_files(argv[1], argv[2])) + f" in {argv[1]}")
        return 0
    if argv[:1] == ["definitions"] and len(argv) == 2:
        print(json.dumps(definitions(passwords_from(argv[1])), indent=2))
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
