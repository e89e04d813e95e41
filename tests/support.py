"""Helpers for tests that talk to the real servers."""
import functools
import time
import uuid

import eventlet.patcher
import eventlet.tpool

from services.common.store import elastic, mongo
from services.common.config import load_config
from services.common.ops.secrets import new_secrets
from services.common.trust.keyring import ANY_AUDIENCE, Keyring, keyring


# Starting a process reads the child's error pipe, and under eventlet that read parks in the hub;
# in a long run, a listener some earlier process left on a reused fd number fails it with "Second
# simultaneous read on fileno N" (seen in full runs, never in a module alone). In a native thread
# (tpool) the read has a hub of its own, so processes are started, and commands run, there.
native_subprocess = eventlet.patcher.original("subprocess")


def start_process(args, **kwargs):
    """`subprocess.Popen`, started in a native thread."""
    return eventlet.tpool.execute(native_subprocess.Popen, args, **kwargs)


def run_command(args, **kwargs):
    """`subprocess.run` in a native thread: the green threads (a test's stream of requests) go on."""
    return eventlet.tpool.execute(native_subprocess.run, args, **kwargs)


def wait_until(check, timeout=30.0, interval=0.1, message="condition"):
    """Poll `check` until it returns something truthy; the async hops of the bus need this."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {message}")
        time.sleep(interval)


def marker(length=12):
    """A unique word with no digits: the privacy checks read seven digits in a row as a phone number,
    so a hex id in a letter or a public title would, now and then, make a test fail on a warning."""
    return uuid.uuid4().hex[:length].translate(str.maketrans("0123456789", "ghijklmnop"))


@functools.lru_cache(maxsize=1)
def run_secrets():
    """Fresh secrets for this test run (an RSA key takes a moment to make: once per run)."""
    return new_secrets()


def isolated_config(amqp_uri, **overrides):
    suffix = uuid.uuid4().hex[:10]
    return load_config(
        AMQP_URI=amqp_uri,
        DB_PREFIX=f"test_{suffix}",
        ES_INDEX_PREFIX=f"test-{suffix}",
        **run_secrets(),
        **overrides,
    )


def drop_test_data(config):
    client = mongo.connect(config)
    try:
        for name in client.list_database_names():
            if name.startswith(config["DB_PREFIX"] + "_"):
                client.drop_database(name)
    finally:
        client.close()
    es = elastic.connect(config)
    try:
        es.indices.delete(index=f"{config['ES_INDEX_PREFIX']}-*", ignore_unavailable=True, allow_no_indices=True)
    finally:
        es.close()


# ---- what crosses the bus, as the gateway and the operator make it (services/common/trust/keyring.py)

def signed_viewer(account_id, role="volunteer", handle=None, verified=False, config=None):
    """A viewer as the gateway signs it. Long-lived, so a module's constants outlive its tests."""
    ring = Keyring(config) if config is not None else keyring()
    # For any call (`*`): tests call many methods with one viewer; the gateway signs one per call.
    return ring.sign_viewer({"account_id": account_id, "role": role, "handle": handle or account_id,
                             "verified": verified}, ttl_s=24 * 3600, audience=ANY_AUDIENCE)


def sealed_to(service, data, config=None):
    """`data` sealed to `service`, as the gateway seals a payload holding a secret."""
    return (Keyring(config) if config is not None else keyring()).seal(service, data)


def opened(reply, service, method, config=None):
    """A reply `service.method` sealed to the gateway, opened as the gateway opens it (a call made
    without the gateway's context data, as entrypoint_hook makes it, is bound to no call: None)."""
    return (Keyring(config) if config is not None else keyring()).open_reply(service, method, None, reply)


def author_decision(match_id, author_id, config=None, version=2):
    """An author's choice of a helper, signed as the gateway signs it (trust.sign_decision), on the
    match as it was at `version` (2: proposed, then accepted by its volunteer)."""
    return (Keyring(config) if config is not None else keyring()).sign_decision(match_id, author_id, version)


def operator_command(command, config=None):
    """A command signed with the operator's key, as `services.profiles.admin` signs it."""
    return (Keyring(config) if config is not None else keyring()).sign_command(command)


# Each store's contract test runs against both adapters: `@pytest.fixture(params=STORE_ADAPTERS)`.
STORE_ADAPTERS = ("in-memory", "ferretdb")


def store_adapter(request, service, twin, real, prepare):
    """The store a contract test runs against: its in-memory `twin()`, or `real(db)` over `service`'s
    database on FerretDB, prepared as the service prepares it."""
    if request.param == "in-memory":
        return twin()
    db = request.getfixturevalue("db_for")(service)
    prepare(db)
    return real(db)


def every_page(fetch, size=2):
    """The ids a paged `fetch(limit, cursor) -> (items, more)` gives, page after page, each page
    starting after the last id of the one before (the stores' keyset paging)."""
    seen, cursor = [], None
    while True:
        items, more = fetch(size, cursor)
        seen += [item["_id"] for item in items]
        if not more:
            return seen
        cursor = items[-1]["_id"]
