"""Fixtures shared by every test: real servers, isolated per test.

Each test that needs the stack gets its own RabbitMQ vhost (nameko's `rabbit_config`), its own
database prefix and its own Elasticsearch index prefix, and leaves nothing behind.
"""
import os
from urllib.parse import urlsplit

import pytest

from services.common.bus import topology
from services.common.store import elastic, mongo
from services.common.config import ROOT
from tests.support import drop_test_data, isolated_config

LAST = "tests/test_query_plans.py"


def pytest_configure(config):
    """Services record the shape of every query they send, for the query-plan test (which runs
    last: it checks what the rest of the run sent). A fresh file each run; processes the tests
    start inherit the variable, and `load_config` reads it."""
    folder = os.environ.get("ALLIES_HOME", os.path.join(ROOT, ".local"))
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, "query-shapes.jsonl")
    open(path, "w").close()
    os.environ["QUERY_SHAPES_FILE"] = path


# The fault suite stops and restarts the shared servers: after every other test, before LAST.
FAULTS = "tests/faults/"


def pytest_collection_modifyitems(items):
    # Stable: only moves those to the end.
    items.sort(key=lambda item: (item.nodeid.startswith(LAST), item.nodeid.startswith(FAULTS)))


@pytest.fixture
def config(rabbit_config, rabbit_manager):
    """A full service config on a fresh vhost (with the broker's dead-lettering, as deployments
    have it: services/common/bus/topology.py), database prefix and index prefix."""
    topology.prepare_broker(rabbit_manager, urlsplit(rabbit_config["AMQP_URI"]).path[1:])
    config = isolated_config(rabbit_config["AMQP_URI"])
    yield config
    drop_test_data(config)


@pytest.fixture
def db_for(config):
    """`db_for("notify")`: a direct handle on a service's database, for assertions."""
    client = mongo.connect(config)
    yield lambda service: client[f"{config['DB_PREFIX']}_{service}"]
    client.close()


@pytest.fixture
def es_client(config):
    client = elastic.connect(config)
    yield client
    client.close()
