"""notify: turns events into what people are told (in-app inbox for now)."""
from nameko.rpc import rpc

from services.common.consumer import consumes
from services.common.errors import DomainError
from services.common.mongo import ServiceDatabase
from services.common.schemas import Viewer, load_or_fail

from . import inbox, storage


class NotifyService:
    name = "notify"

    db = ServiceDatabase(prepare=storage.prepare)

    @consumes("matching", "match_proposed")
    def on_match_proposed(self, event):
        storage.insert_notification(self.db, inbox.for_match_proposed(event))

    @rpc(expected_exceptions=DomainError)
    def list_notifications(self, viewer, limit=50):
        viewer = load_or_fail(Viewer(), viewer)
        items, unread = storage.notifications_for(self.db, viewer["account_id"], min(int(limit), 200))
        return {"unread": unread, "items": [inbox.view(n) for n in items]}

    @rpc
    def health(self):
        return {"database": storage.ping(self.db)}
