"""MongoDB (wire protocol; FerretDB locally) as a nameko dependency: the service's own database."""
import pymongo
from nameko.extensions import DependencyProvider

from .config import database_name


def connect(config):
    return pymongo.MongoClient(
        config["MONGO_URI"],
        tz_aware=True,
        serverSelectionTimeoutMS=int(config.get("MONGO_TIMEOUT_MS", 5000)),
        # Acknowledged writes: an outbox entry is on the server before we publish it.
        w=1,
    )


class ServiceDatabase(DependencyProvider):
    """Injects `pymongo.database.Database` named `<DB_PREFIX>_<service>`.

    `prepare` (optional) is called once with the database at start-up to create indexes.
    """

    def __init__(self, prepare=None):
        self.prepare = prepare
        self.client = None
        self.database = None

    def setup(self):
        config = self.container.config
        self.client = connect(config)
        self.database = self.client[database_name(config, self.container.service_name)]

    def start(self):
        if self.prepare:
            self.prepare(self.database)

    def stop(self):
        if self.client is not None:
            self.client.close()

    def kill(self):
        self.stop()

    def get_dependency(self, worker_ctx):
        return self.database


def ping(db):
    """True if the database answers (health checks); raises otherwise."""
    db.command("ping")
    return True
