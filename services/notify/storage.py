"""The notify database, as one store per thing notify keeps (each owns its collections and their
queries; `stores(db)` hands them out together): the people it may tell, their inboxes, the emails
and webhook deliveries waiting to go out, conversations, the requests' public state, webhooks, and
campaign supporters. memory.py holds their in-memory twins; tests/test_store_contract.py holds
both to one contract."""
from collections import namedtuple
from datetime import timedelta

import pymongo
from pymongo import ReturnDocument
from pymongo.errors import BulkWriteError, DuplicateKeyError

from services.common.bus.readmodel import apply_if_newer
from services.common.store import backlog, outbox, paging
from services.common.store.due import slot_for, walk_due
from services.common.store.mongo import create_collections

NOTIFICATIONS = "notifications"
# One document per person (the collection keeps its first name): their sealed contact (only notify's
# private key opens it), their email preference, and the tombstone of their deletion, so that telling
# someone reads one document. `preferences` held the preference before; `prepare` moves what is left.
PEOPLE = "contacts"
OLD_PREFERENCES = "preferences"
EMAILS = "emails"              # pending / sent / failed / dropped emails (no addresses)
PROPOSALS = "proposals"        # open proposals, for expiry reminders and "no channel yet"
CHANNELS = "channels"          # accepted matches: who may talk
MESSAGES = "messages"
HIDDEN = "hidden_requests"     # last known `hidden` flag and visibility per request (to tell its author
                               # once it is hidden; to tell webhooks nothing of what is not public)
WEBHOOKS = "webhooks"
DELIVERIES = "deliveries"
TEXTS = "texts"                # pending / sent / failed text messages (texts.py)
SUPPORTERS = "supporters"      # campaign supporters' sealed address and link token (supporters.py)
CAMPAIGN_NEWS = "campaign_news"    # campaign id -> its latest news, and whether it is still going out
CAMPAIGN_MODES = "campaign_modes"  # campaign id -> its mode (a paused one sends nothing)


def prepare(db):
    create_collections(db, NOTIFICATIONS, PEOPLE, EMAILS, PROPOSALS, CHANNELS, MESSAGES, HIDDEN,
                       WEBHOOKS, DELIVERIES, TEXTS, SUPPORTERS, CAMPAIGN_NEWS, CAMPAIGN_MODES)
    db[NOTIFICATIONS].create_index([("recipient_id", pymongo.ASCENDING), ("created_at", pymongo.DESCENDING)])
    db[EMAILS].create_index([("status", pymongo.ASCENDING), ("next_attempt_at", pymongo.ASCENDING)])
    db[EMAILS].create_index("recipient_id")
    db[EMAILS].create_index("request_id")  # a batch of proposals' emails, recorded sent in one write
    db[PROPOSALS].create_index([("status", pymongo.ASCENDING), ("remind_at", pymongo.ASCENDING)])
    db[PROPOSALS].create_index("remind_slot")
    db[PROPOSALS].create_index("volunteer_id")
    db[PROPOSALS].create_index("author_id")
    db[MESSAGES].create_index([("match_id", pymongo.ASCENDING), ("sent_at", pymongo.ASCENDING)])
    db[MESSAGES].create_index("sender_id")
    outbox.index(db[MESSAGES])
    db[DELIVERIES].create_index([("status", pymongo.ASCENDING), ("next_attempt_at", pymongo.ASCENDING)])
    db[DELIVERIES].create_index("about")
    db[TEXTS].create_index([("status", pymongo.ASCENDING), ("next_attempt_at", pymongo.ASCENDING)])
    db[CHANNELS].create_index("volunteer_id")
    db[CHANNELS].create_index("author_id")
    People(db).move_old_preferences()
    db[SUPPORTERS].create_index("campaign_id")  # a campaign's news, a page of its supporters at a time
    db[CAMPAIGN_NEWS].create_index("pending")


def insert_once(collection, document):
    """Insert a document with a deterministic id; False if it was already there (a redelivery)."""
    try:
        collection.insert_one(document)
        return True
    except DuplicateKeyError:
        return False


def insert_new(collection, documents):
    """Insert documents with deterministic ids in one command; the ids that were new (the rest
    were there already: a redelivery, or an answer that overtook its proposal)."""
    if not documents:
        return set()
    try:
        collection.insert_many(documents, ordered=False)
        return {d["_id"] for d in documents}
    except BulkWriteError as error:
        if any(e.get("code") != 11000 for e in error.details.get("writeErrors", [])):
            raise
        there = {documents[e["index"]]["_id"] for e in error.details["writeErrors"]}
        return {d["_id"] for d in documents if d["_id"] not in there}


