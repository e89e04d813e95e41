"""campaigns: campaigns for prisoners of conscience, and the support they gather without
identifying anyone (DESIGN, "Campaigns for prisoners of conscience"; ../shared/CAMPAIGNS.md).

A thin adapter, as matching's: the use cases are plain code in workflow.py over the stores of
storage.py. This class checks the viewer's signature, opens what arrived sealed to this service,
seals replies to the gateway, and hands each call, event and tick to the workflow.
"""
from nameko.dependency_providers import Config
from nameko.timer import timer

from services.common.bus.consumer import consumes
from services.common.bus.rpc import rpc
from services.common.bus.topology import ReliableEventDispatcher
from services.common.errors import DomainError
from services.common.schemas import trusted_viewer
from services.common.store.mongo import ServiceDatabase, ping
from services.common.trust.keyring import ReplyCall, ViewerAudience, keyring, sealed_reply
from services.common.observed import Observed

from . import public_counts, storage
from .workflow import DEFAULT_CAMPAIGNS_PER_ACCOUNT, DEFAULT_COUNTS_EVERY_S, SOURCE, CampaignWorkflow


def _viewer(viewer):
    """The signed viewer's claims: refused unless the gateway signed them for this very call."""
    return trusted_viewer(viewer)


def _opened(payload):
    """What the gateway sealed to this service (a secret never crosses the bus in clear)."""
    return keyring().open(SOURCE, payload)


