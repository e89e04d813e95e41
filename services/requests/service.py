"""requests: activists' needs and their lifecycle. Publishes request_* events through its outbox."""
import uuid

from nameko.events import EventDispatcher
from nameko.rpc import rpc
from nameko.timer import timer

from services.common import outbox
from services.common.errors import DomainError, Forbidden, NotFound
from services.common.events import make_event, utcnow
from services.common.mongo import ServiceDatabase
from services.common.schemas import Viewer, load_or_fail

from . import lifecycle, storage
from .schemas import NewRequest

SOURCE = "requests"


class RequestsService:
    name = SOURCE

    db = ServiceDatabase(prepare=storage.prepare)
    dispatch = EventDispatcher()

    @rpc(expected_exceptions=DomainError)
    def create_request(self, viewer, payload):
        viewer = load_or_fail(Viewer(), viewer)
        if viewer["role"] != "activist":
            raise Forbidden("Only activists can post requests.")
        data = load_or_fail(NewRequest(), payload)
        now = utcnow()
        request = dict(data, _id=uuid.uuid4().hex, author_id=viewer["account_id"], status="open",
                       helper_ids=[], hidden=False, version=1, created_at=now, updated_at=now)
        event = make_event(SOURCE, "request_created", lifecycle.event_data(request))
        storage.insert_request(self.db, request, [event])
        outbox.flush(self.db[storage.REQUESTS], request["_id"], self.dispatch)
        return lifecycle.public_view(request)

    @rpc(expected_exceptions=DomainError)
    def get_request(self, viewer, request_id):
        viewer = load_or_fail(Viewer(), viewer) if viewer else None
        request = storage.find_request(self.db, request_id)
        # A request the viewer may not see is reported as missing: its existence is private too.
        if request is None or not lifecycle.can_view(request, viewer):
            raise NotFound("No such request.")
        return lifecycle.public_view(request)

    @rpc
    def health(self):
        return {"database": storage.ping(self.db)}

    @timer(interval=5)
    def relay_pending_events(self):
        outbox.flush_pending(self.db[storage.REQUESTS], self.dispatch)