class People:
    """Who notify may tell: each person's sealed contact, email preference and, once they deleted
    their account, the tombstone that keeps a late event from bringing anything back."""

    def __init__(self, db):
        self.collection = db[PEOPLE]
        self.old_preferences = db[OLD_PREFERENCES]

    def move_old_preferences(self):
        """Preferences kept in their own collection before (a deployment of the earlier version)
        move onto the person's document, each once: moved, then deleted, so a restart finds nothing."""
        for old in self.old_preferences.find().limit(10000):
            self._set_preference(old["_id"], {"email": old["email"], "email_default": bool(old.get("default")),
                                              "email_updated_at": old.get("updated_at")}, keep_chosen=old.get("default"))
            self.old_preferences.delete_one({"_id": old["_id"]})

    def _set_preference(self, profile_id, fields, keep_chosen=False):
        """Set the email preference (the document is made if notify has not heard of them yet, with
        version 0, so their profile's events, versioned from 1, still apply). With `keep_chosen`,
        only where no preference is set: a default never overwrites a choice."""
        condition = {"_id": profile_id, "email": {"$exists": False}} if keep_chosen else {"_id": profile_id}
        try:
            self.collection.update_one(condition, {"$set": fields, "$setOnInsert": {"version": 0}}, upsert=True)
        except DuplicateKeyError:
            pass  # keep_chosen: they have one (the person's document exists, with a preference)

    def remember_contact(self, profile_id, contact_sealed, version, announced=False, sms_sealed=None,
                         mail_sealed=None):
        """The sealed contact, linked number and email channel (None: forget it), and whether webhooks hear of them
        (a volunteer's public profile is announced; an activist's existence never is, nor their
        deletion)."""
        update = {"$set": {"announced": bool(announced)}, "$unset": {}}
        for field, value in (("contact_sealed", contact_sealed), ("sms_sealed", sms_sealed),
                             ("mail_sealed", mail_sealed)):
            if value:
                update["$set"][field] = value
            else:
                update["$unset"][field] = ""
        return apply_if_newer(self.collection, profile_id, {k: v for k, v in update.items() if v}, version)

    def announced(self, profile_id):
        return bool((self.collection.find_one({"_id": profile_id}, {"announced": 1}) or {}).get("announced"))

    def sealed_contact(self, profile_id):
        return (self.collection.find_one({"_id": profile_id}, {"contact_sealed": 1}) or {}).get("contact_sealed")

    def default_email_off(self, profile_id, now):
        self._set_preference(profile_id, {"email": "off", "email_default": True, "email_updated_at": now},
                             keep_chosen=True)

    def email_mode(self, profile_id):
        return (self.collection.find_one({"_id": profile_id}, {"email": 1}) or {}).get("email", "instant")

    def set_email_mode(self, profile_id, mode, now):
        self._set_preference(profile_id, {"email": mode, "email_default": False, "email_updated_at": now})

    def many(self, profile_ids):
        """Each person's document in one command: {id: document, {} for one notify never heard of}.
        (`$in` on `_id` is index-served on MongoDB, and on FerretDB by the project's patch,
        scripts/ferretdb-in-pushdown.patch: one command reading k rows.)"""
        ids = sorted(set(profile_ids))
        if not ids:
            return {}
        found = {d["_id"]: d for d in self.collection.find({"_id": {"$in": ids}},
                                                            {"contact_sealed": 1, "sms_sealed": 1, "mail_sealed": 1,
                                                             "email": 1, "deleted": 1})}
        return {profile_id: found.get(profile_id, {}) for profile_id in ids}

    def forget(self, profile_id, version):
        """Only the tombstone stays."""
        apply_if_newer(self.collection, profile_id, {"$set": {"deleted": True}, "$unset": {
            "contact_sealed": "", "sms_sealed": "", "mail_sealed": "", "email": "", "email_default": "", "email_updated_at": ""}}, version)


class Inbox:
    """What each person was told: notifications, newest first, read or not."""

    def __init__(self, db):
        self.collection = db[NOTIFICATIONS]

    def add(self, notification):
        return insert_once(self.collection, notification)

    def add_many(self, notifications):
        return insert_new(self.collection, notifications)

    def page(self, recipient_id, limit, before=None):
        """(items, unread count, whether more follow): `before` is the last id of the previous page."""
        items, more = paging.page(self.collection, {"recipient_id": recipient_id}, "created_at", before, limit)
        return items, self.collection.count_documents({"recipient_id": recipient_id, "read": False}), more

    def mark_read(self, recipient_id, notification_id, now):
        result = self.collection.update_one({"_id": notification_id, "recipient_id": recipient_id},
                                            {"$set": {"read": True, "read_at": now}})
        return result.matched_count == 1

    def mark_all_read(self, recipient_id, now):
        return self.collection.update_many({"recipient_id": recipient_id, "read": False},
                                           {"$set": {"read": True, "read_at": now}}).modified_count

    def forget(self, recipient_id):
        self.collection.delete_many({"recipient_id": recipient_id})


