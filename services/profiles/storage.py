"""The profiles database: accounts (with their outbox), sessions, login attempts (and flags,
see services/common/flags.py)."""
from datetime import timedelta

from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from services.common import flags
from services.common.store import outbox
from services.common.errors import Conflict
from services.common.bus.events import utcnow
from services.common.store import due
from services.common.store.due import walk_due
from services.common.store.mongo import create_collections

from . import accounts

ACCOUNTS = "accounts"
SESSIONS = "sessions"
LOGIN_ATTEMPTS = "login_attempts"


def prepare(db):
    create_collections(db, ACCOUNTS, SESSIONS, LOGIN_ATTEMPTS)
    db[ACCOUNTS].create_index("handle_key", unique=True)
    db[ACCOUNTS].create_index("channel_keys")  # who writes from a number (accounts.channel_key)
    db[ACCOUNTS].create_index("link_code_key", sparse=True)  # LINK <code> (accounts.link_code_key)
    # Check-ins that fall due, by the minute they fall due in (services/common/store/due.py): only
    # live ones have one (a missed one's is removed), so the timer reads what is due, nothing else.
    db[ACCOUNTS].create_index("check_in_slot", sparse=True)
    db[SESSIONS].create_index("account_id")
    db[LOGIN_ATTEMPTS].create_index("handle")
    outbox.index(db[ACCOUNTS])
    flags.prepare(db)


# ---- accounts

