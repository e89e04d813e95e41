"""The matching database: its read models of volunteers and requests, and its proposals.

Every write of a volunteer document sets `touched_at` (and its minute, `touched_slot`, which an
index serves), so other replicas' candidate indexes can pick it up (`CandidateIndex.sync`). A
volunteer's load and history (`open_proposals`, `active_matches`, `stats`) are recomputed from their
matches (`refresh_load`) whenever one of their matches changes, so a crash between two writes
cannot leave them wrong for good. The one exception is the hot path: a new proposal only adds one
to `open_proposals` (`count_proposals`, one command for a top-up's volunteers), which the next
recomputation confirms.

A request's copy carries what a volunteer event needs to know of it without reading its matches:
`in_play` (open proposals and waiting yeses), `asked` (every volunteer ever proposed) and `wants`
(its skills, present only while it is open and below the k it should hold). Every top-up writes
them from a fresh count (`note_wants`), so a volunteer's sign-up asks only for the needs still
wanting one of their skills, a bounded page each (`requests_wanting`), whatever the store holds:
it used to walk every open need and count each one's matches.
"""

from pymongo import ReturnDocument, UpdateOne

from services.common import due, outbox
from services.common.events import match_id_of, utcnow
from services.common.mongo import create_collections
from services.common.readmodel import apply_if_newer

from . import lifecycle

VOLUNTEERS = "volunteers"
REQUESTS = "requests"
MATCHES = "matches"
MIGRATIONS = "migrations"

PROFILE_FIELDS = ("handle", "role", "status", "skills", "languages", "countries", "bio",
                  "availability_hours", "max_active_matches", "verified")


def prepare(db):
    create_collections(db, VOLUNTEERS, REQUESTS, MATCHES, MIGRATIONS)
    db[VOLUNTEERS].create_index("touched_slot")
    db[REQUESTS].create_index("wants")
    db[REQUESTS].create_index("author_id")  # forgetting a deleted author
    db[MATCHES].create_index("request_id")
    db[MATCHES].create_index("volunteer_id")
    db[MATCHES].create_index("author_id")
    db[MATCHES].create_index([("status", 1), ("expires_at", 1)])
    db[MATCHES].create_index("expires_slot")
    backfill_wants(db)


WANTS_MIGRATION = "requests-wants-v1"


def backfill_wants(db):
    """Once per database: open requests stored before `in_play`/`wants` existed get them, so new
    volunteers find them (one scan, at the first start-up after the change; a marker says done).
    A request noted as wanting that holds its k already is skipped by `rematch_volunteer` (it
    reads `in_play`) and noted right at its next top-up."""
    migrations = db[MIGRATIONS]
    if migrations.find_one({"_id": WANTS_MIGRATION}) is not None:
        return
    for found in db[REQUESTS].find({"status": "open"}):
        if "in_play" in found:
            continue
        in_play = count_in_play(db, found["_id"])
        wants = (found.get("skills") or []) if lifecycle.proposable(found) else []
        note_wants(db, found["_id"], in_play, wants)
    migrations.update_one({"_id": WANTS_MIGRATION}, {"$set": {"done_at": utcnow()}}, upsert=True)


def match_id(request_id, volunteer_id):
    """Deterministic (services/common/events.py, `match_id_of`): proposing the same volunteer for
    the same request twice is the same match, so a volunteer never gets the same request twice,
    and a redelivered event cannot either."""
    return match_id_of(request_id, volunteer_id)


def upsert_newer(collection, doc_id, fields, version, unset=None):
    """Apply `fields` only if `version` is newer than what is stored. Returns True if applied.

    Duplicate and out-of-order events are both no-ops: the filter does not match, and the upsert
    then collides with the existing `_id`.
    """
    update = {"$set": dict(fields)}
    if unset:
        update["$unset"] = {name: "" for name in unset}
    return apply_if_newer(collection, doc_id, update, version)


# ---- volunteers

def touched():
    now = utcnow()
    return {"touched_at": now, "touched_slot": due.slot(now)}


def remember_profile(db, profile_id, fields, version):
    return upsert_newer(db[VOLUNTEERS], profile_id, dict(fields, **touched(), deleted=False), version)


