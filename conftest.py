"""Fixtures shared by every test: real servers, isolated per test.

Each test that needs the stack gets its own RabbitMQ vhost (nameko's `rabbit_config`), its own
database prefix and its own Elasticsearch index prefix, and leaves nothing behind.
"""
import pytest

from services.common import elastic, mongo
from tests.support import drop_test_data, isolated_config


@pytest.fixture
def config(rabbit_config):
    """A full service config on a fresh vhost, database prefix and index prefix."""
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
