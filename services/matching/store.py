"""matching's database, and the one store class that holds its queries (MatchStore).

- `MongoMatchStore`: the real one, every query indexed; every change of a match is written with its
  events in one update (the outbox) and then published.
- `InMemoryMatchStore`: the same contract in dictionaries, for workflow tests that run in
  milliseconds. `services/matching/tests/test_store_contract.py` holds both to one contract.

Both publish through `dispatch(event_type, payload)`, as nameko's EventDispatcher does (a list in
tests).

What is stored: the read models of volunteers and requests, and the proposals.

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

import copy

from pymongo import ReturnDocument, UpdateOne
from pymongo.errors import DuplicateKeyError

from services.common.store import due, outbox
from services.common.bus.events import utcnow
from services.common.ids import match_id_of
from services.common.store.mongo import create_collections
from services.common.bus.readmodel import CREATED, UPDATED, apply_if_newer

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
    outbox.index(db[MATCHES])
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
    store = MongoMatchStore(db, dispatch=None)
    for found in db[REQUESTS].find({"status": "open"}):
        if "in_play" in found:
            continue
        in_play = store.count_in_play(found["_id"])
        wants = (found.get("skills") or []) if lifecycle.proposable(found) else []
        store.note_wants(found["_id"], in_play, wants)
    migrations.update_one({"_id": WANTS_MIGRATION}, {"$set": {"done_at": utcnow()}}, upsert=True)


def match_id(request_id, volunteer_id):
    """Deterministic (services/common/ids.py): proposing the same volunteer for
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


def touched():
    """What every write of a volunteer document stamps (see above)."""
    now = utcnow()
    return {"touched_at": now, "touched_slot": due.slot(now)}