def forget_profile(db, profile_id, version):
    """Keep only a tombstone (id, version): a late, older profile event cannot bring them back."""
    return upsert_newer(db[VOLUNTEERS], profile_id, dict(touched(), deleted=True), version,
                        unset=PROFILE_FIELDS + ("open_proposals", "active_matches", "stats"))


def volunteer(db, volunteer_id):
    document = db[VOLUNTEERS].find_one({"_id": volunteer_id})
    return None if document is None or document.get("deleted") else document


def volunteers(db, ids):
    """By id, one indexed lookup each (`$in` is not pushed down to FerretDB's backend)."""
    found = (volunteer(db, volunteer_id) for volunteer_id in set(ids))
    return {doc["_id"]: doc for doc in found if doc is not None}


def refresh_load(db, volunteer_id):
    """Recompute a volunteer's load and history from their matches. Returns the document."""
    load = lifecycle.load_of(db[MATCHES].find(
        {"volunteer_id": volunteer_id},
        {"status": 1, "active": 1, "proposed_at": 1, "answered_at": 1}))
    return db[VOLUNTEERS].find_one_and_update(
        {"_id": volunteer_id, "deleted": {"$ne": True}}, {"$set": dict(load, **touched())},
        return_document=ReturnDocument.AFTER)


def count_proposals(db, volunteer_ids):
    """One more open proposal for each of these volunteers (no re-read of their matches), in one
    command. Returns how many were found (a deleted one is not)."""
    if not volunteer_ids:
        return 0
    stamp = touched()
    result = db[VOLUNTEERS].bulk_write(
        [UpdateOne({"_id": volunteer_id, "deleted": {"$ne": True}}, {"$inc": {"open_proposals": 1}, "$set": stamp})
         for volunteer_id in volunteer_ids], ordered=False)
    return result.matched_count


# ---- requests

def remember_request(db, request_id, fields, version):
    """Store this version of a request if it is newer: CREATED, UPDATED or None (readmodel)."""
    return upsert_newer(db[REQUESTS], request_id, fields, version)


def request(db, request_id):
    return db[REQUESTS].find_one({"_id": request_id})


def take_request(db, request_id, taking_match_id):
    """Mark the request taken by this match, if nobody took it. True if it is now this match's."""
    db[REQUESTS].update_one({"_id": request_id, "taken_by": None}, {"$set": {"taken_by": taking_match_id}})
    current = request(db, request_id)
    return current is not None and current.get("taken_by") == taking_match_id


def release_request(db, request_id, taking_match_id):
    """Undo `take_request` when the confirmation it was for did not happen (the match moved
    meanwhile): a request left taken by nobody would never be proposed or confirmed again."""
    db[REQUESTS].update_one({"_id": request_id, "taken_by": taking_match_id}, {"$set": {"taken_by": None}})


def note_wants(db, request_id, in_play, wants, asked=()):
    """Write what a volunteer event reads of a request: how many are in play, which skills it still
    wants someone for (none: the field goes, and with it the request from `requests_wanting`), and
    who was asked."""
    update = {"$set": {"in_play": in_play}}
    if wants:
        update["$set"]["wants"] = list(wants)
    else:
        update["$unset"] = {"wants": ""}
    if asked:
        update["$addToSet"] = {"asked": {"$each": list(asked)}}
    db[REQUESTS].update_one({"_id": request_id}, update)


def requests_wanting(db, skill, limit):
    """Open requests still wanting someone with `skill`: at most `limit`, one indexed equality on a
    field only wanting requests carry (FerretDB serves it from the GIN index; a full need, the
    normal state of a need waiting for answers, is not in it)."""
    return list(db[REQUESTS].find({"wants": skill}).limit(limit))


# ---- matches

def match(db, the_match_id):
    return db[MATCHES].find_one({"_id": the_match_id}, outbox.HIDE)


def move_match(db, current, target, changes, events):
    """Move a match from its current state (and version) to `target`, with its events in the same
    update. False if someone moved it first."""
    return outbox.update_one_with_events(
        db[MATCHES], {"_id": current["_id"], "status": current["status"], "version": current["version"]},
        {"$set": dict(changes, status=target, version=current["version"] + 1)}, events)


