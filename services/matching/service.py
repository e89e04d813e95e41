"""matching: keeps read models of volunteers and requests from events, and proposes matches.

A thin adapter: the rules live in scoring.py (who fits, how well), lifecycle.py (what may happen
to a proposal) and index.py (finding candidates among a million volunteers without a scan).
Every change to a match goes with its event in one document update (the outbox), then is flushed.
"""
from nameko.dependency_providers import Config
from nameko.events import EventDispatcher
from nameko.rpc import rpc
from nameko.timer import timer

from services.common import due, outbox
from services.common.consumer import consumes
from services.common.errors import Conflict, DomainError
from services.common.events import make_event, utcnow
from services.common.mongo import ServiceDatabase, ping
from services.common.schemas import Viewer, load_or_fail

from . import lifecycle, scoring, storage
from .index import CandidateIndexProvider
from .schemas import DeclineInput, MatchId

SOURCE = "matching"
REQUEST_FIELDS = ("author_id", "skills", "languages", "country", "urgency", "visibility", "status", "hidden",
                  "created_at")
DEFAULT_EXPIRY_S = 72 * 3600


class MatchingService:
    name = SOURCE

    db = ServiceDatabase(prepare=storage.prepare)
    index = CandidateIndexProvider(storage.VOLUNTEERS)
    dispatch = EventDispatcher()
    config = Config()

    @property
    def top_k(self):
        return int(self.config.get("MATCH_TOP_K", 5))

    @property
    def expiry_s(self):
        return int(self.config.get("MATCH_EXPIRY_S", DEFAULT_EXPIRY_S))

    # ---- volunteers, from profile events

    def _remember_profile(self, event):
        data = event.data
        known = storage.volunteer(self.db, data["profile_id"]) is not None
        if data["role"] != "volunteer" and not known:
            return
        fields_ = {key: data[key] for key in storage.PROFILE_FIELDS}
        if not storage.remember_profile(self.db, data["profile_id"], fields_, data["version"]):
            return
        volunteer = storage.refresh_load(self.db, data["profile_id"])
        # Proposals they no longer fit (suspended, deactivated, skills or languages changed) go.
        touched = set()
        for match in storage.open_matches(self.db, volunteer_id=volunteer["_id"]):
            request = storage.request(self.db, match["request_id"])
            if request is None or not scoring.fits(request, volunteer):
                if self._move(match, "withdrawn"):
                    touched.add(match["request_id"])
        if touched:
            volunteer = storage.refresh_load(self.db, volunteer["_id"])
        self.index.put(volunteer)
        for request_id in touched:
            self._top_up(storage.request(self.db, request_id))
        # A volunteer who joins or gains skills should see the open needs they fit, not only
        # the ones posted after them.
        self.rematch_volunteer(volunteer)

    @consumes("profiles", "profile_registered")
    def on_profile_registered(self, event):
        self._remember_profile(event)

    @consumes("profiles", "profile_updated")
    def on_profile_updated(self, event):
        self._remember_profile(event)

    @consumes("profiles", "profile_deactivated")
    def on_profile_deactivated(self, event):
        self._remember_profile(event)

    @consumes("profiles", "profile_deleted")
    def on_profile_deleted(self, event):
        profile_id = event.data["profile_id"]
        self.index.remove(profile_id)
        touched = [m["request_id"] for m in storage.open_matches(self.db, volunteer_id=profile_id)
                   if self._move(m, "withdrawn")]
        storage.forget_decline_reasons(self.db, profile_id)
        storage.forget_profile(self.db, profile_id, event.data["version"])
        for request_id in touched:
            self._top_up(storage.request(self.db, request_id))

    def rematch_volunteer(self, volunteer):
        """Propose the open requests a volunteer fits, most urgent first, while they have room."""
        if volunteer is None or volunteer.get("status") != "active" or volunteer.get("role") != "volunteer":
            return
        for request in storage.open_requests_needing(self.db, volunteer["skills"]):
            if not scoring.has_room(volunteer):
                return
            if (not lifecycle.proposable(request) or not scoring.fits(request, volunteer)
                    or storage.count_open(self.db, request["_id"]) >= self.top_k
                    or volunteer["_id"] in storage.proposed_volunteers(self.db, request["_id"])):
                continue
            value, reasons = scoring.score(request, volunteer)
            volunteer = self._propose(request, [(volunteer, value, reasons)]).get(volunteer["_id"], volunteer)

    # ---- requests, from request events

    def _remember_request(self, event):
        data = event.data
        request = {key: data[key] for key in REQUEST_FIELDS}
        if not storage.remember_request(self.db, data["request_id"], request, data["version"]):
            return None
        return storage.request(self.db, data["request_id"])

    @consumes("requests", "request_created")
    def on_request_created(self, event):
        request = self._remember_request(event)
        if request is not None:
            self._top_up(request)

    @consumes("requests", "request_updated")
    def on_request_updated(self, event):
        request = self._remember_request(event)
        if request is None:
            return
        open_matches = storage.open_matches(self.db, request_id=request["_id"])
        if not lifecycle.proposable(request):
            leaving = open_matches
        else:
            found = storage.volunteers(self.db, [m["volunteer_id"] for m in open_matches])
            leaving = lifecycle.no_longer_fitting(request, open_matches, found)
        for match in leaving:
            self._move(match, "withdrawn")
        self._refresh_volunteers(m["volunteer_id"] for m in leaving)
        self._top_up(request)

    @consumes("requests", "request_closed")
    def on_request_closed(self, event):
        request = self._remember_request(event)
        if request is None:
            return
        leaving = storage.open_matches(self.db, request_id=request["_id"])
        for match in leaving:
            self._move(match, "withdrawn")
        helpers = storage.finish_accepted(self.db, request["_id"])
        self._refresh_volunteers([m["volunteer_id"] for m in leaving] + helpers)

    # ---- proposals

    def _top_up(self, request):
        """Bring an open request back to k open proposals with the best candidates not yet asked."""
        if not lifecycle.proposable(request):
            return
        wanted = self.top_k - storage.count_open(self.db, request["_id"])
        if wanted <= 0:
            return
        exclude = storage.proposed_volunteers(self.db, request["_id"])
        self._propose(request, self.index.top(request, wanted, exclude))

    def _propose(self, request, candidates):
        """Propose `[(volunteer, score, reasons)]` for one request, in one batch of writes, and
        count each in the volunteer's load. Returns {volunteer id: volunteer as now stored} for the
        proposals that are new (not a redelivery's)."""
        if not candidates:
            return {}
        now = utcnow()
        matches = [lifecycle.new_match(storage.match_id(request["_id"], volunteer["_id"]), request,
                                       volunteer["_id"], value, reasons, now, self.expiry_s)
                   for volunteer, value, reasons in candidates]
        events_of = {m["_id"]: [make_event(SOURCE, "match_proposed", lifecycle.event_data(m))] for m in matches}
        collection = self.db[storage.MATCHES]
        token, inserted = outbox.insert_many_with_events(collection, matches, events_of)
        outbox.publish_inserted(collection, token, inserted, events_of, {"request_id": request["_id"]},
                                self.dispatch)
        for match in matches:
            if match["_id"] not in inserted:
                # It already existed: a redelivery after a crash between insert and publish must
                # still get its event out.
                outbox.flush(collection, match["_id"], self.dispatch)
        stored = {}
        for match in matches:
            if match["_id"] in inserted:
                volunteer = storage.count_proposal(self.db, match["volunteer_id"])
                if volunteer is not None:
                    self.index.put(volunteer)
                    stored[volunteer["_id"]] = volunteer
        return stored

    def _move(self, match, target, **changes):
        """Move a match to `target` with its event; False if it had already moved."""
        lifecycle.check_transition(match, target)
        event = make_event(SOURCE, lifecycle.EVENT_OF[target], lifecycle.event_data(lifecycle.after(match, target)))
        moved = storage.move_match(self.db, match, target, changes, [event])
        outbox.flush(self.db[storage.MATCHES], match["_id"], self.dispatch)
        return moved

    def _refresh_volunteers(self, volunteer_ids):
        for volunteer_id in set(volunteer_ids):
            volunteer = storage.refresh_load(self.db, volunteer_id)
            if volunteer is None:
                self.index.remove(volunteer_id)
            else:
                self.index.put(volunteer)

    def _answerable(self, viewer, match_id):
        viewer = load_or_fail(Viewer(), viewer)
        match_id = load_or_fail(MatchId(), {"match_id": match_id})["match_id"]
        match = storage.match(self.db, match_id)
        lifecycle.check_answerable(match, viewer)
        return match

    @rpc(expected_exceptions=DomainError)
    def accept_match(self, viewer, match_id):
        match = self._answerable(viewer, match_id)
        if match["status"] == "accepted":
            return lifecycle.view(match)  # a repeated click changes nothing
        lifecycle.check_transition(match, "accepted")
        request = storage.request(self.db, match["request_id"])
        lifecycle.check_can_take(match, request, storage.volunteer(self.db, match["volunteer_id"]))
        if not storage.take_request(self.db, match["request_id"], match["_id"]):
            raise Conflict("Another volunteer has already taken this request.", {"request": "Already taken."})
        if not self._move(match, "accepted", answered_at=utcnow(), active=True):
            raise Conflict("This proposal changed meanwhile; look again.", {"status": "Changed."})
        others = [m for m in storage.open_matches(self.db, request_id=match["request_id"]) if m["_id"] != match["_id"]]
        for other in others:
            self._move(other, "withdrawn")
        self._refresh_volunteers([match["volunteer_id"]] + [m["volunteer_id"] for m in others])
        return lifecycle.view(storage.match(self.db, match["_id"]))

    @rpc(expected_exceptions=DomainError)
    def decline_match(self, viewer, match_id, payload=None):
        match = self._answerable(viewer, match_id)
        answer = load_or_fail(DeclineInput(), payload if payload is not None else {})
        if match["status"] == "declined":
            return lifecycle.view(match)
        lifecycle.check_transition(match, "declined")
        changes = {"answered_at": utcnow()}
        if answer["reason"]:
            changes["decline_reason"] = answer["reason"]
        if not self._move(match, "declined", **changes):
            raise Conflict("This proposal changed meanwhile; look again.", {"status": "Changed."})
        self._refresh_volunteers([match["volunteer_id"]])
        self._top_up(storage.request(self.db, match["request_id"]))
        return lifecycle.view(storage.match(self.db, match["_id"]))

    @rpc(expected_exceptions=DomainError)
    def list_matches(self, viewer):
        viewer = load_or_fail(Viewer(), viewer)
        field = "volunteer_id" if viewer["role"] == "volunteer" else "author_id"
        return [lifecycle.view(m) for m in storage.matches_for(self.db, field, viewer["account_id"])]

    @rpc
    def health(self):
        return {"database": ping(self.db)}

    # ---- timers

    @timer(interval=5)
    def expire_due(self):
        """Proposals nobody answered in time expire; the next candidate is proposed."""
        self._expire(storage.due_matches(self.db, utcnow()))

    @timer(interval=due.SWEEP_INTERVAL_S, eager=True)
    def expire_overdue(self):
        """What the quick timer cannot see: proposals that fell due while no process was looking."""
        self._expire(storage.overdue_matches(self.db, utcnow()))

    def _expire(self, matches):
        for match in matches:
            if self._move(match, "expired"):
                self._refresh_volunteers([match["volunteer_id"]])
                self._top_up(storage.request(self.db, match["request_id"]))

    @timer(interval=5)
    def relay_pending_events(self):
        outbox.flush_pending(self.db[storage.MATCHES], self.dispatch)

    @timer(interval=10)
    def sync_index(self):
        """Pick up volunteers another replica changed."""
        self.index.sync(self.db[storage.VOLUNTEERS])