class Queue:
    """Items waiting to go out (emails, webhook deliveries): `pending` with a `next_attempt_at`; a
    worker claims one (a lease), tries it, and settles it (retry.py says what a failure changes)."""

    def __init__(self, collection):
        self.collection = collection

    def add(self, item):
        """False if it was there already (its id is deterministic: a redelivery)."""
        return insert_once(self.collection, item)

    def add_new(self, items):
        """The ids of those that were new, in one command."""
        return insert_new(self.collection, items)

    def due(self, now, limit=50):
        taken = [doc["_id"] for doc in self.collection.find(
            {"status": "pending", "next_attempt_at": {"$lte": now}}, {"_id": 1}).sort("next_attempt_at", 1).limit(limit)]
        backlog.queue_taken(self.collection.name, len(taken), limit)
        return taken

    def claim(self, item_id, now, lease_s):
        """Take a due item for `lease_s` seconds; only one worker (of any replica) gets it. The item,
        or None when it is not due or someone else has it."""
        return self.collection.find_one_and_update(
            {"_id": item_id, "status": "pending", "next_attempt_at": {"$lte": now}},
            {"$set": {"next_attempt_at": now + timedelta(seconds=lease_s)}}, return_document=ReturnDocument.AFTER)

    def settle(self, item_id, fields, forget=()):
        """Record what happened; `forget`: fields to drop (what is no longer needed to send it)."""
        update = {"$set": fields}
        if forget:
            update["$unset"] = {name: "" for name in forget}
        self.collection.update_one({"_id": item_id}, update)

    def find(self, item_id):
        return self.collection.find_one({"_id": item_id})


class EmailQueue(Queue):
    """Emails to send (ids and kinds, never an address: that is opened only when sending)."""

    def __init__(self, db):
        super().__init__(db[EMAILS])

    def add_to_digest(self, email_id, recipient_id, notification_id, slot, now):
        """Put a notification into the person's digest for `slot`; idempotent ($addToSet). False if
        that digest went out already: a notification this late waits in the inbox (the person was
        told there was news a moment ago)."""
        try:
            self.collection.update_one(
                {"_id": email_id, "status": "pending"},
                {"$addToSet": {"notification_ids": notification_id},
                 "$setOnInsert": {"recipient_id": recipient_id, "kind": "digest", "attempts": 0,
                                  "next_attempt_at": slot, "created_at": now}},
                upsert=True)
            return True
        except DuplicateKeyError:
            return False

    def mark_sent(self, request_id, email_ids, now):
        """Several emails of one request sent: one write (the request's emails are an indexed
        equality; the ids are then picked among that handful)."""
        self.collection.update_many({"request_id": request_id, "_id": {"$in": email_ids}},
                                    {"$set": {"status": "sent", "sent_at": now}, "$inc": {"attempts": 1}})

    def forget(self, recipient_id):
        self.collection.delete_many({"recipient_id": recipient_id})


class DeliveryQueue(Queue):
    """Webhook deliveries: a public body fixed when the event came, for one webhook."""

    def __init__(self, db):
        super().__init__(db[DELIVERIES])

    def drop_for(self, webhook_id):
        self.collection.update_many({"webhook_id": webhook_id, "status": "pending"}, {"$set": {"status": "dropped"}})

    def forget(self, profile_id):
        """Deliveries about them (their public profile, their requests, matches they were in)."""
        self.collection.delete_many({"about": profile_id})


class TextQueue(Queue):
    """Text messages to send (texts.py): the number and the words encrypted while they wait."""

    def __init__(self, db):
        super().__init__(db[TEXTS])


