"""The profiles database: accounts (with their outbox) and sessions."""
from pymongo.errors import DuplicateKeyError

from services.common import outbox
from services.common.errors import Conflict
from services.common.events import utcnow

ACCOUNTS = "accounts"
SESSIONS = "sessions"


def prepare(db):
    db[ACCOUNTS].create_index("handle_key", unique=True)
    db[SESSIONS].create_index("account_id")


def insert_account(db, account, events):
    account = dict(account, **{outbox.OUTBOX: list(events)})
    try:
        db[ACCOUNTS].insert_one(account)
    except DuplicateKeyError:
        raise Conflict("That handle is taken.", {"handle": "That handle is taken."}) from None


def find_account(db, account_id):
    return outbox.strip(db[ACCOUNTS].find_one({"_id": account_id}))


def find_account_by_handle_key(db, key):
    return outbox.strip(db[ACCOUNTS].find_one({"handle_key": key}))


def update_profile(db, account_id, profile, make_events):
    """Replace the profile and bump the version, staging the events built from the new state.

    The version check makes a concurrent update lose cleanly (the caller retries) instead of two
    writers producing two events with the same version.
    """
    for _ in range(5):
        current = find_account(db, account_id)
        if current is None:
            return None
        updated = dict(current, profile=profile, version=current["version"] + 1, updated_at=utcnow())
        result = db[ACCOUNTS].update_one(
            {"_id": account_id, "version": current["version"]},
            {"$set": {"profile": profile, "version": updated["version"], "updated_at": updated["updated_at"]},
             "$push": outbox.stage(make_events(updated))},
        )
        if result.modified_count == 1:
            return updated
    raise Conflict("The profile changed while saving; try again.")


def insert_session(db, session):
    db[SESSIONS].insert_one(session)


def find_session(db, session_id):
    return db[SESSIONS].find_one({"_id": session_id})


def delete_session(db, session_id):
    db[SESSIONS].delete_one({"_id": session_id})


def purge_expired_sessions(db):
    # FerretDB has no TTL indexes; the service sweeps on a timer.
    return db[SESSIONS].delete_many({"expires_at": {"$lt": utcnow()}}).deleted_count


def ping(db):
    db.command("ping")
    return True

