"""The notify database: inbox, sealed contacts, preferences, pending emails, proposals awaiting an
answer, conversations and their encrypted messages, webhooks and their deliveries."""
from datetime import timedelta

import pymongo
from pymongo import ReturnDocument
from pymongo.errors import BulkWriteError, DuplicateKeyError

from services.common.store import outbox
from services.common.store.due import slot_for, walk_due
from services.common.store.mongo import create_collections
from services.common.bus.readmodel import apply_if_newer

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
SUPPORTERS = "supporters"      # campaign supporters' sealed address and link token (supporters.py)
CAMPAIGN_NEWS = "campaign_news"    # campaign id -> its latest news, and whether it is still going out
CAMPAIGN_MODES = "campaign_modes"  # campaign id -> its mode (a paused one sends nothing)


def prepare(db):
    create_collections(db, NOTIFICATIONS, PEOPLE, EMAILS, PROPOSALS, CHANNELS, MESSAGES, HIDDEN,
                       WEBHOOKS, DELIVERIES, SUPPORTERS, CAMPAIGN_NEWS, CAMPAIGN_MODES)
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
    db[CHANNELS].create_index("volunteer_id")
    db[CHANNELS].create_index("author_id")
    _move_old_preferences(db)
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


def upsert_newer(collection, doc_id, update, version):
    """Apply `update` ($set/$unset...) only if `version` is newer than the stored one."""
    return apply_if_newer(collection, doc_id, update, version)


# ---- inbox

def insert_notification(db, notification):
    return insert_once(db[NOTIFICATIONS], notification)


def notifications_for(db, recipient_id, limit, before=None):
    """A page of someone's notifications, newest first, and their unread count.

    `before` is the id of the last notification of the previous page. Returns (items, unread,
    more): `more` is True when another page follows."""
    query = {"recipient_id": recipient_id}
    if before:
        anchor = db[NOTIFICATIONS].find_one({"_id": before, "recipient_id": recipient_id})
        if anchor is None:
            return [], _unread(db, recipient_id), False
        query["$or"] = [{"created_at": {"$lt": anchor["created_at"]}},
                        {"created_at": anchor["created_at"], "_id": {"$lt": before}}]
    cursor = db[NOTIFICATIONS].find(query).sort([("created_at", -1), ("_id", -1)]).limit(limit + 1)
    items = list(cursor)
    return items[:limit], _unread(db, recipient_id), len(items) > limit


def _unread(db, recipient_id):
    return db[NOTIFICATIONS].count_documents({"recipient_id": recipient_id, "read": False})


def mark_read(db, recipient_id, notification_id, now):
    result = db[NOTIFICATIONS].update_one({"_id": notification_id, "recipient_id": recipient_id},
                                          {"$set": {"read": True, "read_at": now}})
    return result.matched_count == 1


def mark_all_read(db, recipient_id, now):
    return db[NOTIFICATIONS].update_many({"recipient_id": recipient_id, "read": False},
                                         {"$set": {"read": True, "read_at": now}}).modified_count


# ---- people: sealed contact, email preference, deletion tombstone

def _move_old_preferences(db):
    """Preferences kept in their own collection before (a deployment of the earlier version) move
    onto the person's document, each once: moved, then deleted, so a restart finds nothing to do."""
    for old in db[OLD_PREFERENCES].find().limit(10000):
        _set_preference(db, old["_id"], {"email": old["email"], "email_default": bool(old.get("default")),
                                         "email_updated_at": old.get("updated_at")}, keep_chosen=old.get("default"))
        db[OLD_PREFERENCES].delete_one({"_id": old["_id"]})


def _set_preference(db, profile_id, fields, keep_chosen=False):
    """Set the email preference on the person's document (created if notify has not heard of them
    yet, with version 0, so their profile's events, versioned from 1, still apply). With
    `keep_chosen`, only where no preference is set: a default never overwrites a choice."""
    condition = {"_id": profile_id, "email": {"$exists": False}} if keep_chosen else {"_id": profile_id}
    try:
        db[PEOPLE].update_one(condition, {"$set": fields, "$setOnInsert": {"version": 0}}, upsert=True)
    except DuplicateKeyError:
        pass  # keep_chosen: they have one (the person's document exists, with a preference)


def remember_contact(db, profile_id, contact_sealed, version, announced=False):
    """The person's sealed contact, and whether webhooks hear of them (a volunteer's public
    profile is announced; an activist's existence never is, nor their deletion)."""
    update = {"$set": {"contact_sealed": contact_sealed}} if contact_sealed else {"$unset": {"contact_sealed": ""}}
    update.setdefault("$set", {})["announced"] = bool(announced)
    return upsert_newer(db[PEOPLE], profile_id, update, version)


def announced(db, profile_id):
    """Whether webhooks heard of this person (a volunteer): only then do they hear of their deletion."""
    return bool((db[PEOPLE].find_one({"_id": profile_id}, {"announced": 1}) or {}).get("announced"))


def sealed_contact(db, profile_id):
    document = db[PEOPLE].find_one({"_id": profile_id}, {"contact_sealed": 1})
    return (document or {}).get("contact_sealed")


