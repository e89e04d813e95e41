"""Helpers for tests that talk to the real servers."""
import functools
import time
import uuid


from services.common import elastic, mongo
from services.common.config import load_config
from services.common.secrets import new_secrets


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