class AccountStore:
    """Accounts with their outbox (profile events written with the change), and the tombstones
    that hold a deleted account's handle."""

    def __init__(self, db):
        self.accounts = db[ACCOUNTS]

    def insert(self, account, events):
        """Store a new account with its events: 409 if the handle is taken. What `publish` sends."""
        try:
            return outbox.insert_with_events(self.accounts, account, events)
        except DuplicateKeyError:
            raise Conflict("That handle is taken.", {"handle": "That handle is taken."}) from None

    def publish(self, inserted, dispatch):
        outbox.publish(inserted, dispatch)

    def flush(self, account_id, dispatch):
        outbox.flush(self.accounts, account_id, dispatch)

    def flush_pending(self, dispatch):
        outbox.flush_pending(self.accounts, dispatch)

    def check_handle_free(self, held_key, now):
        """409 while a deleted account holds the handle (its tombstone's `held_key`); once the hold
        has passed, the tombstone lets go of it (one conditional write) and the handle is free."""
        grave = self.accounts.find_one({"handle_key": held_key}, {"held_until": 1})
        if grave is None:
            return
        if grave["held_until"] > now:
            raise Conflict("That handle is taken.", {"handle": "That handle is taken."})
        self.accounts.update_one({"_id": grave["_id"], "handle_key": held_key},
                                 {"$set": {"handle_key": f"deleted:{grave['_id']}"}, "$unset": {"held_until": ""}})

    def find(self, account_id):
        account = outbox.strip(self.accounts.find_one({"_id": account_id}))
        return None if account is None or account["status"] == "deleted" else account

    def find_by_handle_key(self, key):
        return outbox.strip(self.accounts.find_one({"handle_key": key}))

    def find_by_channel_key(self, key):
        """The live account a channel's address is linked to, or None."""
        account = outbox.strip(self.accounts.find_one({"channel_keys": key}))
        return None if account is None or account["status"] == "deleted" else account

    def set_link_code(self, account_id, code_key, expires_at):
        """The account's one live link code (a new one replaces the last): not a public fact, so no
        event and no new version."""
        self.accounts.update_one({"_id": account_id, "status": "active"},
                                 {"$set": {"link_code_key": code_key, "link_code_expires_at": expires_at}})

    def find_by_link_code(self, code_key, now):
        """The live account whose unexpired link code this is, or None."""
        account = outbox.strip(self.accounts.find_one({"link_code_key": code_key}))
        if account is None or account["status"] != "active" or account["link_code_expires_at"] <= now:
            return None
        return account

    # ---- check-ins (accounts.check_in_view) and the duress password's empty account

    def set_check_in(self, account_id, check_in, duress_hash=None, decoy_id=None):
        """Set (or, with None, stop) a check-in; a duress password and its empty account with it
        (None: none, or the one set before is forgotten)."""
        if check_in is None:
            update = {"$unset": {"check_in": "", "check_in_slot": "", "check_in_due_at": "", "duress_hash": ""}}
        else:
            update = {"$set": {"check_in": check_in, "check_in_slot": due.slot_for(check_in["due_at"], utcnow()),
                               "check_in_due_at": check_in["due_at"]}}
            if duress_hash:
                update["$set"].update(duress_hash=duress_hash, decoy_id=decoy_id)
            else:
                update["$unset"] = {"duress_hash": ""}
        self.accounts.update_one({"_id": account_id, "status": "active"}, update)

    def insert_decoy(self, decoy):
        """The empty account a duress password opens: written without events (nobody hears of it)."""
        self.accounts.insert_one(decoy)

    def delete_decoy(self, decoy_id):
        self.accounts.delete_one({"_id": decoy_id, "decoy_of": {"$exists": True}})

    def walk_due_check_ins(self, now, handle):
        """Hand live check-ins whose time passed to `handle(accounts)`, minute by minute from the
        timer's checkpoint, in bounded pages (due.walk_due); `handle` marks each missed, which takes
        it out of its minute."""
        def strip_all(accounts_):
            handle([outbox.strip(a) for a in accounts_])

        # (`check_in_due_at` is `check_in.due_at` at the top level, where walk_due compares it.)
        return walk_due(self.accounts, "profiles.check_in", {}, "check_in_slot", "check_in_due_at", now, strip_all,
                        page=100)

    def check_in_missed(self, account_id, due_at, now, events):
        """Marked missed with its event, once: only while it is still due at `due_at` (another
        replica, or a check-in a moment ago, wins otherwise). Whether this call marked it."""
        return outbox.update_one_with_events(
            self.accounts, {"_id": account_id, "check_in.due_at": due_at},
            {"$set": {"check_in.missed_at": now}, "$unset": {"check_in.due_at": "", "check_in_slot": "", "check_in_due_at": ""}}, events)

    def checked_in(self, account_id, due_at, events_if_missed):
        """The next due time; a check-in that had been missed is resumed with its events (once).
        Returns whether it had been missed."""
        resumed = outbox.update_one_with_events(
            self.accounts, {"_id": account_id, "check_in.missed_at": {"$type": "date"}},
            {"$set": {"check_in.due_at": due_at, "check_in.missed_at": None,
                      "check_in_slot": due.slot_for(due_at, utcnow()), "check_in_due_at": due_at}}, events_if_missed)
        if not resumed:
            self.accounts.update_one({"_id": account_id, "check_in": {"$exists": True}},
                                     {"$set": {"check_in.due_at": due_at, "check_in_slot": due.slot_for(due_at, utcnow()),
                                               "check_in_due_at": due_at}})
        return resumed

    def update(self, account_id, change, make_events):
        """Versioned update of a live account with its events (see outbox.update_with_events)."""
        if self.find(account_id) is None:
            return None

        def stamped(current):
            return dict(change(current), updated_at=utcnow())

        try:
            return outbox.update_with_events(self.accounts, account_id, stamped, make_events)
        except outbox.ConcurrentUpdate:
            raise Conflict("The account changed while saving; try again.") from None

    def set_password_hash(self, account_id, password_hash):
        self.accounts.update_one({"_id": account_id}, {"$set": {"password_hash": password_hash, "updated_at": utcnow()}})

    def replace_with_tombstone(self, account, tombstone, events):
        """Forget an account in one write: the document becomes a tombstone carrying the events."""
        try:
            outbox.replace_with_events(self.accounts, account, tombstone, events)
        except outbox.ConcurrentUpdate:
            raise Conflict("The account changed while deleting; try again.") from None

    def export_page(self, after_id, limit):
        """A page of live accounts by id, for a rebuild. Not the duress password's empty accounts:
        they are nobody (and must not be seen to exist); the page is filled past them, since a
        short page tells the reader it reached the end."""
        found = []
        while True:
            query = {"status": {"$ne": "deleted"}}
            if after_id:
                query["_id"] = {"$gt": after_id}
            batch = [outbox.strip(a) for a in self.accounts.find(query).sort("_id", 1).limit(limit)]
            found += [a for a in batch if not a.get("decoy_of")]
            if len(batch) < limit or len(found) >= limit:
                return found[:limit]
            after_id = batch[-1]["_id"]