class CampaignsService(Observed):
    name = SOURCE

    config = Config()
    db = ServiceDatabase(prepare=storage.prepare)
    keys = storage.CampaignKeys()
    reply_call = ReplyCall()  # what sealed replies are bound to (services/common/trust/keyring.py)
    viewer_audience = ViewerAudience()  # a signed viewer counts only in the call it was signed for
    dispatch = ReliableEventDispatcher()

    @property
    def work(self):
        text = self.keys[0]
        return CampaignWorkflow(
            (storage.CampaignStore(self.db, text), storage.LetterStore(self.db, text), storage.WallStore(self.db, text),
             storage.PledgeStore(self.db)), self.keys, self.dispatch,
            threshold=int(self.config.get("CAMPAIGN_COUNT_THRESHOLD") or public_counts.DEFAULT_THRESHOLD),
            campaigns_per_account=int(self.config.get("CAMPAIGNS_PER_ACCOUNT") or DEFAULT_CAMPAIGNS_PER_ACCOUNT),
            counts_every_s=float(self.config.get("CAMPAIGN_COUNTS_EVERY_S") or DEFAULT_COUNTS_EVERY_S))

    # ---- owners

    @rpc(expected_exceptions=DomainError)
    @sealed_reply()
    def create_campaign(self, viewer, payload):
        return self.work.create_campaign(_viewer(viewer), _opened(payload))

    @rpc(expected_exceptions=DomainError)
    @sealed_reply()
    def update_campaign(self, viewer, campaign_id, payload):
        return self.work.update_campaign(_viewer(viewer), campaign_id, _opened(payload))

    @rpc(expected_exceptions=DomainError)
    def my_campaigns(self, viewer):
        return self.work.my_campaigns(_viewer(viewer))

    @rpc(expected_exceptions=DomainError)
    @sealed_reply()
    def add_timeline_entry(self, viewer, campaign_id, payload):
        return self.work.add_timeline_entry(_viewer(viewer), campaign_id, _opened(payload))

    @rpc(expected_exceptions=DomainError)
    @sealed_reply()
    def remove_timeline_entry(self, viewer, campaign_id, entry_id):
        return self.work.remove_timeline_entry(_viewer(viewer), campaign_id, entry_id)

    @rpc(expected_exceptions=DomainError)
    @sealed_reply()
    def post_ask(self, viewer, campaign_id, payload):
        return self.work.post_ask(_viewer(viewer), campaign_id, payload)  # public text: not sealed

    @rpc(expected_exceptions=DomainError)
    def post_to_wall(self, viewer, campaign_id, payload):
        return self.work.post_to_wall(_viewer(viewer), campaign_id, _opened(payload))

    @rpc(expected_exceptions=DomainError)
    def campaign_pledges(self, viewer, campaign_id):
        return self.work.campaign_pledges(_viewer(viewer), campaign_id)

    @rpc(expected_exceptions=DomainError)
    def pledge_done(self, viewer, campaign_id, pledge_id):
        return self.work.pledge_done(_viewer(viewer), campaign_id, pledge_id)

    @rpc(expected_exceptions=DomainError)
    @sealed_reply()  # whoever copied the code off the bus could take the co-owner's place
    def invite_owner(self, viewer, campaign_id):
        return self.work.invite_owner(_viewer(viewer), campaign_id)

    @rpc(expected_exceptions=DomainError)
    def revoke_invitation(self, viewer, campaign_id, ref):
        return self.work.revoke_invitation(_viewer(viewer), campaign_id, ref)

    @rpc(expected_exceptions=DomainError)
    @sealed_reply()
    def join_as_owner(self, viewer, campaign_id, payload):
        return self.work.join_as_owner(_viewer(viewer), campaign_id, _opened(payload))

    @rpc(expected_exceptions=DomainError)
    def remove_owner(self, viewer, campaign_id, handle):
        return self.work.remove_owner(_viewer(viewer), campaign_id, handle)

    # ---- everyone

    @rpc(expected_exceptions=DomainError)
    @sealed_reply()
    def get_campaign(self, viewer, campaign_id):
        return self.work.get_campaign(_viewer(viewer) if viewer is not None else None, campaign_id)  # anyone

    @rpc(expected_exceptions=DomainError)
    def list_campaigns(self, query=None):
        return self.work.list_campaigns(query)

    @rpc(expected_exceptions=DomainError)
    def sign_campaign(self, campaign_id, payload):
        return self.work.sign_campaign(campaign_id, _opened(payload))

    @rpc(expected_exceptions=DomainError)
    def supporter_action(self, payload):
        return self.work.supporter_action(_opened(payload))

    @rpc(expected_exceptions=DomainError)
    def endorse_campaign(self, viewer, campaign_id):
        return self.work.endorse_campaign(_viewer(viewer), campaign_id)

    @rpc(expected_exceptions=DomainError)
    def pledge(self, viewer, campaign_id, payload):
        return self.work.pledge(_viewer(viewer), campaign_id, _opened(payload))

    # ---- letters of support

    @rpc(expected_exceptions=DomainError)
    def write_letter(self, viewer, campaign_id, payload):
        return self.work.write_letter(_viewer(viewer), campaign_id, _opened(payload))

    @rpc(expected_exceptions=DomainError)
    @sealed_reply()
    def campaign_letters(self, viewer, campaign_id):
        return self.work.campaign_letters(_viewer(viewer), campaign_id)

    @rpc(expected_exceptions=DomainError)
    def mark_letter(self, viewer, campaign_id, letter_id, payload):
        return self.work.mark_letter(_viewer(viewer), campaign_id, letter_id, payload)

    @rpc(expected_exceptions=DomainError)
    def ask_translation(self, viewer, campaign_id, letter_id):
        return self.work.ask_translation(_viewer(viewer), campaign_id, letter_id)

    @rpc(expected_exceptions=DomainError)
    @sealed_reply()
    def letter_to_translate(self, viewer, letter_id):
        return self.work.letter_to_translate(_viewer(viewer), letter_id)

    @rpc(expected_exceptions=DomainError)
    def translate_letter(self, viewer, letter_id, payload):
        return self.work.translate_letter(_viewer(viewer), letter_id, _opened(payload))

    # ---- moderators

    @rpc(expected_exceptions=DomainError)
    @sealed_reply()
    def letters_to_moderate(self, viewer, query=None):
        return self.work.letters_to_moderate(_viewer(viewer), query)

    @rpc(expected_exceptions=DomainError)
    def moderate_letter(self, viewer, letter_id, payload):
        return self.work.moderate_letter(_viewer(viewer), letter_id, payload)

    @rpc(expected_exceptions=DomainError)
    @sealed_reply()
    def translations_to_moderate(self, viewer):
        return self.work.translations_to_moderate(_viewer(viewer))

    @rpc(expected_exceptions=DomainError)
    def moderate_translation(self, viewer, letter_id, payload):
        return self.work.moderate_translation(_viewer(viewer), letter_id, payload)

    @rpc(expected_exceptions=DomainError)
    @sealed_reply()
    def wall_to_moderate(self, viewer):
        return self.work.wall_to_moderate(_viewer(viewer))

    @rpc(expected_exceptions=DomainError)
    def moderate_wall_post(self, viewer, post_id, payload):
        return self.work.moderate_wall_post(_viewer(viewer), post_id, payload)

    @rpc(expected_exceptions=DomainError)
    def set_disputed(self, viewer, campaign_id, payload):
        return self.work.set_disputed(_viewer(viewer), campaign_id, _opened(payload))

    # ---- events from other services (no ledger: each write is versioned, a copy changes nothing)

    @consumes("matching", "match_confirmed", ledger=False)
    def on_match_confirmed(self, event):
        self.work.on_match_confirmed(event.data, event.event_id)

    @consumes("matching", "match_ended", ledger=False)
    def on_match_ended(self, event):
        self.work.on_match_ended(event.data)

    @consumes("profiles", "profile_registered", ledger=False)
    def on_profile_registered(self, event):
        self.work.on_profile_changed(event.data)

    @consumes("profiles", "profile_updated", ledger=False)
    def on_profile_updated(self, event):
        self.work.on_profile_changed(event.data)

    @consumes("profiles", "profile_deactivated", ledger=False)
    def on_profile_deactivated(self, event):
        self.work.on_profile_changed(event.data)

    # Once per event (the ledger): a redelivery neither logs nor tells again.
    @consumes("profiles", "check_in_missed")
    def on_check_in_missed(self, event):
        self.work.on_check_in(event.event_type, event.data)

    @consumes("profiles", "check_in_resumed")
    def on_check_in_resumed(self, event):
        self.work.on_check_in(event.event_type, event.data)

    @consumes("profiles", "profile_deleted", ledger=False)
    def on_profile_deleted(self, event):
        self.work.on_profile_deleted(event.data)

    # ---- timers

    @timer(interval=2)
    def take_signatures(self):
        self.work.take_signatures()

    @timer(interval=5)
    def publish_counts(self):
        self.work.publish_counts()

    @timer(interval=5)
    def relay_pending_events(self):
        self.work.relay_pending()

    @rpc
    def health(self):
        return {"database": ping(self.db)}
