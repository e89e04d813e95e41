"""notify: turns events into what people are told (inbox, email), carries private messages
between matched people, and pushes public events to organizations' webhooks.

A thin adapter, as matching's: the use cases are plain code in workflow.py over the stores of
storage.py and the Outgoing object (outgoing.py). This class checks the viewer's signature, opens
what arrived sealed to this service, seals replies to the gateway, and hands each call, event and
tick to the workflow.
"""
from nameko.dependency_providers import Config
from nameko.timer import timer

from services.common.bus import consumer
from services.common.bus.consumer import consumes
from services.common.bus.rpc import rpc
from services.common.bus.topology import ReliableEventDispatcher
from services.common.errors import DomainError
from services.common.schemas import trusted_viewer
from services.common.store.mongo import ServiceDatabase, ping
from services.common.trust.keyring import ReplyCall, ViewerAudience, keyring, sealed_reply
from services.common.observed import Observed

from . import inbox, storage
from .dependencies import ContactOpener, MessageCipher, SmtpMailer, TextSender, WebhookPoster
from .outgoing import Outgoing
from .workflow import SOURCE, NotifyWorkflow, moderator


class NotifyService(Observed, consumer.LedgerUpkeep):
    name = SOURCE

    db = ServiceDatabase(prepare=storage.prepare)
    reply_call = ReplyCall()  # what sealed replies are bound to (services/common/trust/keyring.py)
    viewer_audience = ViewerAudience()  # a signed viewer counts only in the call it was signed for
    config = Config()
    dispatch = ReliableEventDispatcher()
    cipher = MessageCipher()
    opener = ContactOpener()
    mailer = SmtpMailer()
    post = WebhookPoster()
    sms = TextSender()

    @property
    def work(self):
        stores = storage.stores(self.db)
        return NotifyWorkflow(stores, Outgoing(stores, self.config, self.mailer, self.opener, self.cipher, self.post,
                                               self.sms), self.cipher, self.config, self.dispatch)

    # ---- profiles. No ledger on most handlers below: a contact applies only if its version is
    # newer, the activist's default never overwrites a choice, and what goes out is keyed (a
    # notification by its cause, a webhook delivery by event and hook), sent only by whoever
    # claims it; a deleted person's tombstone stops a late copy from bringing anything back.

    @consumes("profiles", "profile_registered", ledger=False)
    def on_profile_registered(self, event):
        self.work.profile_changed(event)

    @consumes("profiles", "profile_updated", ledger=False)
    def on_profile_updated(self, event):
        self.work.profile_changed(event)

    @consumes("profiles", "profile_deactivated", ledger=False)
    def on_profile_deactivated(self, event):
        self.work.profile_changed(event)

    @consumes("profiles", "profile_deleted")
    def on_profile_deleted(self, event):
        self.work.profile_deleted(event)

    # Told once: the notification's id is derived from the event and the person.
    @consumes("profiles", "check_in_missed", ledger=False)
    def on_check_in_missed(self, event):
        self.work.check_in_changed(event)

    @consumes("profiles", "check_in_resumed", ledger=False)
    def on_check_in_resumed(self, event):
        self.work.check_in_changed(event)

    @consumes("campaigns", "campaign_owners_told", ledger=False)
    def on_campaign_owners_told(self, event):
        self.work.campaign_owners_told(event)

    # ---- requests

    @consumes("requests", "request_created", ledger=False)
    def on_request_created(self, event):
        self.work.request_changed(event)

    @consumes("requests", "request_updated", ledger=False)
    def on_request_updated(self, event):
        self.work.request_changed(event)

    @consumes("requests", "request_closed", ledger=False)
    def on_request_closed(self, event):
        self.work.request_changed(event)

    # ---- matches

    @consumes("matching", "matches_proposed", ledger=False)
    def on_matches_proposed(self, event):
        """One top-up's proposals, in one event (one read of the webhooks)."""
        self.work.proposed(inbox.proposals_in(event))

    @consumes("matching", "match_proposed")
    def on_match_proposed(self, event):
        """The form before `matches_proposed`: one event per proposal, still accepted while what
        was written before the change drains."""
        self.work.proposed([event])

    @consumes("matching", "match_accepted")
    def on_match_accepted(self, event):
        self.work.match_answered(event)

    @consumes("matching", "match_confirmed")
    def on_match_confirmed(self, event):
        self.work.match_confirmed(event)

    @consumes("matching", "match_ended")
    def on_match_ended(self, event):
        self.work.match_ended(event)

    @consumes("matching", "match_rejected")
    def on_match_rejected(self, event):
        self.work.match_answered(event)

    @consumes("matching", "match_declined")
    def on_match_declined(self, event):
        self.work.match_answered(event)

    @consumes("matching", "match_expired")
    def on_match_expired(self, event):
        self.work.match_answered(event)

    @consumes("matching", "match_withdrawn")
    def on_match_withdrawn(self, event):
        self.work.match_answered(event)

    # ---- campaigns: supporters' emails

    @consumes("campaigns", "supporter_email_given", ledger=False)
    def on_supporter_email_given(self, event):
        self.work.supporter_email_given(event.data)

    @consumes("campaigns", "supporter_updates_changed", ledger=False)
    def on_supporter_updates_changed(self, event):
        self.work.supporter_updates_changed(event.data)

    @consumes("campaigns", "campaign_news", ledger=False)
    def on_campaign_news(self, event):
        self.work.campaign_news(event.data)

    @consumes("campaigns", "campaign_changed", ledger=False)
    def on_campaign_changed(self, event):
        self.work.campaign_changed(event.data)

    # ---- timers: news, reminders, emails and deliveries that are due (retries, digests, crashes)

    @timer(interval=2)
    def send_campaign_news(self):
        self.work.send_campaign_news()

    @timer(interval=1)
    def remind_expiring(self):
        self.work.remind_expiring()

    @timer(interval=1)
    def send_due_emails(self):
        self.work.send_due_emails()

    @timer(interval=1)
    def deliver_due_webhooks(self):
        self.work.deliver_due_webhooks()

    @timer(interval=1)
    def send_due_texts(self):
        self.work.send_due_texts()

    @timer(interval=5)
    def relay_pending_events(self):
        self.work.relay_pending_events()

    # ---- inbox

    @rpc(expected_exceptions=DomainError)
    def list_notifications(self, viewer, limit=50, before=None):
        return self.work.notifications(trusted_viewer(viewer), limit, before)

    @rpc(expected_exceptions=DomainError)
    def mark_read(self, viewer, notification_id):
        return self.work.mark_read(trusted_viewer(viewer), notification_id)

    @rpc(expected_exceptions=DomainError)
    def mark_all_read(self, viewer):
        return self.work.mark_all_read(trusted_viewer(viewer))

    @rpc(expected_exceptions=DomainError)
    def get_preferences(self, viewer):
        return self.work.preferences(trusted_viewer(viewer))

    @rpc(expected_exceptions=DomainError)
    def set_preferences(self, viewer, body):
        return self.work.set_preferences(trusted_viewer(viewer), body)

    # ---- messages

    @rpc(expected_exceptions=DomainError)
    @sealed_reply()
    def list_messages(self, viewer, match_id, after=None, limit=100):
        return self.work.messages(trusted_viewer(viewer), match_id, limit, after)

    @rpc(expected_exceptions=DomainError)
    @sealed_reply()
    def latest_messages(self, viewer, match_id, limit=3):
        return self.work.latest_messages(trusted_viewer(viewer), match_id, limit)

    @rpc(expected_exceptions=DomainError)
    @sealed_reply()
    def send_message(self, viewer, match_id, body):
        viewer = trusted_viewer(viewer)
        return self.work.send_message(viewer, match_id, keyring().open(SOURCE, body, field="body"))

    # ---- text messages (replies to those who write by SMS)

    @rpc(expected_exceptions=DomainError)
    def send_reply_email(self, payload):
        return self.work.send_reply_email(keyring().open(SOURCE, payload))

    @rpc(expected_exceptions=DomainError)
    def send_text(self, payload):
        return self.work.send_text(keyring().open(SOURCE, payload))

    # ---- webhooks (moderators)

    @rpc(expected_exceptions=DomainError)
    def create_webhook(self, viewer, body):
        viewer = moderator(trusted_viewer(viewer))  # who asks, before what they sent is opened
        return self.work.create_webhook(viewer, keyring().open(SOURCE, body))

    @rpc(expected_exceptions=DomainError)
    def list_webhooks(self, viewer):
        return self.work.list_webhooks(trusted_viewer(viewer))

    @rpc(expected_exceptions=DomainError)
    def delete_webhook(self, viewer, webhook_id):
        return self.work.delete_webhook(trusted_viewer(viewer), webhook_id)

    @rpc
    def health(self):
        return {"database": ping(self.db)}