# ---- sessions

class SessionStore:
    """Sessions, by the hash of their token (a copy of the database gives no usable token)."""

    def __init__(self, db):
        self.sessions = db[SESSIONS]

    def insert(self, session):
        self.sessions.insert_one(session)

    def find(self, session_id):
        return self.sessions.find_one({"_id": session_id})

    def delete(self, session_id):
        self.sessions.delete_one({"_id": session_id})

    def delete_of(self, account_id):
        return self.sessions.delete_many({"account_id": account_id}).deleted_count

    def purge_expired(self, now):
        # FerretDB has no TTL indexes; the service sweeps on a timer.
        return self.sessions.delete_many({"expires_at": {"$lt": now}}).deleted_count


# ---- password work throttling, shared by every replica (what the gateway calls a source is an
# opaque key of the caller's address, or of its /64 for IPv6, the same in every gateway replica)
#
# Three records a failure counts in: the account from that source (the owner elsewhere is never
# slowed by it), the source across every account (a guesser's address waits whatever handle it
# tries), and the account across every source (only to tell which sign-ins are "clean": an
# account and a source without recent failures keep a share of the password work).

class AttemptStore:
    """Wrong passwords and sign-ups, counted per source, account and pair (the docstring above)."""

    def __init__(self, db):
        self.attempts = db[LOGIN_ATTEMPTS]

    def failures(self, handle_key, source, window_s):
        """{"pair"|"account"|"source": (failures, time of the last)} within the window, in one read."""
        ids = accounts.attempt_ids(handle_key, source)
        found = {doc["_id"]: doc for doc in self.attempts.find({"_id": {"$in": list(ids.values())}})}
        cutoff = utcnow() - timedelta(seconds=window_s)
        out = {"pair": (0, None), "account": (0, None), "source": (0, None)}
        for kind, attempt_id in ids.items():
            doc = found.get(attempt_id)
            if doc is not None and doc["since"] >= cutoff:
                out[kind] = (doc["failures"], doc.get("last", doc["since"]))
        return out

    def _count_up(self, attempt_id, window_s, handle_key=None):
        """One more in this record's window (a window that has passed starts over): the count now."""
        now = utcnow()
        doc = self.attempts.find_one_and_update(
            {"_id": attempt_id}, {"$inc": {"failures": 1}, "$set": {"last": now},
                                  "$setOnInsert": dict({"since": now}, **({"handle": handle_key} if handle_key else {}))},
            upsert=True, return_document=ReturnDocument.AFTER)
        if doc["since"] < now - timedelta(seconds=window_s):
            self.attempts.update_one({"_id": attempt_id}, {"$set": {"failures": 1, "since": now}})
            return 1
        return doc["failures"]

    def record_failure(self, handle_key, source, window_s):
        for kind, attempt_id in accounts.attempt_ids(handle_key, source).items():
            self._count_up(attempt_id, window_s, handle_key if kind != "source" else None)

    def count_sign_up(self, source, window_s):
        """Sign-ups from this source within the window, this one included (shared by every replica)."""
        return self._count_up(f"signup:{source}", window_s)

    def clear_failures(self, handle_key, source=None):
        """A successful sign-in clears the account's records (its source's record across accounts
        stays: a guesser who finds one password is no cleaner); deleting the account clears them all."""
        if source is None:
            self.attempts.delete_many({"handle": handle_key})
        else:
            ids = accounts.attempt_ids(handle_key, source)
            self.attempts.delete_many({"_id": {"$in": [ids["pair"], ids["account"]]}})

    def purge_stale(self, window_s):
        return self.attempts.delete_many({"since": {"$lt": utcnow() - timedelta(seconds=window_s)}}).deleted_count
