"""The in-memory twin of storage.py's RequestStore, for the workflow's fast tests. It passes the
same contract test as the real store on FerretDB (tests/test_store_contract.py). Nothing is sealed
(there is no disk to protect); an outbox is a list per request, published by `flush` or `publish`
as the real one is."""

from pymongo.errors import DuplicateKeyError

from services.common.bus.events import utcnow
from services.common.errors import Conflict
from services.common.store.memory import Outboxes, copied
from services.common.store import paging


_copy = copied


class InMemoryRequestStore:
    def __init__(self, clock=utcnow):
        self.requests, self.readings, self.modes, self.clock = {}, [], {}, clock
        self.outbox = Outboxes()

    def insert(self, request, events):
        if request["_id"] in self.requests:
            raise DuplicateKeyError(f"request {request['_id']} exists")
        self.requests[request["_id"]] = _copy(request)
        self.outbox.stage(request["_id"], list(events))
        return request["_id"]

    def publish(self, inserted, dispatch):
        self.flush(inserted, dispatch)

    def flush(self, request_id, dispatch):
        self.outbox.flush(request_id, dispatch)

    def flush_pending(self, dispatch):
        self.outbox.flush_all(dispatch)

    def find(self, request_id):
        request = self.requests.get(request_id)
        return None if request is None or request.get("deleted") else _copy(request)

    def update(self, request_id, change, make_events):
        current = self.find(request_id)
        if current is None:
            return None
        fields = dict(change(current), updated_at=self.clock(), version=current["version"] + 1)
        if self.requests[request_id]["version"] != current["version"]:
            raise Conflict("The request changed while saving; try again.")
        updated = dict(current, **fields)
        self.requests[request_id] = _copy(updated)
        self.outbox.stage(request_id, make_events(_copy(updated)))
        return updated

    def replace_with_tombstone(self, request, events):
        self.requests[request["_id"]] = {"_id": request["_id"], "deleted": True, "status": "withdrawn",
                                         "version": request["version"] + 1, "updated_at": self.clock()}
        self.outbox.stage(request["_id"], events)

    def open_count(self, author_id):
        return sum(1 for r in self.requests.values() if r.get("author_id") == author_id and r["status"] == "open")

    def _live_of(self, author_id):
        return [r for r in self.requests.values() if r.get("author_id") == author_id and not r.get("deleted")]

    def by_author(self, author_id):
        return [_copy(r) for r in sorted(self._live_of(author_id), key=lambda r: r["created_at"], reverse=True)]

    def page_by_author(self, author_id, limit, before=None):
        anchor = self.requests.get(before) if before else None
        if before and (anchor is None or anchor.get("author_id") != author_id or anchor.get("deleted")):
            return [], False
        found, more = paging.page_of(self._live_of(author_id), "created_at", anchor, limit)
        return [_copy(r) for r in found], more

    def record_moderator_reading(self, moderator_id, request_id):
        self.readings.append({"moderator_id": moderator_id, "request_id": request_id, "at": self.clock()})

    def moderator_readings(self, request_id, limit=50):
        return [_copy(r) for r in sorted((r for r in self.readings if r["request_id"] == request_id),
                                         key=lambda r: r["at"])][:limit]

    def forget_moderator_readings(self, request_id):
        self.readings = [r for r in self.readings if r["request_id"] != request_id]

    def remember_campaign_mode(self, campaign_id, mode, version):
        stored = self.modes.get(campaign_id)
        if stored is not None and stored["version"] >= version:
            return False
        self.modes[campaign_id] = {"mode": mode, "version": version}
        return True

    def campaign_paused(self, campaign_id):
        return (self.modes.get(campaign_id) or {}).get("mode") == "paused"

    def of_campaign(self, campaign_id):
        return [_copy(r) for r in self.requests.values() if r.get("campaign_id") == campaign_id and not r.get("deleted")]

    def export_page(self, after_id, limit):
        found = sorted((r for r in self.requests.values() if not r.get("deleted")
                        and (after_id is None or r["_id"] > after_id)), key=lambda r: r["_id"])
        return [_copy(r) for r in found[:limit]]