def open_matches(db, **where):
    return list(db[MATCHES].find(dict(where, status="proposed"), outbox.HIDE))


def confirmed_matches(db, volunteer_id):
    """The requests a volunteer was confirmed for and still helps with."""
    return list(db[MATCHES].find({"volunteer_id": volunteer_id, "status": "confirmed"}, outbox.HIDE))


def waiting_matches(db, **where):
    """Volunteers' yeses the author has not decided on yet."""
    return list(db[MATCHES].find(dict(where, status="accepted"), outbox.HIDE))


def pending_matches(db, **where):
    """Open proposals and waiting yeses: two indexed equalities (`$in` is not pushed down)."""
    return open_matches(db, **where) + waiting_matches(db, **where)


def count_in_play(db, request_id):
    """Open proposals and waiting yeses of a request (two indexed counts: `$in` is not pushed down)."""
    return sum(db[MATCHES].count_documents({"request_id": request_id, "status": status})
               for status in lifecycle.PENDING)


def proposed_volunteers(db, request_id):
    """Everyone ever proposed for this request, whatever became of it: never proposed again."""
    return {m["volunteer_id"] for m in db[MATCHES].find({"request_id": request_id}, {"volunteer_id": 1})}


def walk_due_matches(db, now, handle):
    """Hand open proposals past their expiry to `handle`, a bounded page at a time, from the
    checkpoint of the last minute done (services/common/due.py): nothing not yet due is read."""
    def overdue(limit):  # once per database, before any checkpoint: proposals due before it existed
        return list(db[MATCHES].find({"status": "proposed", "expires_at": {"$lte": now}}, outbox.HIDE).limit(limit))

    return due.walk_due(db[MATCHES], "matching.expire", {"status": "proposed"}, "expires_slot", "expires_at", now,
                        handle, projection=outbox.HIDE, first_sweep=overdue)


def finish_confirmed(db, request_id):
    """The request is over: its confirmed match no longer counts as active load. Returns the volunteers."""
    done = list(db[MATCHES].find({"request_id": request_id, "status": "confirmed", "active": {"$ne": False}},
                                 {"volunteer_id": 1}))
    if done:
        db[MATCHES].update_many({"request_id": request_id, "status": "confirmed"}, {"$set": {"active": False}})
    return [m["volunteer_id"] for m in done]


def forget_volunteer_matches(db, volunteer_id):
    """A deleted volunteer's matches go, decline reasons and all (their open ones were withdrawn,
    with events, first)."""
    db[MATCHES].delete_many({"volunteer_id": volunteer_id})


def forget_author(db, author_id):
    """A deleted author is no longer named in matching: their requests' copies and the matches on
    them keep no author (the volunteers' history of help stays, about nobody)."""
    db[MATCHES].update_many({"author_id": author_id}, {"$set": {"author_id": None}})
    db[REQUESTS].update_many({"author_id": author_id}, {"$set": {"author_id": None}})


def invitations_since(db, author_id, since):
    """How many volunteers `author_id` invited since `since` (author_id pushed down and indexed:
    only that author's matches are decoded)."""
    return db[MATCHES].count_documents({"author_id": author_id, "origin": "invitation",
                                        "proposed_at": {"$gte": since}})


def matches_for(db, field, account_id, limit=200, before=None):
    """A page of the matches of a volunteer or an author (`field`), newest first (proposed_at,
    then id). `before`: (proposed_at, n), where the previous page ended: the matches proposed
    before that time, and those proposed at it but the first n of them (a cursor that names no
    match: an author must not learn the id of a match whose volunteer did not say yes). Returns
    (matches, whether more follow)."""
    query = {field: account_id}
    skip = 0
    if before:
        at, skip = before
        query["proposed_at"] = {"$lte": at}
    found = list(db[MATCHES].find(query, outbox.HIDE).sort([("proposed_at", -1), ("_id", -1)])
                 .limit(skip + limit + 1))
    if skip and all(m["proposed_at"] == before[0] for m in found[:skip]):
        found = found[skip:]
    return found[:limit], len(found) > limit