def default_email_off(db, profile_id, now):
    """An activist is not emailed unless they ask for it: an email from the platform in a watched
    mailbox can endanger them. Set once, when they register; their own choice is never overwritten."""
    _set_preference(db, profile_id, {"email": "off", "email_default": True, "email_updated_at": now}, keep_chosen=True)


def email_mode(db, profile_id, person=None):
    """Their preference (`person`: their document, if the caller just read it)."""
    if person is None:
        person = db[PEOPLE].find_one({"_id": profile_id}, {"email": 1}) or {}
    return person.get("email", "instant")


def set_email_mode(db, profile_id, mode, now):
    _set_preference(db, profile_id, {"email": mode, "email_default": False, "email_updated_at": now})


# ---- pending emails (and webhook deliveries: the same claim / retry mechanics)

def add_instant_email(db, email):
    return insert_once(db[EMAILS], email)


def add_to_digest(db, email_id, recipient_id, notification_id, slot, now):
    """Put a notification into the person's digest for `slot`; idempotent ($addToSet)."""
    try:
        db[EMAILS].update_one(
            {"_id": email_id, "status": "pending"},
            {"$addToSet": {"notification_ids": notification_id},
             "$setOnInsert": {"recipient_id": recipient_id, "kind": "digest", "attempts": 0,
                              "next_attempt_at": slot, "created_at": now}},
            upsert=True)
        return True
    except DuplicateKeyError:  # that digest went out already: a notification this late waits for
        return False           # the inbox (the person was told there was news a moment ago)


def due(collection, now, limit=50):
    return [doc["_id"] for doc in collection.find(
        {"status": "pending", "next_attempt_at": {"$lte": now}}, {"_id": 1}).sort("next_attempt_at", 1).limit(limit)]


def claim(collection, doc_id, now, lease_s):
    """Take a due item for `lease_s` seconds; only one worker (of any replica) gets it. The item,
    or None when it is not due or someone else has it."""
    return collection.find_one_and_update(
        {"_id": doc_id, "status": "pending", "next_attempt_at": {"$lte": now}},
        {"$set": {"next_attempt_at": now + timedelta(seconds=lease_s)}},
        return_document=ReturnDocument.AFTER)


def settle(collection, doc_id, fields):
    collection.update_one({"_id": doc_id}, {"$set": fields})


def mark_sent(collection, request_id, email_ids, now):
    """Several emails of one request sent: one write (the request's emails are an indexed equality;
    the ids are then picked among that handful)."""
    collection.update_many({"request_id": request_id, "_id": {"$in": email_ids}},
                           {"$set": {"status": "sent", "sent_at": now}, "$inc": {"attempts": 1}})


# ---- proposals (for reminders) and conversations

def proposal_record(data, remind_at, now):
    """What notify keeps of an open proposal, for its reminder (`remember_proposals`)."""
    return {"_id": data["match_id"], "volunteer_id": data["volunteer_id"], "author_id": data["author_id"],
            "request_id": data["request_id"], "proposed_at": data["proposed_at"], "remind_at": remind_at,
            "remind_slot": slot_for(remind_at, now), "status": "open"}


def remember_proposals(db, records):
    """Open proposals, in one command; one already there (an answer that overtook it and closed
    it, or a redelivery) is left as it is."""
    insert_new(db[PROPOSALS], records)


def people(db, profile_ids):
    """Each person's document (their sealed contact and preference, or the tombstone of their
    deletion), in one command: {id: document, {} for one notify never heard of}. (`$in` on `_id`
    is index-served on MongoDB, and on FerretDB by the project's patch,
    scripts/ferretdb-in-pushdown.patch: one command reading k rows.)"""
    ids = sorted(set(profile_ids))
    if not ids:
        return {}
    found = {d["_id"]: d for d in db[PEOPLE].find({"_id": {"$in": ids}}, {"contact_sealed": 1, "email": 1, "deleted": 1})}
    return {profile_id: found.get(profile_id, {}) for profile_id in ids}


def close_proposal(db, data):
    """An answer (or expiry) came: no reminder. Works even if it overtook the proposal event."""
    db[PROPOSALS].update_one(
        {"_id": data["match_id"]},
        {"$set": {"status": "closed"},
         "$setOnInsert": {"volunteer_id": data["volunteer_id"], "author_id": data["author_id"],
                          "request_id": data["request_id"], "proposed_at": data["proposed_at"]}},
        upsert=True)


def walk_due_reminders(db, now, handle):
    """Hand open proposals whose reminder is due to `handle`, a bounded page at a time, from the
    checkpoint of the last minute done (services/common/store/due.py): nothing not yet due is read."""
    def overdue(limit):  # once per database, before any checkpoint: reminders due before it existed
        return list(db[PROPOSALS].find({"status": "open", "remind_at": {"$lte": now}}).limit(limit))

    return walk_due(db[PROPOSALS], "notify.remind", {"status": "open"}, "remind_slot", "remind_at", now, handle,
                    page=100, first_sweep=overdue)


def mark_reminded(db, match_id):
    db[PROPOSALS].update_one({"_id": match_id, "status": "open"}, {"$set": {"status": "reminded"}})