class MongoMatchStore:
    def __init__(self, db, dispatch):
        self.db, self.dispatch = db, dispatch
        self.matches = db[MATCHES]

    # ---- volunteers
    def remember_profile(self, profile_id, fields, version):
        return upsert_newer(self.db[VOLUNTEERS], profile_id, dict(fields, **touched(), deleted=False), version)

    def forget_profile(self, profile_id, version):
        """Keep only a tombstone (id, version): a late, older profile event cannot bring them back."""
        return upsert_newer(self.db[VOLUNTEERS], profile_id, dict(touched(), deleted=True), version,
                            unset=PROFILE_FIELDS + ("open_proposals", "active_matches", "stats"))

    def volunteer(self, volunteer_id):
        document = self.db[VOLUNTEERS].find_one({"_id": volunteer_id})
        return None if document is None or document.get("deleted") else document

    def volunteers(self, ids):
        """By id, in one command (`$in` on `_id`: index-served on MongoDB, and on FerretDB by the
        project's patch, scripts/ferretdb-in-pushdown.patch)."""
        ids = sorted(set(ids))
        if not ids:
            return {}
        return {doc["_id"]: doc for doc in self.db[VOLUNTEERS].find({"_id": {"$in": ids}}) if not doc.get("deleted")}

    def refresh_load(self, volunteer_id):
        """Recompute a volunteer's load and history from their matches. Returns the document."""
        load = lifecycle.load_of(self.db[MATCHES].find(
            {"volunteer_id": volunteer_id},
            {"status": 1, "active": 1, "proposed_at": 1, "answered_at": 1}))
        return self.db[VOLUNTEERS].find_one_and_update(
            {"_id": volunteer_id, "deleted": {"$ne": True}}, {"$set": dict(load, **touched())},
            return_document=ReturnDocument.AFTER)

    def count_proposals(self, volunteer_ids):
        """One more open proposal for each of these volunteers (no re-read of their matches), in one
        command. Returns how many were found (a deleted one is not)."""
        if not volunteer_ids:
            return 0
        stamp = touched()
        result = self.db[VOLUNTEERS].bulk_write(
            [UpdateOne({"_id": volunteer_id, "deleted": {"$ne": True}}, {"$inc": {"open_proposals": 1}, "$set": stamp})
             for volunteer_id in volunteer_ids], ordered=False)
        return result.matched_count

    # ---- requests
    def remember_request(self, request_id, fields, version):
        """Store this version of a request if it is newer: CREATED, UPDATED or None (readmodel)."""
        return upsert_newer(self.db[REQUESTS], request_id, fields, version)

    def request(self, request_id):
        return self.db[REQUESTS].find_one({"_id": request_id})

    def take_request(self, request_id, taking_match_id):
        """Mark the request taken by this match, if nobody took it. True if it is now this match's."""
        self.db[REQUESTS].update_one({"_id": request_id, "taken_by": None}, {"$set": {"taken_by": taking_match_id}})
        current = self.request(request_id)
        return current is not None and current.get("taken_by") == taking_match_id

    def release_request(self, request_id, taking_match_id):
        """Undo `take_request` when the confirmation it was for did not happen (the match moved
        meanwhile): a request left taken by nobody would never be proposed or confirmed again."""
        self.db[REQUESTS].update_one({"_id": request_id, "taken_by": taking_match_id}, {"$set": {"taken_by": None}})

    def note_wants(self, request_id, in_play, wants, asked=()):
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
        self.db[REQUESTS].update_one({"_id": request_id}, update)

    def requests_wanting(self, skill, limit):
        """Open requests still wanting someone with `skill`: at most `limit`, one indexed equality on a
        field only wanting requests carry (FerretDB serves it from the GIN index; a full need, the
        normal state of a need waiting for answers, is not in it)."""
        return list(self.db[REQUESTS].find({"wants": skill}).limit(limit))

    # ---- matches
    def match(self, the_match_id):
        return self.db[MATCHES].find_one({"_id": the_match_id}, outbox.HIDE)

    def move_match(self, current, target, changes, events):
        """Move a match from its current state (and version) to `target`, with its events in the same
        update. False if someone moved it first."""
        return outbox.update_one_with_events(
            self.db[MATCHES], {"_id": current["_id"], "status": current["status"], "version": current["version"]},
            {"$set": dict(changes, status=target, version=current["version"] + 1)}, events)

    def open_matches(self, **where):
        return list(self.db[MATCHES].find(dict(where, status="proposed"), outbox.HIDE))

    def confirmed_matches(self, volunteer_id):
        """The requests a volunteer was confirmed for and still helps with."""
        return list(self.db[MATCHES].find({"volunteer_id": volunteer_id, "status": "confirmed"}, outbox.HIDE))

    def waiting_matches(self, **where):
        """Volunteers' yeses the author has not decided on yet."""
        return list(self.db[MATCHES].find(dict(where, status="accepted"), outbox.HIDE))

    def pending_matches(self, **where):
        """Open proposals and waiting yeses: two indexed equalities (`$in` is not pushed down)."""
        return self.open_matches(**where) + self.waiting_matches(**where)

    def count_in_play(self, request_id):
        """Open proposals and waiting yeses of a request (two indexed counts: `$in` is not pushed down)."""
        return sum(self.db[MATCHES].count_documents({"request_id": request_id, "status": status})
                   for status in lifecycle.PENDING)

    def proposed_volunteers(self, request_id):
        """Everyone ever proposed for this request, whatever became of it: never proposed again."""
        return {m["volunteer_id"] for m in self.db[MATCHES].find({"request_id": request_id}, {"volunteer_id": 1})}

    def walk_due_matches(self, now, handle):
        """Hand open proposals past their expiry to `handle`, a bounded page at a time, from the
        checkpoint of the last minute done (services/common/store/due.py): nothing not yet due is read."""
        def overdue(limit):  # once per database, before any checkpoint: proposals due before it existed
            return list(self.db[MATCHES].find({"status": "proposed", "expires_at": {"$lte": now}}, outbox.HIDE).limit(limit))

        return due.walk_due(self.db[MATCHES], "matching.expire", {"status": "proposed"}, "expires_slot", "expires_at", now,
                            handle, projection=outbox.HIDE, first_sweep=overdue)

    def finish_confirmed(self, request_id):
        """The request is over: its confirmed match no longer counts as active load. Returns the volunteers."""
        done = list(self.db[MATCHES].find({"request_id": request_id, "status": "confirmed", "active": {"$ne": False}},
                                     {"volunteer_id": 1}))
        if done:
            self.db[MATCHES].update_many({"request_id": request_id, "status": "confirmed"}, {"$set": {"active": False}})
        return [m["volunteer_id"] for m in done]

    def forget_volunteer_matches(self, volunteer_id):
        """A deleted volunteer's matches go, decline reasons and all (their open ones were withdrawn,
        with events, first)."""
        self.db[MATCHES].delete_many({"volunteer_id": volunteer_id})

    def forget_author(self, author_id):
        """A deleted author is no longer named in matching: their requests' copies and the matches on
        them keep no author (the volunteers' history of help stays, about nobody)."""
        self.db[MATCHES].update_many({"author_id": author_id}, {"$set": {"author_id": None}})
        self.db[REQUESTS].update_many({"author_id": author_id}, {"$set": {"author_id": None}})

    def invitations_since(self, author_id, since):
        """How many volunteers `author_id` invited since `since` (author_id pushed down and indexed:
        only that author's matches are decoded)."""
        return self.db[MATCHES].count_documents({"author_id": author_id, "origin": "invitation",
                                            "proposed_at": {"$gte": since}})

    def matches_for(self, field, account_id, limit=200, before=None):
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
        found = list(self.db[MATCHES].find(query, outbox.HIDE).sort([("proposed_at", -1), ("_id", -1)])
                     .limit(skip + limit + 1))
        if skip and all(m["proposed_at"] == before[0] for m in found[:skip]):
            found = found[skip:]
        return found[:limit], len(found) > limit

    # ---- changes with their events
    def add_proposals(self, request_id, matches, events_of):
        """New matches with their events, in one batch, published. Returns the ids that are new;
        an existing one (a redelivery after a crash) still gets its pending events out."""
        token, inserted = outbox.insert_many_with_events(self.matches, matches, events_of)
        outbox.publish_inserted(self.matches, token, inserted, events_of, {"request_id": request_id}, self.dispatch)
        for match in matches:
            if match["_id"] not in inserted:
                outbox.flush(self.matches, match["_id"], self.dispatch)
        return set(inserted)

    def insert_match(self, match, events):
        """One new match with its events, published. False if it already existed."""
        try:
            inserted = outbox.insert_with_events(self.matches, match, events)
        except DuplicateKeyError:
            return False
        outbox.publish(inserted, self.dispatch)
        return True

    def move(self, match, target, changes, events):
        """Move a match from its current state (and version) to `target` with its events, then
        publish. False if someone moved it first."""
        moved = self.move_match(match, target, changes, events)
        outbox.flush(self.matches, match["_id"], self.dispatch)
        return moved

    def flush_pending(self):
        outbox.flush_pending(self.matches, self.dispatch)


