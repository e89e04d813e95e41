"""notify's use cases: plain code over its stores (storage.py, or memory.py's twins) and the
Outgoing object that sends, with no nameko and no I/O of its own. service.py checks the viewer's
signature, opens what arrived sealed, and hands each call, event and tick here.

Events come at least once and in no order across queues; every handler here is safe to run again:
read models apply a version only if newer, and whatever goes out is keyed (the notification by its
cause, the email by its notification, a webhook delivery by its event and hook) and sent only by
whoever claims it.
"""
import logging
import uuid

from services.common.bus.events import make_event, utcnow
from services.common.errors import NotFound
from services.common.schemas import holds_role, load_or_fail
from services.common.trust.keyring import chosen_by_author

from . import inbox, messages, outgoing, retry, supporters
from .schemas import MessagePaging, NewMessage, NewReplyEmail, NewText, NewWebhook, NotificationPaging, NotificationPreferences
from .storage import proposal_record

log = logging.getLogger(__name__)
SOURCE = "notify"


def is_public(state):
    """Whether outsiders (webhooks) may hear of a request and its matches: public, not hidden.
    (A state recorded before visibility was: public only if said so.)"""
    return bool(state) and state.get("visibility") == "public" and not state.get("hidden")


def moderator(viewer):
    """The viewer's claims, if a moderator's: only they manage webhooks."""
    return holds_role(viewer, "moderator", "Only moderators manage webhooks.")


def webhook_view(hook):
    return {"id": hook["_id"], "url": hook["url"], "event_types": hook["event_types"],
            "created_at": hook["created_at"].isoformat()}