class Conversations:
    """Open proposals (for their reminders), the channels of confirmed matches, and their messages
    (encrypted; each sent with its `message_sent` event in one write, the outbox)."""

    def __init__(self, db):
        self.proposals, self.channels, self.messages = db[PROPOSALS], db[CHANNELS], db[MESSAGES]

    def remember_proposals(self, records):
        """In one command; one already there (an answer that overtook it and closed it, or a
        redelivery) is left as it is."""
        insert_new(self.proposals, records)

    def close_proposal(self, data):
        """An answer (or expiry) came: no reminder. Works even if it overtook the proposal event."""
        self.proposals.update_one(
            {"_id": data["match_id"]},
            {"$set": {"status": "closed"},
             "$setOnInsert": {"volunteer_id": data["volunteer_id"], "author_id": data["author_id"],
                              "request_id": data["request_id"], "proposed_at": data["proposed_at"]}},
            upsert=True)

    def walk_due_reminders(self, now, handle):
        """Hand open proposals whose reminder is due to `handle`, a bounded page at a time, from the
        checkpoint of the last minute done (services/common/store/due.py): nothing not yet due is read."""
        def overdue(limit):  # once per database, before any checkpoint: reminders due before it existed
            return list(self.proposals.find({"status": "open", "remind_at": {"$lte": now}}).limit(limit))

        return walk_due(self.proposals, "notify.remind", {"status": "open"}, "remind_slot", "remind_at", now, handle,
                        page=100, first_sweep=overdue)

    def mark_reminded(self, match_id):
        self.proposals.update_one({"_id": match_id, "status": "open"}, {"$set": {"status": "reminded"}})

    def proposal(self, match_id):
        return self.proposals.find_one({"_id": match_id})

    def open_channel(self, data, now):
        return insert_once(self.channels, {"_id": data["match_id"], "volunteer_id": data["volunteer_id"],
                                           "author_id": data["author_id"], "request_id": data["request_id"],
                                           "opened_at": now})

    def end_channel(self, match_id, now):
        self.channels.update_one({"_id": match_id, "ended_at": None}, {"$set": {"ended_at": now}})

    def channel(self, match_id):
        return self.channels.find_one({"_id": match_id})

    def add_message(self, message, events, dispatch):
        """Stored with its events, which then go out (or, if this process dies first, from
        `flush_pending`)."""
        outbox.publish(outbox.insert_with_events(self.messages, message, events), dispatch)

    def page(self, match_id, limit, after=None):
        """(messages, whether more follow), oldest first, after the message `after`."""
        return paging.page(self.messages, {"match_id": match_id}, "sent_at", after, limit, newest_first=False,
                           projection=outbox.HIDE)

    def latest(self, match_id, limit):
        """The last `limit` messages, oldest first (what `READ` texts back): one bounded read from
        the newest end, however long the conversation."""
        items, _ = paging.page(self.messages, {"match_id": match_id}, "sent_at", None, limit, newest_first=True,
                               projection=outbox.HIDE)
        return items[::-1]

    def flush_pending(self, dispatch):
        outbox.flush_pending(self.messages, dispatch)

    def forget(self, profile_id, now):
        """Their proposals go; their messages lose their text and their sender (a tombstone without
        text keeps the other person's conversation in order); their side of each conversation
        becomes nobody. The other person keeps their own conversation."""
        # Two equality deletes, which indexes serve, rather than one `$or`, which scans.
        self.proposals.delete_many({"volunteer_id": profile_id})
        self.proposals.delete_many({"author_id": profile_id})
        self.messages.update_many({"sender_id": profile_id, "deleted": {"$ne": True}},
                                  {"$set": {"deleted": True, "deleted_at": now}, "$unset": {"ciphertext": ""}})
        self.messages.update_many({"sender_id": profile_id}, {"$set": {"sender_id": None}})
        self.channels.update_many({"volunteer_id": profile_id}, {"$set": {"volunteer_id": None}})
        self.channels.update_many({"author_id": profile_id}, {"$set": {"author_id": None}})


def proposal_record(data, remind_at, now):
    """What notify keeps of an open proposal, for its reminder (`remember_proposals`)."""
    return {"_id": data["match_id"], "volunteer_id": data["volunteer_id"], "author_id": data["author_id"],
            "request_id": data["request_id"], "proposed_at": data["proposed_at"], "remind_at": remind_at,
            "remind_slot": slot_for(remind_at, now), "status": "open"}


class RequestStates:
    """Each request's last known `hidden` flag, visibility and status, in version order."""

    def __init__(self, db):
        self.collection = db[HIDDEN]

    def remember(self, data):
        """Record a request's state from its event. (before, now): what was known before this event
        (None if this event is not newer; {} if nothing was) and what is known now."""
        request_id, version = data["request_id"], data["version"]
        state = {"hidden": data["hidden"], "visibility": data["visibility"], "status": data["status"]}
        try:  # one command: applied only if newer, and what was there comes back with it
            before = self.collection.find_one_and_update({"_id": request_id, "version": {"$lt": version}},
                                                         {"$set": dict(state, version=version)}, upsert=True,
                                                         return_document=ReturnDocument.BEFORE)
        except DuplicateKeyError:  # as new or newer is there (or being written this very moment)
            return None, self.state(request_id) or state
        return (before or {}), state

    def state(self, request_id):
        return self.collection.find_one({"_id": request_id})


