"""requests: activists' needs and their lifecycle. Publishes request_* events through its outbox.

A thin adapter, as matching's: the use cases are plain code in workflow.py over the RequestStore
of storage.py and the flags store. This class checks the viewer's signature, opens what arrived
sealed to this service (a request's text may be private), seals every reply holding a request to
the gateway (services/common/trust/keyring.py), and hands each call, event and tick to the workflow.
"""
from nameko.dependency_providers import Config
from nameko.timer import timer

from services.common import flags
from services.common.bus import consumer
from services.common.bus.consumer import consumes
from services.common.bus.events import utcnow
from services.common.bus.rpc import rpc
from services.common.bus.topology import ReliableEventDispatcher
from services.common.errors import DomainError
from services.common.schemas import trusted_viewer
from services.common.store.mongo import ServiceDatabase, ping
from services.common.trust.keyring import ReplyCall, ViewerAudience, keyring, sealed_reply
from services.common.observed import Observed

from . import storage
from .workflow import DEFAULT_FLAG_LIMIT, DEFAULT_MAX_OPEN, SOURCE, RequestWorkflow


def _opened(payload):
    """What the gateway sealed to this service (a request's text may be private)."""
    return keyring().open(SOURCE, payload)


class RequestsService(Observed, consumer.LedgerUpkeep):
    name = SOURCE

    config = Config()
    db = ServiceDatabase(prepare=storage.prepare)
    reply_call = ReplyCall()  # what sealed replies are bound to (services/common/trust/keyring.py)
    viewer_audience = ViewerAudience()  # a signed viewer counts only in the call it was signed for
    text = storage.RequestTextKeys()
    dispatch = ReliableEventDispatcher()

    @property
    def work(self):
        return RequestWorkflow(storage.RequestStore(self.db, self.text), flags.FlagStore(self.db), self.dispatch,
                               utcnow, max_open=self.config.get("MAX_OPEN_REQUESTS", DEFAULT_MAX_OPEN),
                               flag_limit=self.config.get("FLAG_LIMIT", DEFAULT_FLAG_LIMIT))

    # ---- the author's side

    @rpc(expected_exceptions=DomainError)
    @sealed_reply()
    def create_request(self, viewer, payload, idempotency_key=None):
        return self.work.create_request(trusted_viewer(viewer), _opened(payload), idempotency_key)

    @rpc(expected_exceptions=DomainError)
    def check_room(self, viewer):
        return self.work.check_room(trusted_viewer(viewer))

    @rpc(expected_exceptions=DomainError)
    @sealed_reply()
    def update_request(self, viewer, request_id, payload):
        return self.work.update_request(trusted_viewer(viewer), request_id, _opened(payload))

    @rpc(expected_exceptions=DomainError)
    @sealed_reply()
    def close_request(self, viewer, request_id, payload=None):
        return self.work.close_request(trusted_viewer(viewer), request_id, payload)

    @rpc(expected_exceptions=DomainError)
    @sealed_reply()
    def my_requests(self, viewer, limit=50, before=None):
        return self.work.my_requests(trusted_viewer(viewer), limit, before)

    # ---- anyone's side

    @rpc(expected_exceptions=DomainError)
    @sealed_reply()
    def get_request(self, viewer, request_id):
        return self.work.get_request(trusted_viewer(viewer) if viewer is not None else None, request_id)

    @rpc(expected_exceptions=DomainError)
    def flag_request(self, viewer, request_id, payload):
        return self.work.flag_request(trusted_viewer(viewer), request_id, _opened(payload))  # what a reporter says

    # ---- moderation

    @rpc(expected_exceptions=DomainError)
    def flagged_requests(self, viewer):
        return self.work.flagged_requests(trusted_viewer(viewer))

    @rpc(expected_exceptions=DomainError)
    @sealed_reply()
    def set_hidden(self, viewer, request_id, hidden, payload=None):
        return self.work.set_hidden(trusted_viewer(viewer), request_id, hidden, payload)

    @rpc(expected_exceptions=DomainError)
    def dismiss_request_flags(self, viewer, request_id):
        return self.work.dismiss_request_flags(trusted_viewer(viewer), request_id)

    # ---- events from other services

    @consumes("matching", "match_confirmed")
    def on_match_confirmed(self, event):
        self.work.on_match_confirmed(event.data, event.event_id)

    @consumes("matching", "match_ended")
    def on_match_ended(self, event):
        self.work.on_match_ended(event.data)

    # No ledger: a campaign's need has the event's id (a copy finds it posted); a mode is versioned.
    @consumes("campaigns", "letter_translation_needed", ledger=False)
    def on_letter_translation_needed(self, event):
        self.work.on_letter_translation_needed(event.data)

    @consumes("campaigns", "campaign_ask_posted", ledger=False)
    def on_campaign_ask_posted(self, event):
        self.work.on_campaign_ask_posted(event.data)

    @consumes("campaigns", "campaign_changed", ledger=False)
    def on_campaign_changed(self, event):
        self.work.on_campaign_changed(event.data)

    @consumes("profiles", "profile_deleted")
    def on_profile_deleted(self, event):
        self.work.on_profile_deleted(event.data)

    # ---- for rebuilding other services' views (search), paged by id

    @rpc(expected_exceptions=DomainError)
    def export_requests(self, command):
        """A page of every request, for rebuilding search: `command` signed by the operator
        (`{action: "export_requests", after_id, limit}`)."""
        return self.work.export_requests(*keyring().export_page(command, "export_requests"))

    @rpc
    def health(self):
        return {"database": ping(self.db)}

    @timer(interval=5)
    def relay_pending_events(self):
        self.work.relay_pending()