class NotifyWorkflow:
    def __init__(self, stores, outgoing_, cipher, config, dispatch, clock=utcnow):
        self.stores, self.out, self.cipher, self.config = stores, outgoing_, cipher, config
        self.dispatch, self.clock = dispatch, clock

    # ---- profiles: sealed contacts, forgetting

    def profile_changed(self, event):
        """Registered, updated or deactivated. A suspended or deactivated person is not emailed:
        their address is not kept while so (a reinstatement's profile_updated brings it back)."""
        data = event.data
        if event.event_type == "profile_registered" and data["role"] == "activist":
            # An email from the platform in a watched mailbox can endanger an activist: none unless
            # they ask for it. Their own choice is never overwritten.
            self.stores.people.default_email_off(data["profile_id"], self.clock())
        active = data["status"] == "active"
        self.stores.people.remember_contact(data["profile_id"], data["contact_sealed"] if active else None,
                                            data["version"], announced=data["role"] == "volunteer",
                                            sms_sealed=data.get("sms_sealed") if active else None,
                                            mail_sealed=data.get("mail_sealed") if active else None)
        self.out.publish(event, self.clock())

    def profile_deleted(self, event):
        """Everything notify holds about them goes. Webhooks hear of it only for a volunteer, whose
        public profile they heard of: that an activist's account is gone is nobody's business."""
        profile_id, now = event.data["profile_id"], self.clock()
        was_announced = self.stores.people.announced(profile_id)
        self.stores.people.forget(profile_id, event.data["version"])
        self.stores.inbox.forget(profile_id)
        self.stores.emails.forget(profile_id)
        self.stores.conversations.forget(profile_id, now)
        self.stores.deliveries.forget(profile_id)
        if was_announced:
            self.out.publish(event, now)

    # ---- requests

    def request_changed(self, event):
        """Webhooks hear of a request only while it is public and not hidden; one that stops being
        so is announced as removed (by id alone) to those who heard of it. Its author is told once
        a moderator hides it (a campaign's pause holds it, which is the author's own doing)."""
        before, now_state = self.stores.requests.remember(event.data)
        now = self.clock()
        if before is not None and now_state["hidden"] and not before.get("hidden") and not event.data.get("held"):
            self.out.tell(inbox.for_request_hidden(event), now)
        if is_public(now_state):
            self.out.publish(event, now)
        elif before is not None and is_public(before):
            self.out.publish(event, now, outgoing.REMOVED)

    # ---- matches

    def _publish_match(self, event, *more):
        """Nothing about the matches of a request that is not public (or not yet known). Whether any
        webhook wants this event is asked first: usually none does, and then the request's state
        is not read at all. `more`: further events of the same type and request (one batch's
        proposals), which webhooks hear of one by one."""
        hooks = self.stores.webhooks.subscribed(event.event_type)
        if hooks and is_public(self.stores.requests.state(event.data["request_id"])):
            for each in (event,) + more:
                self.out.publish(each, self.clock(), hooks=hooks)

    def proposed(self, events):
        """Proposals of one request: each volunteer told (inbox, email), each proposal remembered
        for its reminder, and webhooks told of each. Nothing for a volunteer deleted before the
        proposal reached notify."""
        now = self.clock()
        told = set(self.out.tell_proposals([inbox.for_match(e) for e in events], now))
        self.stores.conversations.remember_proposals([
            proposal_record(e.data, retry.remind_at(e.data["proposed_at"], self.config), now)
            for e in events if e.data["volunteer_id"] in told])
        self._publish_match(*events)

    def match_answered(self, event):
        """A yes, a no, an expiry or a withdrawal: no reminder; whoever must hear of it is told."""
        self.stores.conversations.close_proposal(event.data)
        if event.event_type in inbox.TOLD_OF_MATCH:
            self.out.tell(inbox.for_match(event), self.clock())
        self._publish_match(event)

    def match_confirmed(self, event):
        """The author chose this helper: only now may the two talk, and only on the author's
        decision signed by the gateway (matching alone cannot open a channel)."""
        if not chosen_by_author(event.data, event.data["author_id"]):
            log.warning("refused a match_confirmed without its author's signed decision (%s)", event.event_id)
            return
        self.stores.conversations.close_proposal(event.data)
        self.stores.conversations.open_channel(event.data, self.clock())
        self.out.tell(inbox.for_match(event), self.clock())
        self._publish_match(event)

    def match_ended(self, event):
        """The helper's access ended: the conversation closes, and the helper is told."""
        self.stores.conversations.end_channel(event.data["match_id"], self.clock())
        self.out.tell(inbox.for_match(event), self.clock())
        self._publish_match(event)

    # ---- check-ins (profiles: missed or resumed; campaigns: relayed to a campaign's other owners)

    def check_in_changed(self, event):
        """Someone missed a check-in (or the duress password was used), or checked in after one:
        the other side of each conversation they chose is told, with their message. A match that
        is not theirs, or whose conversation is not open, tells nobody."""
        data = event.data
        for match_id in data["helpers"]:
            channel = self.stores.conversations.channel(str(match_id))
            if channel is None or channel.get("ended_at") or data["profile_id"] not in (channel["author_id"],
                                                                                         channel["volunteer_id"]):
                continue
            other = channel["volunteer_id"] if data["profile_id"] == channel["author_id"] else channel["author_id"]
            self._tell_check_in(event, other, channel["_id"], data.get("message_sealed"))

    def campaign_owners_told(self, event):
        """A campaign's other owners, as campaigns relayed a check-in of one of them."""
        for owner in event.data["owner_ids"]:
            self._tell_check_in(event, owner, None, event.data.get("message_sealed"))

    def _tell_check_in(self, event, recipient, match_id, message_sealed):
        message = self.out.opener.open(message_sealed) if message_sealed else None
        at_rest = self.cipher.encrypt(message.encode()).decode() if message else None
        self.out.tell(inbox.for_check_in(event, recipient, match_id, at_rest), self.clock(), message=message)

    # ---- campaigns' supporters (no account: supporters.py)

    def supporter_email_given(self, data):
        supporters.email_given(self.stores.supporters, self.stores.emails, data, self.clock())

    def supporter_updates_changed(self, data):
        supporters.updates_changed(self.stores.supporters, data)

    def campaign_news(self, data):
        self.stores.supporters.has_news(data)

    def campaign_changed(self, data):
        supporters.campaign_changed(self.stores.supporters, data)

    # ---- ticks

    def send_campaign_news(self):
        return supporters.fan_out(self.stores.supporters, self.stores.emails, self.clock())

    def remind_expiring(self):
        """Reminders that fell due, from the timer's checkpoint on."""
        now = self.clock()

        def remind(proposals):
            for proposal in proposals:
                self.out.tell(inbox.for_expiring(proposal, now), now)
                self.stores.conversations.mark_reminded(proposal["_id"])

        self.stores.conversations.walk_due_reminders(now, remind)

    def send_due_emails(self):
        for email_id in self.stores.emails.due(self.clock()):
            self.out.send_email(email_id, self.clock())

    def deliver_due_webhooks(self):
        for delivery_id in self.stores.deliveries.due(self.clock()):
            self.out.deliver(delivery_id, self.clock())

    def send_due_texts(self):
        for text_id in self.stores.texts.due(self.clock()):
            self.out.send_text(text_id, self.clock())

    def relay_pending_events(self):
        self.stores.conversations.flush_pending(self.dispatch)

    # ---- inbox

    def notifications(self, viewer, limit, before):
        paging = load_or_fail(NotificationPaging(), {"limit": limit, "before": before})
        items, unread, more = self.stores.inbox.page(viewer["account_id"], paging["limit"], paging["before"])
        page = {"unread": unread, "items": [inbox.view(n, self.cipher) for n in items]}
        if more:
            page["next"] = items[-1]["_id"]  # pass as ?before= for the next page
        return page

    def mark_read(self, viewer, notification_id):
        if not self.stores.inbox.mark_read(viewer["account_id"], str(notification_id), self.clock()):
            raise NotFound("No such notification.")
        return {"id": notification_id, "read": True}

    def mark_all_read(self, viewer):
        return {"marked": self.stores.inbox.mark_all_read(viewer["account_id"], self.clock()), "unread": 0}

    def preferences(self, viewer):
        return {"email": self.stores.people.email_mode(viewer["account_id"])}

    def set_preferences(self, viewer, body):
        preferences = load_or_fail(NotificationPreferences(), body)
        self.stores.people.set_email_mode(viewer["account_id"], preferences["email"], self.clock())
        return preferences

    # ---- messages

    def _channel(self, viewer, match_id, sending=False):
        match_id = str(match_id)
        conversations = self.stores.conversations
        return messages.channel_for(conversations.channel(match_id), conversations.proposal(match_id),
                                    viewer["account_id"], sending)

    def messages(self, viewer, match_id, limit, after):
        paging = load_or_fail(MessagePaging(), {"limit": limit, "after": after})
        channel = self._channel(viewer, match_id)
        items, more = self.stores.conversations.page(channel["_id"], paging["limit"], paging["after"])
        page = {"items": [messages.view(m, self.cipher, viewer["account_id"]) for m in items]}
        if more:
            page["next"] = items[-1]["_id"]  # pass as ?after= for the next page
        return page

    def latest_messages(self, viewer, match_id, limit=3):
        """The last few lines, oldest first, as `READ` texts them back (whoever may read the
        conversation: the same rule as `messages`)."""
        channel = self._channel(viewer, match_id)
        limit = max(1, min(int(limit), 10))
        return {"items": [messages.view(m, self.cipher, viewer["account_id"])
                          for m in self.stores.conversations.latest(channel["_id"], limit)]}

    def send_message(self, viewer, match_id, body):
        """`body`: already opened (it crossed the bus sealed to notify)."""
        channel = self._channel(viewer, match_id, sending=True)
        text = load_or_fail(NewMessage(), body)["text"]
        now, message_id = self.clock(), uuid.uuid4().hex
        message = {"_id": message_id, "match_id": channel["_id"], "sender_id": viewer["account_id"],
                   "sent_at": now, "ciphertext": messages.seal(self.cipher, message_id, text), "deleted": False}
        event = make_event(SOURCE, "message_sent", {"match_id": channel["_id"], "message_id": message_id,
                                                    "sender_id": viewer["account_id"], "sent_at": now})
        self.stores.conversations.add_message(message, [event], self.dispatch)
        other = channel["author_id"] if viewer["account_id"] == channel["volunteer_id"] else channel["volunteer_id"]
        self.out.tell_of_line(other, channel["_id"], message_id, now)
        return messages.view(message, self.cipher, viewer["account_id"])

    # ---- text messages

    def send_reply_email(self, body):
        """`body`: already opened (the address crossed the bus sealed). An answer to what someone
        wrote to the email intake, as `send_text` is to a text."""
        email = load_or_fail(NewReplyEmail(), body)
        outcome = self.out.reply_email(email["key"], email["to"], email["reply_to"], email["subject"], email["body"],
                                       self.clock())
        return {"queued": True, "sent": outcome == retry.SENT}

    def send_text(self, body):
        """`body`: already opened (the number crossed the bus sealed). Queued once per cause, tried
        at once, retried from the timer; the answer says only whether it is on its way."""
        text = load_or_fail(NewText(), body)
        outcome = self.out.text(text["key"], text["to"], text["body"], self.clock())
        return {"queued": True, "sent": outcome == retry.SENT}

    # ---- webhooks (moderators)

    def create_webhook(self, viewer, body):
        """`body`: already opened (the secret crosses the bus sealed)."""
        viewer = moderator(viewer)
        data = load_or_fail(NewWebhook(), body)
        hook = {"_id": uuid.uuid4().hex, "url": data["url"], "event_types": data["event_types"],
                "secret_sealed": self.cipher.encrypt(data["secret"].encode()).decode(),
                "created_by": viewer["account_id"], "created_at": self.clock()}
        self.stores.webhooks.add(hook)
        return webhook_view(hook)

    def list_webhooks(self, viewer):
        moderator(viewer)
        return {"items": [webhook_view(h) for h in self.stores.webhooks.subscribed()]}

    def delete_webhook(self, viewer, webhook_id):
        """Its secret is forgotten at once, and what was still due to it is dropped."""
        moderator(viewer)
        if not self.stores.webhooks.delete(str(webhook_id), self.clock()):
            raise NotFound("No such webhook.")
        self.stores.deliveries.drop_for(str(webhook_id))
        return None