def proposal(db, match_id):
    return db[PROPOSALS].find_one({"_id": match_id})


def open_channel(db, data, now):
    return insert_once(db[CHANNELS], {"_id": data["match_id"], "volunteer_id": data["volunteer_id"],
                                      "author_id": data["author_id"], "request_id": data["request_id"],
                                      "opened_at": now})


def end_channel(db, match_id, now):
    """The author ended the helper's access (or the helper lost the standing for it): nobody sends
    any more, and the helper no longer reads the conversation."""
    db[CHANNELS].update_one({"_id": match_id, "ended_at": None}, {"$set": {"ended_at": now}})


def channel(db, match_id):
    return db[CHANNELS].find_one({"_id": match_id})


def insert_message(db, message, events):
    return outbox.insert_with_events(db[MESSAGES], message, events)


def messages_in(db, match_id, limit, after=None):
    query = {"match_id": match_id}
    if after:
        anchor = db[MESSAGES].find_one({"_id": after, "match_id": match_id})
        if anchor is None:
            return [], False
        query["$or"] = [{"sent_at": {"$gt": anchor["sent_at"]}},
                        {"sent_at": anchor["sent_at"], "_id": {"$gt": after}}]
    items = list(db[MESSAGES].find(query, outbox.HIDE).sort([("sent_at", 1), ("_id", 1)]).limit(limit + 1))
    return items[:limit], len(items) > limit


def remember_request(db, data):
    """Record a request's `hidden` flag and visibility from its event. Returns (before, now):
    what was known before this event (None if nothing, or if this event is not newer) and what is
    known now, each {hidden, visibility}."""
    request_id, version = data["request_id"], data["version"]
    state = {"hidden": data["hidden"], "visibility": data["visibility"], "status": data["status"]}
    # One command: applied only if newer, and what was there comes back with it.
    try:
        before = db[HIDDEN].find_one_and_update({"_id": request_id, "version": {"$lt": version}},
                                                {"$set": dict(state, version=version)}, upsert=True,
                                                return_document=ReturnDocument.BEFORE)
    except DuplicateKeyError:  # as new or newer is there (or being written this very moment)
        return None, request_state(db, request_id) or state
    return (before or {}), state


def request_state(db, request_id):
    return db[HIDDEN].find_one({"_id": request_id})


def is_public(state):
    """Whether outsiders (webhooks) may hear of a request and its matches: public, not hidden.
    (A state recorded before visibility was: public only if said so.)"""
    return bool(state) and state.get("visibility") == "public" and not state.get("hidden")


# ---- webhooks

def insert_webhook(db, webhook):
    db[WEBHOOKS].insert_one(webhook)


def webhooks(db, event_type=None):
    query = {"deleted": {"$ne": True}}
    if event_type:
        query["event_types"] = event_type
    return list(db[WEBHOOKS].find(query).sort("created_at", 1))


def webhook(db, webhook_id):
    return db[WEBHOOKS].find_one({"_id": webhook_id, "deleted": {"$ne": True}})


def delete_webhook(db, webhook_id, now):
    """Forget the secret at once; pending deliveries to it are dropped."""
    result = db[WEBHOOKS].update_one({"_id": webhook_id, "deleted": {"$ne": True}},
                                     {"$set": {"deleted": True, "deleted_at": now}, "$unset": {"secret_sealed": ""}})
    db[DELIVERIES].update_many({"webhook_id": webhook_id, "status": "pending"}, {"$set": {"status": "dropped"}})
    return result.modified_count == 1


# ---- a person deleted their account

def forget_person(db, profile_id, version, now):
    """Everything notify holds about a person goes; their messages lose their text (a tombstone
    without text keeps the other person's conversation in order)."""
    upsert_newer(db[PEOPLE], profile_id, {"$set": {"deleted": True},
                                          "$unset": {"contact_sealed": "", "email": "", "email_default": "",
                                                     "email_updated_at": ""}}, version)
    db[NOTIFICATIONS].delete_many({"recipient_id": profile_id})
    db[EMAILS].delete_many({"recipient_id": profile_id})
    # Two equality deletes, which indexes serve, rather than one `$or`, which scans.
    db[PROPOSALS].delete_many({"volunteer_id": profile_id})
    db[PROPOSALS].delete_many({"author_id": profile_id})
    db[MESSAGES].update_many({"sender_id": profile_id, "deleted": {"$ne": True}},
                             {"$set": {"deleted": True, "deleted_at": now}, "$unset": {"ciphertext": ""}})
    # Who they talked with goes too: their side of each conversation becomes nobody, and their
    # tombstoned messages name no sender. The other person keeps their own conversation.
    db[MESSAGES].update_many({"sender_id": profile_id}, {"$set": {"sender_id": None}})
    db[CHANNELS].update_many({"volunteer_id": profile_id}, {"$set": {"volunteer_id": None}})
    db[CHANNELS].update_many({"author_id": profile_id}, {"$set": {"author_id": None}})
    # Webhook deliveries about them (their public profile, their requests, matches they were in).
    db[DELIVERIES].delete_many({"about": profile_id})
