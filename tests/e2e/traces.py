"""Everything the platform wrote down, to search for what must not be there.

`EventTap` binds a queue of its own to every service's event exchange and keeps every event body
published while it listens. `stored_text` dumps every document of every database and index of a
platform as text. Both are read-only observers of the real servers.
"""
import json

from kombu import Connection, Queue
from nameko.standalone.events import get_event_exchange

from services.common.store import elastic, mongo

SOURCES = ("profiles", "requests", "matching", "notify")


class EventTap:
    def __init__(self, config, name):
        self.connection = Connection(config["AMQP_URI"])
        self.queue_name = f"tap-{name}"
        self.queues = [Queue(f"{self.queue_name}-{source}", exchange=get_event_exchange(source, config), routing_key="#",
                             auto_delete=True, durable=False) for source in SOURCES]
        self.bodies = []

    def __enter__(self):
        channel = self.connection.channel()
        for queue in self.queues:
            queue(channel).declare()
        self.channel = channel
        return self

    def drain(self):
        """Every event body published since the tap opened, as raw JSON text."""
        for queue in self.queues:
            bound = queue(self.channel)
            while True:
                message = bound.get(no_ack=True, accept=["json"])
                if message is None:
                    break
                self.bodies.append(message.body if isinstance(message.body, str) else message.body.decode())
        return self.bodies

    def __exit__(self, *exc):
        for queue in self.queues:
            queue(self.channel).delete()
        self.connection.close()


def stored_text(config):
    """{place: text} for every collection of the platform's databases and every index of its prefix."""
    places = {}
    client = mongo.connect(config)
    try:
        for db_name in client.list_database_names():
            if not db_name.startswith(config["DB_PREFIX"] + "_"):
                continue
            for collection in client[db_name].list_collection_names():
                docs = list(client[db_name][collection].find({}))
                places[f"mongo:{db_name}.{collection}"] = json.dumps(docs, default=str, ensure_ascii=False)
    finally:
        client.close()
    es = elastic.connect(config)
    try:
        es.indices.refresh(index=f"{config['ES_INDEX_PREFIX']}-*", allow_no_indices=True)
        for index in es.indices.get(index=f"{config['ES_INDEX_PREFIX']}-*", allow_no_indices=True):
            hits = es.search(index=index, query={"match_all": {}}, size=10_000)["hits"]["hits"]
            places[f"es:{index}"] = json.dumps(hits, ensure_ascii=False)
    finally:
        es.close()
    return places


def where(needle, places):
    return sorted(place for place, text in places.items() if needle in text)
