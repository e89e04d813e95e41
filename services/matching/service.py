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
from services.common.errors import Conflict, DomainError, Forbidden, NotFound
from services.common.events import make_event, utcnow
from services.common.mongo import ServiceDatabase, ping
from services.common.schemas import load_or_fail, trusted_viewer

from . import lifecycle, scoring, storage
from .index import CandidateIndexProvider
from .schemas import DeclineInput, Invitation, MatchId, RequestId

SOURCE = "matching"
REQUEST_FIELDS = ("author_id", "skills", "languages", "country", "urgency", "visibility", "verified_only",
                  "status", "hidden", "created_at")
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
        # Proposals and yeses they no longer fit (suspended, deactivated, unverified, skills or
        # languages changed) go.
        touched = set()
        for match in storage.pending_matches(self.db, volunteer_id=volunteer["_id"]):
            request = storage.request(self.db, match["request_id"])
            if not lifecycle.still_fits(match, request, volunteer):
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
        touched = [m["request_id"] for m in storage.pending_matches(self.db, volunteer_id=profile_id)
                   if self._move(m, "withdrawn")]
        storage.forget_volunteer_matches(self.db, profile_id)
        storage.forget_profile(self.db, profile_id, event.data["version"])
        # An author: their requests are closed by the requests service (request_closed withdraws
        # what is pending); here their id goes from every copy.
        storage.forget_author(self.db, profile_id)
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
                    or storage.count_in_play(self.db, request["_id"]) >= self.top_k
                    or volunteer["_id"] in storage.proposed_volunteers(self.db, request["_id"])):
                continue
            value, reasons = scoring.score(request, volunteer)
            volunteer = self._propose(request, [(volunteer, value, reasons)]).get(volunteer["_id"], volunteer)

    # ---- requests, from request events

    def _remember_request(self, event):
        data = event.data
        request = {key: data.get(key) for key in REQUEST_FIELDS}
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
        open_matches = storage.pending_matches(self.db, request_id=request["_id"])
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
        leaving = storage.pending_matches(self.db, request_id=request["_id"])
        for match in leaving:
            self._move(match, "withdrawn")
        helpers = storage.finish_confirmed(self.db, request["_id"])
        self._refresh_volunteers([m["volunteer_id"] for m in leaving] + helpers)

    # ---- proposals

    def _top_up(self, request):
        """Bring an open request back to k volunteers in play (asked, or said yes and awaiting the
        author) with the best candidates not yet asked."""
        if not lifecycle.proposable(request):
            return
        wanted = self.top_k - storage.count_in_play(self.db, request["_id"])
        if wanted <= 0:
            return
        exclude = storage.proposed_volunteers(self.db, request["_id"])
        self._propose(request, self.index.top(request, wanted, exclude))

    def _propose(self, request, candidates, origin="matching"):
        """Propose `[(volunteer, score, reasons)]` for one request, in one batch of writes, and
        count each in the volunteer's load. Returns {volunteer id: volunteer as now stored} for the
        proposals that are new (not a redelivery's)."""
        if not candidates:
            return {}
        now = utcnow()
        matches = [lifecycle.new_match(storage.match_id(request["_id"], volunteer["_id"]), request,
                                       volunteer["_id"], value, reasons, now, self.expiry_s, origin)
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

    def _match_for(self, viewer, match_id, check):
        """`viewer`: the claims of a viewer already trusted."""
        match_id = load_or_fail(MatchId(), {"match_id": match_id})["match_id"]
        match = storage.match(self.db, match_id)
        check(match, viewer)
        return match

    def _view(self, match_id):
        match = storage.match(self.db, match_id)
        return lifecycle.view(match, storage.request(self.db, match["request_id"]))

    # ---- the volunteer's side: accept or decline a proposal, offer help

    @rpc(expected_exceptions=DomainError)
    def accept_match(self, viewer, match_id):
        """The volunteer's yes. It offers help; the author decides (`confirm_match`)."""
        return self._accept(trusted_viewer(viewer), match_id)

    def _accept(self, viewer, match_id):
        match = self._match_for(viewer, match_id, lifecycle.check_answerable)
        if match["status"] == "accepted":
            return self._view(match["_id"])  # a repeated click changes nothing
        lifecycle.check_transition(match, "accepted")
        request = storage.request(self.db, match["request_id"])
        lifecycle.check_can_accept(request, storage.volunteer(self.db, match["volunteer_id"]))
        if not self._move(match, "accepted", answered_at=utcnow(), active=True):
            raise Conflict("This proposal changed meanwhile; look again.", {"status": "Changed."})
        self._refresh_volunteers([match["volunteer_id"]])
        return self._view(match["_id"])

    @rpc(expected_exceptions=DomainError)
    def decline_match(self, viewer, match_id, payload=None):
        match = self._match_for(trusted_viewer(viewer), match_id, lifecycle.check_answerable)
        answer = load_or_fail(DeclineInput(), payload if payload is not None else {})
        if match["status"] == "declined":
            return self._view(match["_id"])
        lifecycle.check_transition(match, "declined")
        changes = {"answered_at": utcnow()}
        if answer["reason"]:
            changes["decline_reason"] = answer["reason"]
        if not self._move(match, "declined", **changes):
            raise Conflict("This proposal changed meanwhile; look again.", {"status": "Changed."})
        self._refresh_volunteers([match["volunteer_id"]])
        self._top_up(storage.request(self.db, match["request_id"]))
        return self._view(match["_id"])

    @rpc(expected_exceptions=DomainError)
    def offer_help(self, viewer, request_id):
        """A volunteer offers help with a request they found. It reaches the author as a yes to
        confirm or reject, exactly like an accepted proposal."""
        viewer = trusted_viewer(viewer)
        request_id = load_or_fail(RequestId(), {"request_id": request_id})["request_id"]
        if viewer["role"] != "volunteer":
            raise Forbidden("Only volunteers can offer help.")
        request = storage.request(self.db, request_id)
        unreadable = (request is None or request.get("hidden") or request.get("visibility") == "private"
                      or (request.get("visibility") == "volunteers" and not viewer["verified"]))
        if unreadable:
            # What the volunteer cannot read they cannot offer on (and learn nothing of): a
            # private request is only ever proposed or invited.
            raise NotFound("No such request.")
        match_id = storage.match_id(request_id, viewer["account_id"])
        existing = storage.match(self.db, match_id)
        if existing is not None:
            if existing["status"] == "proposed":
                return self._accept(viewer, match_id)
            if existing["status"] in ("accepted", "confirmed"):
                return self._view(match_id)
            raise Conflict(f"You were already asked about this request (it is {existing['status']}).",
                           {"status": existing["status"]})
        volunteer = storage.volunteer(self.db, viewer["account_id"])
        lifecycle.check_can_accept(request, volunteer)
        value, reasons = scoring.score(request, volunteer)
        match = lifecycle.new_offer(match_id, request, volunteer["_id"], value, reasons, utcnow())
        event = make_event(SOURCE, "match_accepted", lifecycle.event_data(match))
        if storage.insert_match(self.db, match, [event]):
            outbox.flush(self.db[storage.MATCHES], match_id, self.dispatch)
            self._refresh_volunteers([volunteer["_id"]])
        return self._view(match_id)

    # ---- the author's side: invite, confirm, reject

    @rpc(expected_exceptions=DomainError)
    def invite_volunteer(self, viewer, request_id, payload):
        """The author asks a volunteer found in the directory; it reaches them as a proposal."""
        viewer = trusted_viewer(viewer)
        request_id = load_or_fail(RequestId(), {"request_id": request_id})["request_id"]
        volunteer_id = load_or_fail(Invitation(), payload)["volunteer_id"]
        request = storage.request(self.db, request_id)
        if request is None or request["author_id"] != viewer["account_id"]:
            raise NotFound("No such request of yours.")
        lifecycle.check_open(request)
        if request.get("taken_by"):
            raise Conflict("You have already confirmed a helper for this request.", {"request": "Already taken."})
        volunteer = storage.volunteer(self.db, volunteer_id)
        if volunteer is None or volunteer.get("role") != "volunteer" or volunteer.get("status") != "active":
            # Only someone active and listed in the directory: anyone else is "not there".
            raise NotFound("No such volunteer in the directory.", {"volunteer_id": "Not in the directory."})
        lifecycle.check_may_help(request, volunteer)
        match_id = storage.match_id(request_id, volunteer_id)
        existing = storage.match(self.db, match_id)
        if existing is not None:
            if existing["status"] in lifecycle.PENDING + ("confirmed",):
                return self._view(match_id)
            raise Conflict(f"This volunteer was already asked about this request (it is {existing['status']}).",
                           {"volunteer_id": existing["status"]})
        if not scoring.has_room(volunteer):
            raise Conflict("This volunteer has no room for more requests right now.",
                           {"volunteer_id": "No room."})
        value, reasons = scoring.score(request, volunteer)
        self._propose(request, [(volunteer, value, reasons)], origin="invitation")
        return self._view(match_id)

    @rpc(expected_exceptions=DomainError)
    def confirm_match(self, viewer, match_id):
        """The author's yes: the request is taken by this helper, the channel opens (notify), a
        private request's text becomes theirs to read (requests), every other pending match goes."""
        match = self._match_for(trusted_viewer(viewer), match_id, lifecycle.check_decidable)
        if match["status"] == "confirmed":
            return self._author_view(match)
        lifecycle.check_transition(match, "confirmed")
        request = storage.request(self.db, match["request_id"])
        lifecycle.check_can_confirm(match, request)
        lifecycle.check_may_help(request, storage.volunteer(self.db, match["volunteer_id"]))
        if not storage.take_request(self.db, match["request_id"], match["_id"]):
            raise Conflict("You have already confirmed another helper for this request.",
                           {"request": "Already taken."})
        if not self._move(match, "confirmed", decided_at=utcnow(), active=True):
            # Withdrawn meanwhile (the volunteer left, say): give the request back, or it would
            # stay taken by nobody, never proposed or confirmed again.
            storage.release_request(self.db, match["request_id"], match["_id"])
            raise Conflict("This volunteer's offer changed meanwhile; look again.", {"status": "Changed."})
        others = [m for m in storage.pending_matches(self.db, request_id=match["request_id"])
                  if m["_id"] != match["_id"]]
        for other in others:
            self._move(other, "withdrawn")
        self._refresh_volunteers([match["volunteer_id"]] + [m["volunteer_id"] for m in others])
        return self._author_view(storage.match(self.db, match["_id"]))

    @rpc(expected_exceptions=DomainError)
    def reject_match(self, viewer, match_id):
        """The author's no: the volunteer is thanked, the next candidate is asked."""
        match = self._match_for(trusted_viewer(viewer), match_id, lifecycle.check_decidable)
        if match["status"] == "rejected":
            return self._author_view(match)
        lifecycle.check_transition(match, "rejected")
        if not self._move(match, "rejected", decided_at=utcnow(), active=False):
            raise Conflict("This volunteer's offer changed meanwhile; look again.", {"status": "Changed."})
        self._refresh_volunteers([match["volunteer_id"]])
        self._top_up(storage.request(self.db, match["request_id"]))
        return self._author_view(storage.match(self.db, match["_id"]))

    def _author_view(self, match):
        """A match as its request's author sees it: who the volunteer is, once they said yes."""
        said_yes = match["status"] in ("accepted", "confirmed", "rejected") or match.get("answered_at")
        volunteer = storage.volunteer(self.db, match["volunteer_id"]) if said_yes else None
        return lifecycle.view(match, storage.request(self.db, match["request_id"]), volunteer)

    @rpc(expected_exceptions=DomainError)
    def list_matches(self, viewer):
        """A volunteer's proposals and offers (with each request's summary, never a private text);
        an author's matches, with what they need to decide on each volunteer who said yes."""
        viewer = trusted_viewer(viewer)
        if viewer["role"] == "volunteer":
            requests = {}
            out = []
            for match in storage.matches_for(self.db, "volunteer_id", viewer["account_id"]):
                if match["request_id"] not in requests:
                    requests[match["request_id"]] = storage.request(self.db, match["request_id"])
                out.append(lifecycle.view(match, requests[match["request_id"]]))
            return out
        return [self._author_view(m) for m in storage.matches_for(self.db, "author_id", viewer["account_id"])]

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
