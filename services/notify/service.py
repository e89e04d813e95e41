"""notify: turns events into what people are told (inbox, email), carries private messages
between matched people, and pushes public events to organizations' webhooks.

A thin adapter: the rules live in inbox, mail, messages, webhooks, retry and outgoing."""
import logging
import uuid

from nameko.dependency_providers import Config
from services.common.bus.rpc import rpc
from nameko.timer import timer

from services.common.bus import consumer
from services.common.store import outbox
from services.common.bus.consumer import consumes
from services.common.errors import DomainError, NotFound
from services.common.bus.events import make_event, utcnow
from services.common.store.mongo import ServiceDatabase, ping
from services.common.schemas import load_or_fail, require_role, trusted_viewer
from services.common.bus.topology import ReliableEventDispatcher
from services.common.trust.keyring import ReplyCall, ViewerAudience, chosen_by_author, keyring, sealed_reply

from . import inbox, messages, outgoing, retry, storage, supporters
from .dependencies import ContactOpener, MessageCipher, SmtpMailer, WebhookPoster
from .schemas import MessagePaging, NewMessage, NewWebhook, NotificationPaging, NotificationPreferences

log = logging.getLogger(__name__)
SOURCE = "notify"


class NotifyService(consumer.LedgerUpkeep):
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

    # ---- helpers (not entrypoints)

    def _tell(self, notification):
        if notification["recipient_id"] is None:
            return  # they deleted their account
        email = outgoing.notify(self.db, notification, utcnow(), self.config)
        if email is not None:
            outgoing.deliver_email(self.db, email, utcnow(), self.config, self.mailer, self.opener,
                                   preference_checked=True)

    def _publish(self, event, body=outgoing.PUBLIC, hooks=None):
        for delivery_id in outgoing.fan_out(self.db, event, utcnow(), body, hooks):
            outgoing.deliver(self.db, delivery_id, utcnow(), self.config, self.cipher, self.post)

    # ---- profiles: sealed contacts, forgetting

    def _remember_contact(self, event):
        data = event.data
        # A suspended or deactivated person is not emailed: their address is not kept while so
        # (a reinstatement's profile_updated brings it back).
        contact = data["contact_sealed"] if data["status"] == "active" else None
        storage.remember_contact(self.db, data["profile_id"], contact, data["version"],
                                 announced=data["role"] == "volunteer")
        self._publish(event)

    # No ledger: the contact applies only if its version is newer, the activist's default never
    # overwrites a choice, and a webhook delivery is keyed by event and hook.
    @consumes("profiles", "profile_registered", ledger=False)
    def on_profile_registered(self, event):
        if event.data["role"] == "activist":
            storage.default_email_off(self.db, event.data["profile_id"], utcnow())
        self._remember_contact(event)

    @consumes("profiles", "profile_updated", ledger=False)
    def on_profile_updated(self, event):
        self._remember_contact(event)

    @consumes("profiles", "profile_deactivated", ledger=False)
    def on_profile_deactivated(self, event):
        self._remember_contact(event)

    @consumes("profiles", "profile_deleted")
    def on_profile_deleted(self, event):
        """Forget them. Webhooks hear of it only for a volunteer, whose public profile they heard
        of: that an activist's account is gone (when, which id) is nobody's business outside."""
        was_announced = storage.announced(self.db, event.data["profile_id"])
        storage.forget_person(self.db, event.data["profile_id"], event.data["version"], utcnow())
        if was_announced:
            self._publish(event)

    # ---- requests

    def _on_request(self, event):
        """Webhooks hear of a request only while it is public and not hidden; one that stops
        being so is announced as removed (by id alone) to those who heard of it."""
        before, now = storage.remember_request(self.db, event.data)
        if before is not None and now["hidden"] and not before.get("hidden") and not event.data.get("held"):
            self._tell(inbox.for_request_hidden(event))  # a moderator's doing (a campaign's pause is the author's)
        if storage.is_public(now):
            self._publish(event)
        elif before is not None and storage.is_public(before):
            self._publish(event, outgoing.REMOVED)

    # No ledger: the request's state applies only if its version is newer, and what a copy would
    # do again is keyed (the author's notification by the version, a webhook delivery by event and
    # hook, each sent only by whoever claims it).
    @consumes("requests", "request_created", ledger=False)
    def on_request_created(self, event):
        self._on_request(event)

    @consumes("requests", "request_updated", ledger=False)
    def on_request_updated(self, event):
        self._on_request(event)

    @consumes("requests", "request_closed", ledger=False)
    def on_request_closed(self, event):
        self._on_request(event)

    def _publish_match(self, event, *more):
        """Nothing about the matches of a request that is not public (or not yet known). Whether
        any webhook wants this event is asked first: usually none does, and then the request's
        state is not read at all. `more`: further events of the same type and request (one
        batch's proposals), which webhooks hear of one by one, as they always have."""
        hooks = storage.webhooks(self.db, event.event_type)
        if hooks and storage.is_public(storage.request_state(self.db, event.data["request_id"])):
            for each in (event,) + more:
                self._publish(each, hooks=hooks)

    # ---- matches

    def _proposed(self, events):
        """Proposals of one request: each volunteer told (inbox, email), each proposal remembered
        for its reminder, and webhooks told of each; in a handful of commands for the batch. Every
        write is keyed by the match, so a copy changes nothing; nothing for a volunteer who was
        deleted before the proposal reached notify."""
        now = utcnow()
        told = set(outgoing.notify_proposals(self.db, [inbox.for_match(e) for e in events], now, self.config,
                                             self.mailer, self.opener))
        storage.remember_proposals(self.db, [
            storage.proposal_record(e.data, retry.remind_at(e.data["proposed_at"], self.config), now)
            for e in events if e.data["volunteer_id"] in told])
        self._publish_match(*events)

    @consumes("matching", "matches_proposed", ledger=False)
    def on_matches_proposed(self, event):
        """One top-up's proposals, in one event (one read of the webhooks). No ledger: every write
        is keyed by the match (notification, email, reminder, webhook delivery), an email goes
        out only from the worker that inserted it or claimed it, and a deleted volunteer's
        tombstone stops a late copy from bringing anything back."""
        self._proposed(inbox.proposals_in(event))

    @consumes("matching", "match_proposed")
    def on_match_proposed(self, event):
        """The form before `matches_proposed`: one event per proposal, still accepted while what
        was written before the change drains."""
        self._proposed([event])

    @consumes("matching", "match_accepted")
    def on_match_accepted(self, event):
        """A volunteer's yes (or offer): the author is asked to decide. No channel yet."""
        storage.close_proposal(self.db, event.data)
        self._tell(inbox.for_match(event))
        self._publish_match(event)

    @consumes("matching", "match_confirmed")
    def on_match_confirmed(self, event):
        """The author chose this helper: only now may the two talk, and only on the author's
        decision signed by the gateway (matching alone cannot open a channel)."""
        if not chosen_by_author(event.data, event.data["author_id"]):
            log.warning("refused a match_confirmed without its author's signed decision (%s)", event.event_id)
            return
        storage.close_proposal(self.db, event.data)
        storage.open_channel(self.db, event.data, utcnow())
        self._tell(inbox.for_match(event))
        self._publish_match(event)

    @consumes("matching", "match_ended")
    def on_match_ended(self, event):
        """The helper's access ended: the conversation closes, and the helper is told."""
        storage.end_channel(self.db, event.data["match_id"], utcnow())
        self._tell(inbox.for_match(event))
        self._publish_match(event)

    @consumes("matching", "match_rejected")
    def on_match_rejected(self, event):
        storage.close_proposal(self.db, event.data)
        self._tell(inbox.for_match(event))
        self._publish_match(event)

    @consumes("matching", "match_declined")
    def on_match_declined(self, event):
        storage.close_proposal(self.db, event.data)
        self._publish_match(event)

    @consumes("matching", "match_expired")
    def on_match_expired(self, event):
        storage.close_proposal(self.db, event.data)
        self._publish_match(event)

    @consumes("matching", "match_withdrawn")
    def on_match_withdrawn(self, event):
        storage.close_proposal(self.db, event.data)
        self._publish_match(event)

    # ---- campaigns: supporters' emails (no account: supporters.py)

    @consumes("campaigns", "supporter_email_given", ledger=False)
    def on_supporter_email_given(self, event):
        """Ask a new supporter to confirm their address (double opt-in); it goes from the timer."""
        supporters.email_given(self.db, event.data, utcnow())

    @consumes("campaigns", "supporter_updates_changed", ledger=False)
    def on_supporter_updates_changed(self, event):
        supporters.updates_changed(self.db, event.data)

    @consumes("campaigns", "campaign_news", ledger=False)
    def on_campaign_news(self, event):
        supporters.news(self.db, event.data)

    @consumes("campaigns", "campaign_changed", ledger=False)
    def on_campaign_changed(self, event):
        supporters.campaign_changed(self.db, event.data)

    @timer(interval=2)
    def send_campaign_news(self):
        """A page of each campaign's confirmed supporters still without its news, per tick: their
        emails are queued due now, and `send_due_emails` sends them."""
        supporters.fan_out(self.db, utcnow())

    # ---- timers: reminders, emails and deliveries that are due (retries, digests, crashes)

    @timer(interval=1)
    def remind_expiring(self):
        """Reminders that fell due, from the timer's checkpoint on (one that was stopped catches
        up, a bounded page per tick; nothing not yet due is read)."""
        now = utcnow()
        storage.walk_due_reminders(self.db, now, lambda proposals: self._remind(proposals, now))

    def _remind(self, proposals, now):
        for proposal in proposals:
            self._tell(inbox.for_expiring(proposal, now))
            storage.mark_reminded(self.db, proposal["_id"])

    @timer(interval=1)
    def send_due_emails(self):
        for email_id in storage.due(self.db[storage.EMAILS], utcnow()):
            outgoing.send_email(self.db, email_id, utcnow(), self.config, self.mailer, self.opener)

    @timer(interval=1)
    def deliver_due_webhooks(self):
        for delivery_id in storage.due(self.db[storage.DELIVERIES], utcnow()):
            outgoing.deliver(self.db, delivery_id, utcnow(), self.config, self.cipher, self.post)

    @timer(interval=5)
    def relay_pending_events(self):
        outbox.flush_pending(self.db[storage.MESSAGES], self.dispatch)

    # ---- inbox

    @rpc(expected_exceptions=DomainError)
    def list_notifications(self, viewer, limit=50, before=None):
        viewer = trusted_viewer(viewer)
        paging = load_or_fail(NotificationPaging(), {"limit": limit, "before": before})
        items, unread, more = storage.notifications_for(self.db, viewer["account_id"], paging["limit"],
                                                        paging["before"])
        page = {"unread": unread, "items": [inbox.view(n) for n in items]}
        if more:
            page["next"] = items[-1]["_id"]  # pass as ?before= for the next page
        return page

    @rpc(expected_exceptions=DomainError)
    def mark_read(self, viewer, notification_id):
        viewer = trusted_viewer(viewer)
        if not storage.mark_read(self.db, viewer["account_id"], str(notification_id), utcnow()):
            raise NotFound("No such notification.")
        return {"id": notification_id, "read": True}

    @rpc(expected_exceptions=DomainError)
    def mark_all_read(self, viewer):
        viewer = trusted_viewer(viewer)
        return {"marked": storage.mark_all_read(self.db, viewer["account_id"], utcnow()), "unread": 0}

    @rpc(expected_exceptions=DomainError)
    def get_preferences(self, viewer):
        viewer = trusted_viewer(viewer)
        return {"email": storage.email_mode(self.db, viewer["account_id"])}

    @rpc(expected_exceptions=DomainError)
    def set_preferences(self, viewer, body):
        viewer = trusted_viewer(viewer)
        preferences = load_or_fail(NotificationPreferences(), body)
        storage.set_email_mode(self.db, viewer["account_id"], preferences["email"], utcnow())
        return preferences

    # ---- messages

    def _channel(self, viewer, match_id, sending=False):
        match_id = str(match_id)
        return messages.channel_for(storage.channel(self.db, match_id), storage.proposal(self.db, match_id),
                                    viewer["account_id"], sending)

    @rpc(expected_exceptions=DomainError)
    @sealed_reply()
    def list_messages(self, viewer, match_id, after=None, limit=100):
        viewer = trusted_viewer(viewer)
        paging = load_or_fail(MessagePaging(), {"limit": limit, "after": after})
        channel = self._channel(viewer, match_id)
        items, more = storage.messages_in(self.db, channel["_id"], paging["limit"], paging["after"])
        page = {"items": [messages.view(m, self.cipher, viewer["account_id"]) for m in items]}
        if more:
            page["next"] = items[-1]["_id"]  # pass as ?after= for the next page
        return page

    @rpc(expected_exceptions=DomainError)
    @sealed_reply()
    def send_message(self, viewer, match_id, body):
        viewer = trusted_viewer(viewer)
        channel = self._channel(viewer, match_id, sending=True)
        text = load_or_fail(NewMessage(), keyring().open(SOURCE, body, field="body"))["text"]
        now = utcnow()
        message_id = uuid.uuid4().hex
        message = {"_id": message_id, "match_id": channel["_id"], "sender_id": viewer["account_id"],
                   "sent_at": now, "ciphertext": messages.seal(self.cipher, message_id, text), "deleted": False}
        event = make_event(SOURCE, "message_sent", {"match_id": channel["_id"], "message_id": message_id,
                                                    "sender_id": viewer["account_id"], "sent_at": now})
        outbox.publish(storage.insert_message(self.db, message, [event]), self.dispatch)
        return messages.view(message, self.cipher, viewer["account_id"])

    # ---- webhooks (moderators)

    def _moderator(self, viewer):
        return require_role(viewer, "moderator", "Only moderators manage webhooks.")

    @staticmethod
    def _webhook_view(hook):
        return {"id": hook["_id"], "url": hook["url"], "event_types": hook["event_types"],
                "created_at": hook["created_at"].isoformat()}

    @rpc(expected_exceptions=DomainError)
    def create_webhook(self, viewer, body):
        viewer = self._moderator(viewer)
        data = load_or_fail(NewWebhook(), keyring().open(SOURCE, body))  # the secret crosses the bus sealed
        hook = {"_id": uuid.uuid4().hex, "url": data["url"], "event_types": data["event_types"],
                "secret_sealed": self.cipher.encrypt(data["secret"].encode()).decode(),
                "created_by": viewer["account_id"], "created_at": utcnow()}
        storage.insert_webhook(self.db, hook)
        return self._webhook_view(hook)

    @rpc(expected_exceptions=DomainError)
    def list_webhooks(self, viewer):
        self._moderator(viewer)
        return {"items": [self._webhook_view(h) for h in storage.webhooks(self.db)]}

    @rpc(expected_exceptions=DomainError)
    def delete_webhook(self, viewer, webhook_id):
        self._moderator(viewer)
        if not storage.delete_webhook(self.db, str(webhook_id), utcnow()):
            raise NotFound("No such webhook.")
        return None

    @rpc
    def health(self):
        return {"database": ping(self.db)}
