"""MatchStore: what matching's workflow needs from its database, and its two adapters.

- `MongoMatchStore`: the real one, over storage.py's indexed queries; every change of a match is
  written with its events in one update (the outbox) and then published.
- `InMemoryMatchStore`: the same contract in dictionaries, for workflow tests that run in
  milliseconds. `services/matching/tests/test_store_contract.py` holds both to one contract.

Both publish through `dispatch(event_type, payload)`, as nameko's EventDispatcher does (a list in
tests).
"""
import copy

from pymongo.errors import DuplicateKeyError

from services.common import outbox
from services.common.readmodel import CREATED, UPDATED

from . import lifecycle, storage


class MongoMatchStore:
    def __init__(self, db, dispatch):
        self.db, self.dispatch = db, dispatch
        self.matches = db[storage.MATCHES]

    # ---- volunteers
    def volunteer(self, volunteer_id):
        return storage.volunteer(self.db, volunteer_id)

    def volunteers(self, ids):
        return storage.volunteers(self.db, ids)

    def remember_profile(self, profile_id, fields, version):
        return storage.remember_profile(self.db, profile_id, fields, version)

    def forget_profile(self, profile_id, version):
        return storage.forget_profile(self.db, profile_id, version)

    def refresh_load(self, volunteer_id):
        return storage.refresh_load(self.db, volunteer_id)

    def count_proposals(self, volunteer_ids):
        return storage.count_proposals(self.db, volunteer_ids)

    # ---- requests
    def remember_request(self, request_id, fields, version):
        return storage.remember_request(self.db, request_id, fields, version)

    def request(self, request_id):
        return storage.request(self.db, request_id)

    def take_request(self, request_id, match_id):
        return storage.take_request(self.db, request_id, match_id)

    def release_request(self, request_id, match_id):
        storage.release_request(self.db, request_id, match_id)

    def note_wants(self, request_id, in_play, wants, asked=()):
        storage.note_wants(self.db, request_id, in_play, wants, asked)

    def requests_wanting(self, skill, limit):
        return storage.requests_wanting(self.db, skill, limit)

    def forget_author(self, author_id):
        storage.forget_author(self.db, author_id)

    # ---- matches
    def match(self, match_id):
        return storage.match(self.db, match_id)

    def pending_matches(self, **where):
        return storage.pending_matches(self.db, **where)

    def confirmed_matches(self, volunteer_id):
        return storage.confirmed_matches(self.db, volunteer_id)

    def count_in_play(self, request_id):
        return storage.count_in_play(self.db, request_id)

    def proposed_volunteers(self, request_id):
        return storage.proposed_volunteers(self.db, request_id)

    def matches_for(self, field, account_id, limit=200, before=None):
        return storage.matches_for(self.db, field, account_id, limit, before)

    def invitations_since(self, author_id, since):
        return storage.invitations_since(self.db, author_id, since)

    def walk_due_matches(self, now, handle):
        return storage.walk_due_matches(self.db, now, handle)

    def finish_confirmed(self, request_id):
        return storage.finish_confirmed(self.db, request_id)

    def forget_volunteer_matches(self, volunteer_id):
        storage.forget_volunteer_matches(self.db, volunteer_id)

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
            outbox.insert_with_events(self.matches, match, events)
        except DuplicateKeyError:
            return False
        outbox.flush(self.matches, match["_id"], self.dispatch)
        return True

    def move(self, match, target, changes, events):
        """Move a match from its current state (and version) to `target` with its events, then
        publish. False if someone moved it first."""
        moved = storage.move_match(self.db, match, target, changes, events)
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
