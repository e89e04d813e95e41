"""Elasticsearch as a nameko dependency."""
from collections import namedtuple

from elasticsearch import Elasticsearch
from nameko.extensions import DependencyProvider

# What a worker gets: the client, and the prefix its index names start with.
Elastic = namedtuple("Elastic", "client prefix")


def connect(config):
    # The search service's own user (docs/security.md, "Store users"); the tools', locally the
    # operator's. Elasticsearch answers no one who does not sign in.
    auth = (config["ES_USERNAME"], config.get("ES_PASSWORD") or "") if config.get("ES_USERNAME") else None
    return Elasticsearch(config["ES_URL"], basic_auth=auth, request_timeout=float(config.get("ES_TIMEOUT_S", 10)))


class ElasticsearchClient(DependencyProvider):
    """Injects `Elastic(client, prefix)`: the client and the configured index prefix.

    `prepare` (optional) is called once at start-up with (client, prefix), to create indices.
    """

    def __init__(self, prepare=None):
        self.prepare = prepare
        self.client = None

    def setup(self):
        self.client = connect(self.container.config)
        self.prefix = self.container.config["ES_INDEX_PREFIX"]

    def start(self):
        if self.prepare:
            self.prepare(self.client, self.prefix)

    def stop(self):
        if self.client is not None:
            self.client.close()

    def kill(self):
        self.stop()

    def get_dependency(self, worker_ctx):
        return Elastic(self.client, self.prefix)
