"""In-memory twins of storage.py's stores, for the workflow's fast tests. Each passes the same
contract test as the real store on FerretDB (tests/test_store_contract.py): what the workflow
relies on a store to do, both do. An outbox is a list per message, published as the real one is."""
from datetime import timedelta

from services.common.store import paging
from services.common.store.memory import Outboxes, copied

from .storage import Stores

PREFERENCE = ("email", "email_default", "email_updated_at")


def _newer(documents, doc_id, version):
    """The document to change if `version` is newer than what is kept, or None (as the real
    stores' apply_if_newer)."""
    document = documents.get(doc_id)
    if document is not None and document["version"] >= version:
        return None
    if document is None:
        document = documents[doc_id] = {"_id": doc_id}
    document["version"] = version
    return document


def _add_new(documents, items):
    new = {item["_id"] for item in items if item["_id"] not in documents}
    for item in items:
        if item["_id"] in new:
            documents[item["_id"]] = copied(item)
    return new


class InMemoryPeople:
    def __init__(self):
        self.documents = {}

    def move_old_preferences(self):
        pass  # nothing kept the old way in memory

    def _set_preference(self, profile_id, fields, keep_chosen=False):
        document = self.documents.setdefault(profile_id, {"_id": profile_id, "version": 0})
        if not (keep_chosen and "email" in document):
            document.update(fields)

    def remember_contact(self, profile_id, contact_sealed, version, announced=False, sms_sealed=None,
                         mail_sealed=None):
        document = _newer(self.documents, profile_id, version)
        if document is None:
            return None
        for field, value in (("contact_sealed", contact_sealed), ("sms_sealed", sms_sealed),
                             ("mail_sealed", mail_sealed)):
            if value:
                document[field] = value
            else:
                document.pop(field, None)
        document["announced"] = bool(announced)
        return "applied"

    def announced(self, profile_id):
        return bool(self.documents.get(profile_id, {}).get("announced"))

    def sealed_contact(self, profile_id):
        return self.documents.get(profile_id, {}).get("contact_sealed")

    def default_email_off(self, profile_id, now):
        self._set_preference(profile_id, {"email": "off", "email_default": True, "email_updated_at": now},
                             keep_chosen=True)

    def email_mode(self, profile_id):
        return self.documents.get(profile_id, {}).get("email", "instant")

    def set_email_mode(self, profile_id, mode, now):
        self._set_preference(profile_id, {"email": mode, "email_default": False, "email_updated_at": now})

    def many(self, profile_ids):
        def kept(document):
            return {k: v for k, v in document.items() if k in ("_id", "contact_sealed", "sms_sealed", "mail_sealed", "email", "deleted")}
        return {p: kept(self.documents[p]) if p in self.documents else {} for p in sorted(set(profile_ids))}

    def forget(self, profile_id, version):
        document = _newer(self.documents, profile_id, version)
        if document is not None:
            for key in ("contact_sealed", "sms_sealed", "mail_sealed") + PREFERENCE:
                document.pop(key, None)
            document["deleted"] = True


class InMemoryInbox:
    def __init__(self):
        self.notifications = {}

    def add(self, notification):
        return bool(_add_new(self.notifications, [notification]))

    def add_many(self, notifications):
        return _add_new(self.notifications, notifications)

    def _of(self, recipient_id):
        return [n for n in self.notifications.values() if n["recipient_id"] == recipient_id]

    def page(self, recipient_id, limit, before=None):
        unread = sum(1 for n in self._of(recipient_id) if not n["read"])
        anchor = self.notifications.get(before) if before else None
        if before and (anchor is None or anchor["recipient_id"] != recipient_id):
            return [], unread, False
        items, more = paging.page_of(self._of(recipient_id), "created_at", anchor, limit)
        return [copied(n) for n in items], unread, more

    def mark_read(self, recipient_id, notification_id, now):
        notification = self.notifications.get(notification_id)
        if notification is None or notification["recipient_id"] != recipient_id:
            return False
        notification.update(read=True, read_at=now)
        return True

    def mark_all_read(self, recipient_id, now):
        unread = [n for n in self._of(recipient_id) if not n["read"]]
        for notification in unread:
            notification.update(read=True, read_at=now)
        return len(unread)

    def forget(self, recipient_id):
        for notification in self._of(recipient_id):
            del self.notifications[notification["_id"]]