class InMemoryMatchStore:
    """The same contract in dictionaries (documents are copied in and out, as a database would)."""

    def __init__(self, dispatch=None):
        self.volunteers_by_id, self.requests_by_id, self.matches_by_id = {}, {}, {}
        self.published = []
        self.dispatch = dispatch or (lambda event_type, payload: self.published.append(payload))

    @staticmethod
    def _out(document):
        return copy.deepcopy(document)

    def _publish(self, events):
        for event in events:
            self.dispatch(event["event_type"], event)

    # ---- volunteers
    def volunteer(self, volunteer_id):
        document = self.volunteers_by_id.get(volunteer_id)
        return None if document is None or document.get("deleted") else self._out(document)

    def volunteers(self, ids):
        found = (self.volunteer(volunteer_id) for volunteer_id in set(ids))
        return {doc["_id"]: doc for doc in found if doc is not None}

    def _newer(self, collection, doc_id, version):
        current = collection.get(doc_id)
        return current is None or current.get("version", 0) < version

    def remember_profile(self, profile_id, fields, version):
        if not self._newer(self.volunteers_by_id, profile_id, version):
            return False
        document = self.volunteers_by_id.setdefault(profile_id, {"_id": profile_id})
        document.update(copy.deepcopy(fields), deleted=False, version=version)
        return True

    def forget_profile(self, profile_id, version):
        if not self._newer(self.volunteers_by_id, profile_id, version):
            return False
        self.volunteers_by_id[profile_id] = {"_id": profile_id, "deleted": True, "version": version}
        return True

    def refresh_load(self, volunteer_id):
        document = self.volunteers_by_id.get(volunteer_id)
        if document is None or document.get("deleted"):
            return None
        document.update(lifecycle.load_of([m for m in self.matches_by_id.values()
                                           if m["volunteer_id"] == volunteer_id]))
        return self._out(document)

    def count_proposals(self, volunteer_ids):
        found = 0
        for volunteer_id in volunteer_ids:
            document = self.volunteers_by_id.get(volunteer_id)
            if document is not None and not document.get("deleted"):
                document["open_proposals"] = document.get("open_proposals", 0) + 1
                found += 1
        return found

    # ---- requests
    def remember_request(self, request_id, fields, version):
        if not self._newer(self.requests_by_id, request_id, version):
            return None
        created = request_id not in self.requests_by_id
        self.requests_by_id.setdefault(request_id, {"_id": request_id}).update(copy.deepcopy(fields), version=version)
        return CREATED if created else UPDATED

    def request(self, request_id):
        return self._out(self.requests_by_id.get(request_id))

    def take_request(self, request_id, match_id):
        document = self.requests_by_id.get(request_id)
        if document is None:
            return False
        if document.get("taken_by") is None:
            document["taken_by"] = match_id
        return document["taken_by"] == match_id

    def release_request(self, request_id, match_id):
        document = self.requests_by_id.get(request_id)
        if document is not None and document.get("taken_by") == match_id:
            document["taken_by"] = None

    def note_wants(self, request_id, in_play, wants, asked=()):
        document = self.requests_by_id.get(request_id)
        if document is None:
            return
        document["in_play"] = in_play
        if wants:
            document["wants"] = list(wants)
        else:
            document.pop("wants", None)
        if asked:
            document["asked"] = document.get("asked", []) + [a for a in asked if a not in document.get("asked", [])]

    def requests_wanting(self, skill, limit):
        return [self._out(r) for r in self.requests_by_id.values() if skill in r.get("wants", ())][:limit]

    def forget_author(self, author_id):
        for document in list(self.matches_by_id.values()) + list(self.requests_by_id.values()):
            if document.get("author_id") == author_id:
                document["author_id"] = None

    # ---- matches
    def match(self, match_id):
        return self._out(self.matches_by_id.get(match_id))

    def _where(self, **where):
        return [m for m in self.matches_by_id.values() if all(m.get(k) == v for k, v in where.items())]

    def pending_matches(self, **where):
        return [self._out(m) for status in lifecycle.PENDING for m in self._where(status=status, **where)]

    def confirmed_matches(self, volunteer_id):
        return [self._out(m) for m in self._where(status="confirmed", volunteer_id=volunteer_id)]

    def count_in_play(self, request_id):
        return len(self.pending_matches(request_id=request_id))

    def proposed_volunteers(self, request_id):
        return {m["volunteer_id"] for m in self._where(request_id=request_id)}

    def matches_for(self, field, account_id, limit=200, before=None):
        ordered = sorted(self._where(**{field: account_id}), key=lambda m: (m["proposed_at"], m["_id"]), reverse=True)
        if before:
            at, skip = before
            ordered = [m for m in ordered if m["proposed_at"] <= at]
            ordered = ordered[skip:] if all(m["proposed_at"] == at for m in ordered[:skip]) else ordered
        return [self._out(m) for m in ordered[:limit]], len(ordered) > limit

    def invitations_since(self, author_id, since):
        return sum(1 for m in self._where(author_id=author_id, origin="invitation") if m["proposed_at"] >= since)

    def walk_due_matches(self, now, handle):
        due = [self._out(m) for m in self._where(status="proposed") if m["expires_at"] <= now]
        handle(due)
        return len(due)

    def finish_confirmed(self, request_id):
        done = [m for m in self._where(request_id=request_id, status="confirmed") if m.get("active") is not False]
        for match in done:
            match["active"] = False
        return [m["volunteer_id"] for m in done]

    def forget_volunteer_matches(self, volunteer_id):
        for match in self._where(volunteer_id=volunteer_id):
            del self.matches_by_id[match["_id"]]

    # ---- changes with their events
    def add_proposals(self, request_id, matches, events_of):
        inserted, published = set(), set()
        for match in matches:
            if match["_id"] not in self.matches_by_id:
                self.matches_by_id[match["_id"]] = copy.deepcopy(match)
                inserted.add(match["_id"])
                fresh = [e for e in events_of[match["_id"]] if e["event_id"] not in published]
                published.update(e["event_id"] for e in fresh)
                self._publish(fresh)
        return inserted

    def insert_match(self, match, events):
        if match["_id"] in self.matches_by_id:
            return False
        self.matches_by_id[match["_id"]] = copy.deepcopy(match)
        self._publish(events)
        return True

    def move(self, match, target, changes, events):
        current = self.matches_by_id.get(match["_id"])
        if current is None or current["status"] != match["status"] or current["version"] != match["version"]:
            return False
        current.update(copy.deepcopy(changes), status=target, version=match["version"] + 1)
        self._publish(events)
        return True

    def flush_pending(self):
        return None  # events are published as they are written
