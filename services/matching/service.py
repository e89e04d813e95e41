"""matching: keeps read models of volunteers and requests from events, and proposes matches.

A thin adapter: the workflow is plain code in workflow.py (over the MatchStore of store.py and the
candidate index of index.py), the rules in scoring.py and lifecycle.py. This class checks the
viewer's signature, and hands each call, event and tick to the workflow.
"""
from nameko.dependency_providers import Config
from services.common.bus.rpc import rpc
from nameko.timer import timer

from services.common.bus import consumer
from services.common.bus.consumer import consumes
from services.common.errors import DomainError
from services.common.bus.events import utcnow
from services.common.store.mongo import ServiceDatabase, ping
from services.common.schemas import trusted_viewer
from services.common.bus.topology import ReliableEventDispatcher
from services.common.trust.keyring import ViewerAudience, keyring
from services.common.observed import Observed

from .index import CandidateIndexProvider
from .store import VOLUNTEERS, MongoMatchStore, prepare
from .workflow import DEFAULT_EXPIRY_S, SOURCE, Matchmaker


class MatchingService(Observed, consumer.LedgerUpkeep):
    name = SOURCE

    db = ServiceDatabase(prepare=prepare)
    index = CandidateIndexProvider(VOLUNTEERS)
    dispatch = ReliableEventDispatcher()
    config = Config()
    viewer_audience = ViewerAudience()  # a signed viewer counts only in the call it was signed for

    @property
    def store(self):
        return MongoMatchStore(self.db, self.dispatch)

    @property
    def matchmaker(self):
        return Matchmaker(self.store, self.index, int(self.config.get("MATCH_TOP_K", 5)),
                          int(self.config.get("MATCH_EXPIRY_S", DEFAULT_EXPIRY_S)),
                          int(self.config.get("MAX_INVITATIONS_A_DAY", 20)))

    # ---- events

    @consumes("profiles", "profile_registered")
    def on_profile_registered(self, event):
        self.matchmaker.profile_changed(event.data)

    @consumes("profiles", "profile_updated")
    def on_profile_updated(self, event):
        self.matchmaker.profile_changed(event.data)

    @consumes("profiles", "profile_deactivated")
    def on_profile_deactivated(self, event):
        self.matchmaker.profile_changed(event.data)

    @consumes("profiles", "profile_deleted")
    def on_profile_deleted(self, event):
        self.matchmaker.profile_deleted(event.data)

    @consumes("requests", "request_created")
    def on_request_created(self, event):
        self.matchmaker.request_created(event.data)

    @consumes("requests", "request_updated")
    def on_request_updated(self, event):
        self.matchmaker.request_updated(event.data)

    @consumes("requests", "request_closed")
    def on_request_closed(self, event):
        self.matchmaker.request_closed(event.data)

    # ---- calls (the viewer's signature is checked here; the workflow gets its claims)

    @rpc(expected_exceptions=DomainError)
    def accept_match(self, viewer, match_id):
        return self.matchmaker.accept_match(trusted_viewer(viewer), match_id)

    @rpc(expected_exceptions=DomainError)
    def decline_match(self, viewer, match_id, payload=None):
        """`payload` (the reason, if any) sealed to matching: what a volunteer says of a need is
        theirs, not the broker's."""
        reason = keyring().open(SOURCE, payload) if payload is not None else None
        return self.matchmaker.decline_match(trusted_viewer(viewer), match_id, reason)

    @rpc(expected_exceptions=DomainError)
    def offer_help(self, viewer, request_id):
        return self.matchmaker.offer_help(trusted_viewer(viewer), request_id)

    @rpc(expected_exceptions=DomainError)
    def invite_volunteer(self, viewer, request_id, payload):
        return self.matchmaker.invite_volunteer(trusted_viewer(viewer), request_id, payload)

    @rpc(expected_exceptions=DomainError)
    def confirm_match(self, viewer, match_id, decision=None):
        """`decision`: the author's yes, signed by the gateway (services/common/trust/keyring.py)."""
        return self.matchmaker.confirm_match(trusted_viewer(viewer), match_id, decision)

    @rpc(expected_exceptions=DomainError)
    def end_match(self, viewer, match_id):
        """The author ends a confirmed helper's access (workflow.end_match)."""
        return self.matchmaker.end_match(trusted_viewer(viewer), match_id)

    @rpc(expected_exceptions=DomainError)
    def reject_match(self, viewer, match_id):
        return self.matchmaker.reject_match(trusted_viewer(viewer), match_id)

    @rpc(expected_exceptions=DomainError)
    def list_matches(self, viewer, limit=50, before=None):
        return self.matchmaker.list_matches(trusted_viewer(viewer), limit, before)

    @rpc(expected_exceptions=DomainError)
    def get_match(self, viewer, match_id):
        return self.matchmaker.get_match(trusted_viewer(viewer), match_id)

    @rpc
    def health(self):
        return {"database": ping(self.db)}

    # ---- timers

    @timer(interval=5)
    def expire_due(self):
        """Proposals nobody answered in time expire; the next candidate is proposed (from the
        timer's checkpoint: one that was stopped catches up, a bounded page per tick)."""
        self.matchmaker.expire_due(utcnow())

    @timer(interval=5)
    def relay_pending_events(self):
        self.store.flush_pending()

    @timer(interval=10)
    def sync_index(self):
        """Pick up volunteers another replica changed."""
        self.index.sync(self.db[VOLUNTEERS])