class InMemoryQueue:
    def __init__(self):
        self.items = {}

    def add(self, item):
        return bool(_add_new(self.items, [item]))

    def add_new(self, items):
        return _add_new(self.items, items)

    def due(self, now, limit=50):
        found = [i for i in self.items.values() if i["status"] == "pending" and i["next_attempt_at"] <= now]
        return [i["_id"] for i in sorted(found, key=lambda i: i["next_attempt_at"])[:limit]]

    def claim(self, item_id, now, lease_s):
        item = self.items.get(item_id)
        if item is None or item["status"] != "pending" or item["next_attempt_at"] > now:
            return None
        item["next_attempt_at"] = now + timedelta(seconds=lease_s)
        return copied(item)

    def settle(self, item_id, fields, forget=()):
        if item_id in self.items:
            self.items[item_id].update(copied(fields))
            for name in forget:
                self.items[item_id].pop(name, None)

    def find(self, item_id):
        return copied(self.items.get(item_id))


class InMemoryEmailQueue(InMemoryQueue):
    def add_to_digest(self, email_id, recipient_id, notification_id, slot, now):
        digest = self.items.get(email_id)
        if digest is None:
            digest = self.items[email_id] = {"_id": email_id, "status": "pending", "notification_ids": [],
                                             "recipient_id": recipient_id, "kind": "digest", "attempts": 0,
                                             "next_attempt_at": slot, "created_at": now}
        elif digest["status"] != "pending":
            return False
        if notification_id not in digest["notification_ids"]:
            digest["notification_ids"].append(notification_id)
        return True

    def mark_sent(self, request_id, email_ids, now):
        for email in self.items.values():
            if email.get("request_id") == request_id and email["_id"] in email_ids:
                email.update(status="sent", sent_at=now, attempts=email.get("attempts", 0) + 1)

    def forget(self, recipient_id):
        for email_id in [e["_id"] for e in self.items.values() if e.get("recipient_id") == recipient_id]:
            del self.items[email_id]


class InMemoryDeliveryQueue(InMemoryQueue):
    def drop_for(self, webhook_id):
        for delivery in self.items.values():
            if delivery["webhook_id"] == webhook_id and delivery["status"] == "pending":
                delivery["status"] = "dropped"

    def forget(self, profile_id):
        for delivery_id in [d["_id"] for d in self.items.values() if profile_id in d.get("about", [])]:
            del self.items[delivery_id]


class InMemoryConversations:
    def __init__(self):
        self.proposals, self.channels, self.messages, self.outbox = {}, {}, {}, Outboxes()

    def remember_proposals(self, records):
        _add_new(self.proposals, records)

    def close_proposal(self, data):
        proposal = self.proposals.setdefault(data["match_id"], {
            "_id": data["match_id"], "volunteer_id": data["volunteer_id"], "author_id": data["author_id"],
            "request_id": data["request_id"], "proposed_at": data["proposed_at"]})
        proposal["status"] = "closed"

    def walk_due_reminders(self, now, handle):
        due = [copied(p) for p in self.proposals.values() if p["status"] == "open" and p["remind_at"] <= now]
        if due:
            handle(due)
        return len(due)

    def mark_reminded(self, match_id):
        proposal = self.proposals.get(match_id)
        if proposal is not None and proposal["status"] == "open":
            proposal["status"] = "reminded"

    def proposal(self, match_id):
        return copied(self.proposals.get(match_id))

    def open_channel(self, data, now):
        return bool(_add_new(self.channels, [{"_id": data["match_id"], "volunteer_id": data["volunteer_id"],
                                              "author_id": data["author_id"], "request_id": data["request_id"],
                                              "opened_at": now}]))

    def end_channel(self, match_id, now):
        channel = self.channels.get(match_id)
        if channel is not None and channel.get("ended_at") is None:
            channel["ended_at"] = now

    def channel(self, match_id):
        return copied(self.channels.get(match_id))

    def add_message(self, message, events, dispatch):
        self.messages[message["_id"]] = copied(message)
        self.outbox.stage(message["_id"], list(events))
        self.outbox.flush(message["_id"], dispatch)

    def page(self, match_id, limit, after=None):
        anchor = self.messages.get(after) if after else None
        if after and (anchor is None or anchor["match_id"] != match_id):
            return [], False
        found = [m for m in self.messages.values() if m["match_id"] == match_id]
        items, more = paging.page_of(found, "sent_at", anchor, limit, newest_first=False)
        return [copied(m) for m in items], more

    def latest(self, match_id, limit):
        found = [m for m in self.messages.values() if m["match_id"] == match_id]
        items, _ = paging.page_of(found, "sent_at", None, limit, newest_first=True)
        return [copied(m) for m in items[::-1]]

    def flush_pending(self, dispatch):
        self.outbox.flush_all(dispatch)

    def forget(self, profile_id, now):
        for match_id in [p["_id"] for p in self.proposals.values()
                         if profile_id in (p["volunteer_id"], p["author_id"])]:
            del self.proposals[match_id]
        for message in self.messages.values():
            if message["sender_id"] == profile_id:
                if not message.get("deleted"):
                    message.update(deleted=True, deleted_at=now)
                    message.pop("ciphertext", None)
                message["sender_id"] = None
        for channel in self.channels.values():
            for side in ("volunteer_id", "author_id"):
                if channel[side] == profile_id:
                    channel[side] = None


