"""Health probe for services without an HTTP port: `python -m services.common.ops.probe SERVICE`.

Kubernetes runs it as an exec probe inside the service's container. It checks that this container
can reach what the service needs (the broker, its database and, for `search`, the index) and exits
0 if so, 1 if not. Kubernetes keeps probe output in pod events, so it prints only which check
failed and the exception's type, never a message (those can carry URIs with credentials).
"""
import sys

import kombu

from services.common import catalog
from services.common.store import elastic, mongo
from services.common.config import load_config

SERVICES = catalog.ALL

# Short timeouts: the probe must answer well inside the probe's timeoutSeconds.
TIMEOUTS = {"MONGO_TIMEOUT_MS": 2000, "ES_TIMEOUT_S": 3}


def check_broker(config):
    with kombu.Connection(config["AMQP_URI"], connect_timeout=3) as connection:
        connection.ensure_connection(max_retries=1, interval_start=0)


def check_database(config):
    client = mongo.connect(config)
    try:
        client.admin.command("ping")
    finally:
        client.close()


def check_index(config):
    client = elastic.connect(config)
    try:
        client.cluster.health()
    finally:
        client.close()


def checks_for(service):
    checks = {"broker": check_broker, "database": check_database}
    if service == "search":
        checks["index"] = check_index
    return checks


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1 or argv[0] not in SERVICES:
        print(f"usage: python -m services.common.ops.probe {{{'|'.join(SERVICES)}}}", file=sys.stderr)
        return 2
    config = load_config(**TIMEOUTS)
    failed = []
    for name, check in checks_for(argv[0]).items():
        try:
            check(config)
        except Exception as exc:  # noqa: BLE001 - any failure means "not healthy"
            failed.append(f"{name}: {type(exc).__name__}")
    if failed:
        print("unhealthy: " + ", ".join(failed), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
