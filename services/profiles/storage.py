"""The profiles database: accounts (with their outbox), sessions, login attempts (and flags,
see services/common/flags.py)."""
from datetime import timedelta

from pymongo.errors import DuplicateKeyError

from services.common import flags
from services.common.store import outbox
from services.common.errors import Conflict
from services.common.bus.events import utcnow
from services.common.store.mongo import create_collections

ACCOUNTS = "accounts"
SESSIONS = "sessions"
LOGIN_ATTEMPTS = "login_attempts"


def prepare(db):
    create_collections(db, ACCOUNTS, SESSIONS, LOGIN_ATTEMPTS)
    db[ACCOUNTS].create_index("handle_key", unique=True)
    db[SESSIONS].create_index("account_id")
    db[LOGIN_ATTEMPTS].create_index("handle")
    outbox.index(db[ACCOUNTS])
    flags.prepare(db)


# ---- accounts

def insert_account(db, account, events):
    try:
        return outbox.insert_with_events(db[ACCOUNTS], account, events)
    except DuplicateKeyError:
        raise Conflict("That handle is taken.", {"handle": "That handle is taken."}) from None


def check_handle_free(db, held_key, now):
    """409 while a deleted account holds the handle (its tombstone's `held_key`); once the hold
    has passed, the tombstone lets go of it (one conditional write) and the handle is free."""
    grave = db[ACCOUNTS].find_one({"handle_key": held_key}, {"held_until": 1})
    if grave is None:
        return
    if grave["held_until"] > now:
        raise Conflict("That handle is taken.", {"handle": "That handle is taken."})
    db[ACCOUNTS].update_one({"_id": grave["_id"], "handle_key": held_key},
                            {"$set": {"handle_key": f"deleted:{grave['_id']}"}, "$unset": {"held_until": ""}})


def find_account(db, account_id):
    account = outbox.strip(db[ACCOUNTS].find_one({"_id": account_id}))
    return None if account is None or account["status"] == "deleted" else account


def find_account_by_handle_key(db, key):
    return outbox.strip(db[ACCOUNTS].find_one({"handle_key": key}))


def update_account(db, account_id, change, make_events):
    """Versioned update of a live account with its events (see outbox.update_with_events)."""
    if find_account(db, account_id) is None:
        return None

    def stamped(current):
        return dict(change(current), updated_at=utcnow())

    try:
        return outbox.update_with_events(db[ACCOUNTS], account_id, stamped, make_events)
    except outbox.ConcurrentUpdate:
        raise Conflict("The account changed while saving; try again.") from None


def replace_with_tombstone(db, account, tombstone, events):
    """Forget an account in one write: the document becomes a tombstone carrying the events."""
    try:
        outbox.replace_with_events(db[ACCOUNTS], account, tombstone, events)
    except outbox.ConcurrentUpdate:
        raise Conflict("The account changed while deleting; try again.") from None


def export_page(db, after_id, limit):
    query = {"status": {"$ne": "deleted"}}
    if after_id:
        query["_id"] = {"$gt": after_id}
    return [outbox.strip(a) for a in db[ACCOUNTS].find(query).sort("_id", 1).limit(limit)]


# ---- sessions

def insert_session(db, session):
    db[SESSIONS].insert_one(session)


def find_session(db, session_id):
    return db[SESSIONS].find_one({"_id": session_id})


def set_password_hash(db, account_id, password_hash):
    db[ACCOUNTS].update_one({"_id": account_id}, {"$set": {"password_hash": password_hash, "updated_at": utcnow()}})


def delete_session(db, session_id):
    db[SESSIONS].delete_one({"_id": session_id})


def delete_sessions_of(db, account_id):
    return db[SESSIONS].delete_many({"account_id": account_id}).deleted_count


def purge_expired_sessions(db):
    # FerretDB has no TTL indexes; the service sweeps on a timer.
    return db[SESSIONS].delete_many({"expires_at": {"$lt": utcnow()}}).deleted_count


# ---- login throttling, per handle (so it holds across gateway replicas and IP addresses)

def failures(db, handle_key, source, window_s):
    """(failed sign-ins, time of the last) for this handle from this source, within the window."""
    doc = db[LOGIN_ATTEMPTS].find_one({"_id": _attempt_id(handle_key, source)})
    if doc is None or doc["since"] < utcnow() - timedelta(seconds=window_s):
        return 0, None
    return doc["failures"], doc.get("last", doc["since"])


def record_failure(db, handle_key, source, window_s):
    now = utcnow()
    attempt_id = _attempt_id(handle_key, source)
    # A window that has passed starts over; otherwise count up.
    db[LOGIN_ATTEMPTS].update_one({"_id": attempt_id, "since": {"$lt": now - timedelta(seconds=window_s)}},
                                  {"$set": {"failures": 0, "since": now}})
    db[LOGIN_ATTEMPTS].update_one({"_id": attempt_id}, {"$inc": {"failures": 1}, "$set": {"last": now},
                                                        "$setOnInsert": {"since": now, "handle": handle_key}},
                                  upsert=True)


def clear_failures(db, handle_key, source=None):
    """A successful sign-in clears its source's record; deleting the account clears them all."""
    if source is None:
        db[LOGIN_ATTEMPTS].delete_many({"handle": handle_key})
    else:
        db[LOGIN_ATTEMPTS].delete_one({"_id": _attempt_id(handle_key, source)})


def _attempt_id(handle_key, source):
    return f"{handle_key}:{source or '-'}"


def purge_stale_attempts(db, window_s):
    return db[LOGIN_ATTEMPTS].delete_many({"since": {"$lt": utcnow() - timedelta(seconds=window_s)}}).deleted_count