class InMemoryRequestStates:
    def __init__(self):
        self.states = {}

    def remember(self, data):
        state = {"hidden": data["hidden"], "visibility": data["visibility"], "status": data["status"]}
        before = self.states.get(data["request_id"])
        if before is not None and before["version"] >= data["version"]:
            return None, copied(before)
        self.states[data["request_id"]] = dict(state, _id=data["request_id"], version=data["version"])
        return (copied(before) or {}), state

    def state(self, request_id):
        return copied(self.states.get(request_id))


class InMemoryWebhooks:
    def __init__(self):
        self.hooks = {}

    def add(self, webhook):
        if webhook["_id"] in self.hooks:
            raise KeyError(webhook["_id"])
        self.hooks[webhook["_id"]] = copied(webhook)

    def subscribed(self, event_type=None):
        live = [h for h in self.hooks.values() if not h.get("deleted")
                and (event_type is None or event_type in h["event_types"])]
        return [copied(h) for h in sorted(live, key=lambda h: (h["created_at"], h["_id"]))]

    def find(self, webhook_id):
        hook = self.hooks.get(webhook_id)
        return None if hook is None or hook.get("deleted") else copied(hook)

    def delete(self, webhook_id, now):
        hook = self.hooks.get(webhook_id)
        if hook is None or hook.get("deleted"):
            return False
        hook.update(deleted=True, deleted_at=now)
        hook.pop("secret_sealed", None)
        return True


class InMemorySupporters:
    def __init__(self):
        self.supporters, self.news, self.modes = {}, {}, {}

    def given(self, data):
        supporter = _newer(self.supporters, data["signature_id"], data["at"])
        if supporter is None:
            return False
        supporter.update(campaign_id=data["campaign_id"], contact_sealed=data["contact_sealed"],
                         token_sealed=data["token_sealed"], updates="asked", last_news=None)
        return True

    def confirmed(self, data):
        latest = self.news.get(data["campaign_id"], {})
        supporter = _newer(self.supporters, data["signature_id"], data["at"])
        if supporter is not None:
            supporter.update(updates="confirmed", campaign_id=data["campaign_id"], last_news=latest.get("news_id"))

    def stopped(self, data):
        supporter = _newer(self.supporters, data["signature_id"], data["at"])
        if supporter is not None:
            supporter.update(updates=data["updates"], campaign_id=data["campaign_id"], contact_sealed=None,
                             token_sealed=None)

    def find(self, signature_id):
        return copied(self.supporters.get(signature_id))

    def has_news(self, data):
        campaign = _newer(self.news, data["campaign_id"], data["at"])
        if campaign is not None:
            campaign.update(news_id=data["news_id"], pending=True)

    def set_mode(self, campaign_id, mode, version):
        campaign = _newer(self.modes, campaign_id, version)
        if campaign is not None:
            campaign["mode"] = mode

    def paused(self, campaign_id):
        return self.modes.get(campaign_id, {}).get("mode") == "paused"

    def news_going_out(self, limit):
        return [{"_id": c["_id"], "news_id": c["news_id"]} for c in self.news.values() if c.get("pending")][:limit]

    def stop_news(self, campaign_id, news_id=None):
        campaign = self.news.get(campaign_id)
        if campaign is not None and (news_id is None or campaign.get("news_id") == news_id):
            campaign["pending"] = False

    def without_news(self, campaign_id, news_id, limit):
        return [s["_id"] for s in self.supporters.values() if s.get("campaign_id") == campaign_id
                and s.get("updates") == "confirmed" and s.get("last_news") != news_id][:limit]

    def mark_told(self, campaign_id, signature_ids, news_id):
        for signature_id in signature_ids:
            supporter = self.supporters.get(signature_id)
            if supporter is not None and supporter.get("campaign_id") == campaign_id:
                supporter["last_news"] = news_id


def stores():
    return Stores(InMemoryPeople(), InMemoryInbox(), InMemoryEmailQueue(), InMemoryDeliveryQueue(), InMemoryQueue(),
                  InMemoryConversations(), InMemoryRequestStates(), InMemoryWebhooks(), InMemorySupporters())