class Webhooks:
    """Organizations' endpoints (their secret encrypted at rest) and the event types they want."""

    def __init__(self, db):
        self.collection = db[WEBHOOKS]

    def add(self, webhook):
        self.collection.insert_one(webhook)

    def subscribed(self, event_type=None):
        """The live webhooks (those wanting `event_type`, if given), oldest first."""
        query = {"deleted": {"$ne": True}}
        if event_type:
            query["event_types"] = event_type
        return list(self.collection.find(query).sort([("created_at", 1), ("_id", 1)]))

    def find(self, webhook_id):
        return self.collection.find_one({"_id": webhook_id, "deleted": {"$ne": True}})

    def delete(self, webhook_id, now):
        """The secret is forgotten at once; False if there was no such live webhook."""
        result = self.collection.update_one({"_id": webhook_id, "deleted": {"$ne": True}},
                                            {"$set": {"deleted": True, "deleted_at": now},
                                             "$unset": {"secret_sealed": ""}})
        return result.modified_count == 1


class Supporters:
    """Campaign supporters (no account: a document per signature, with the sealed address and the
    sealed token of their links), each campaign's latest news and its mode. A supporter's later
    choice wins over an older event (`at`, as a read model's version)."""

    def __init__(self, db):
        self.supporters, self.news, self.modes = db[SUPPORTERS], db[CAMPAIGN_NEWS], db[CAMPAIGN_MODES]

    def given(self, data):
        """A new (or renewed) signing's sealed address and token; False if an as new or newer
        choice is kept (a late copy)."""
        return bool(apply_if_newer(self.supporters, data["signature_id"], {"$set": {
            "campaign_id": data["campaign_id"], "contact_sealed": data["contact_sealed"],
            "token_sealed": data["token_sealed"], "updates": "asked", "last_news": None}}, data["at"]))

    def confirmed(self, data):
        """News from now on (not the news from before)."""
        latest = self.news.find_one({"_id": data["campaign_id"]}, {"news_id": 1}) or {}
        apply_if_newer(self.supporters, data["signature_id"], {"$set": {
            "updates": "confirmed", "campaign_id": data["campaign_id"], "last_news": latest.get("news_id")}}, data["at"])

    def stopped(self, data):
        """Stopped or withdrawn: the address and token are forgotten at once; the choice stays."""
        apply_if_newer(self.supporters, data["signature_id"], {"$set": {
            "updates": data["updates"], "campaign_id": data["campaign_id"], "contact_sealed": None,
            "token_sealed": None}}, data["at"])

    def find(self, signature_id):
        return self.supporters.find_one({"_id": signature_id})

    def has_news(self, data):
        apply_if_newer(self.news, data["campaign_id"], {"$set": {"news_id": data["news_id"], "pending": True}},
                       data["at"])

    def set_mode(self, campaign_id, mode, version):
        apply_if_newer(self.modes, campaign_id, {"$set": {"mode": mode}}, version)

    def paused(self, campaign_id):
        return (self.modes.find_one({"_id": campaign_id}, {"mode": 1}) or {}).get("mode") == "paused"

    def news_going_out(self, limit):
        """Campaigns whose latest news is still going out: [{_id, news_id}]."""
        return list(self.news.find({"pending": True}, {"news_id": 1}).limit(limit))

    def stop_news(self, campaign_id, news_id=None):
        """Nothing more of this news goes out (`news_id`: unless newer news came meanwhile)."""
        condition = {"_id": campaign_id} if news_id is None else {"_id": campaign_id, "news_id": news_id}
        self.news.update_one(condition, {"$set": {"pending": False}})

    def without_news(self, campaign_id, news_id, limit):
        """Ids of up to `limit` confirmed supporters not yet given this news (two equalities and a
        `$ne` on a scalar, all pushed down to the index)."""
        return [s["_id"] for s in self.supporters.find({"campaign_id": campaign_id, "updates": "confirmed",
                                                        "last_news": {"$ne": news_id}}, {"_id": 1}).limit(limit)]

    def mark_told(self, campaign_id, signature_ids, news_id):
        self.supporters.update_many({"campaign_id": campaign_id, "_id": {"$in": signature_ids}},
                                    {"$set": {"last_news": news_id}})


Stores = namedtuple("Stores", "people inbox emails deliveries texts conversations requests webhooks supporters")


def stores(db):
    return Stores(People(db), Inbox(db), EmailQueue(db), DeliveryQueue(db), TextQueue(db), Conversations(db),
                  RequestStates(db), Webhooks(db), Supporters(db))
