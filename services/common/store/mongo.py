"""MongoDB (wire protocol; FerretDB locally) as a nameko dependency: the service's own database."""
import pymongo
import pymongo.errors
from nameko.extensions import DependencyProvider
from nameko.timer import Timer

from services.common.store import commandcount, queryshapes
from services.common.store import outbox, pgindex
from services.common.config import database_name
from services.common.store.due import CHECKPOINTS
from services.common.store.ledger import LEDGER


def connect(config, record_shapes=False):
    """A client for the configured server. `record_shapes`: the services' own connections, whose
    query shapes the query-plan test checks (services/common/store/queryshapes.py)."""
    return pymongo.MongoClient(
        config["MONGO_URI"],
        # The service's own store user (None: whatever MONGO_URI says, which the stores refuse
        # unless it names a user).
        username=config.get("MONGO_USERNAME") or None,
        password=config.get("MONGO_PASSWORD") or None,
        tz_aware=True,
        serverSelectionTimeoutMS=int(config.get("MONGO_TIMEOUT_MS", 5000)),
        # The server's default write concern, which is acknowledged: on one server (FerretDB
        # locally, compose) the write is on it; on a replica set (deploy/k8s) on a majority of
        # its members (MongoDB 5+), so that an outbox entry survives the loss of the primary
        # before its event is published. MONGO_URI may still set `w`.
        # Every client counts its commands (services/common/store/commandcount.py); the services' own
        # also record their query shapes.
        event_listeners=commandcount.listeners(config) + (queryshapes.listeners(config) if record_shapes else []),
    )


def create_collections(db, *names):
    """Make sure these collections exist, so start-up can index them before the first query."""
    have = set(db.list_collection_names())
    for name in names:
        if name not in have:
            try:
                db.create_collection(name)
            except pymongo.errors.CollectionInvalid:
                pass  # another replica created it
            except pymongo.errors.OperationFailure as exc:
                # Or a write did, meanwhile: the server's own "already exists" (NamespaceExists),
                # as when events waiting in the queue are handled while the service starts.
                if exc.code != 48:
                    raise


def prepare_database(db, prepare, config):
    """Create a service's collections and declared indexes, and (on the local FerretDB stack) the
    PostgreSQL indexes that serve them. Every collection a service queries must exist by now."""
    # The ledger of handled events, read by `_id` for every event; the timers' checkpoints (due.py).
    create_collections(db, LEDGER, CHECKPOINTS)
    db[LEDGER].create_index("day")  # its records expire by the day (ledger.EventLedger.expire)
    outbox.prepare(db)
    if prepare:
        prepare(db)
    if config.get("FERRETDB_POSTGRESQL_URL"):
        pgindex.mirror(pgindex.as_store_user(config), db)


class ServiceDatabase(DependencyProvider):
    """Injects `pymongo.database.Database` named `<DB_PREFIX>_<service>`.

    `prepare` (optional) is called once with the database at start-up to create its collections
    and indexes (`prepare_database`).
    """

    def __init__(self, prepare=None):
        self.prepare = prepare
        self.client = None
        self.database = None

    def setup(self):
        config = self.container.config
        self.client = connect(config, record_shapes=True)
        self.database = self.client[database_name(config, self.container.service_name)]

    def start(self):
        prepare_database(self.database, self.prepare, self.container.config)

    def stop(self):
        if self.client is not None:
            self.client.close()

    def kill(self):
        self.stop()

    def worker_setup(self, worker_ctx):
        # A timer's ticks are told apart from the actions people and events cause.
        kind = "timer:" if isinstance(worker_ctx.entrypoint, Timer) else ""
        commandcount.set_entrypoint(kind + worker_ctx.entrypoint.method_name)

    def worker_teardown(self, worker_ctx):
        commandcount.set_entrypoint(None)

    def get_dependency(self, worker_ctx):
        return self.database


def ping(db):
    """True if the database answers (health checks); raises otherwise."""
    db.command("ping")
    return True
