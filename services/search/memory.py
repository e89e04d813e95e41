"""In-memory twins of search's ports, for the workflow's fast tests, held to one contract test with
the real ones (tests/test_store_contract.py): the lifecycle store, and the index's writes (a
document per kind and id, written only from a newer version, as external versions are)."""
from services.common.store.memory import copied

from .lifecycles import REQUEST_FIELDS


class InMemoryLifecycleStore:
    def __init__(self):
        self.lifecycles = {}

    def _lifecycle(self, request_id):
        return self.lifecycles.setdefault(request_id, {"_id": request_id, "rev": 0})

    def merge_request(self, data):
        lifecycle = self._lifecycle(data["request_id"])
        if lifecycle.get("version") is None or lifecycle["version"] < data["version"]:
            lifecycle.update({key: copied(data[key]) for key in REQUEST_FIELDS}, version=data["version"])
            lifecycle["rev"] += 1
        return copied(lifecycle)

    def merge_time(self, request_id, field, moment):
        lifecycle = self._lifecycle(request_id)
        if lifecycle.get(field) is None or lifecycle[field] > moment:
            lifecycle[field] = moment
            lifecycle["rev"] += 1
        return copied(lifecycle)

    def find(self, request_id):
        return copied(self.lifecycles.get(request_id))


class InMemoryIndex:
    def __init__(self):
        self.documents = {}  # (kind, id) -> (version, document or None: a delete's tombstone)

    def put(self, *writes):
        for kind, doc_id, document, version in writes:
            held = self.documents.get((kind, doc_id))
            if held is None or held[0] < version:
                self.documents[(kind, doc_id)] = (version, copied(document))

    def get(self, kind, doc_id):
        return copied(self.documents.get((kind, doc_id), (None, None))[1])

    def search(self, kind, body):
        raise NotImplementedError("queries are Elasticsearch's: they are tested against it")
