"""Matching's workflow as plain code: propose, accept, decline, offer, invite, confirm, reject,
expire, and keeping the read models of volunteers and requests, over an injected MatchStore
(services/matching/store.py) and candidate index. No nameko, no I/O of its own: the service
(service.py) is a thin adapter, and tests run this against an in-memory store in milliseconds
(tests/test_workflow.py) as well as against the real servers.

The rules themselves live in scoring.py (who fits, how well) and lifecycle.py (what may happen
to a match); this module applies them in order. Viewers arrive already trusted (their signature
checked by the service).
"""
from datetime import datetime, timedelta

from services.common.errors import Conflict, Forbidden, NotFound, TooManyRequests
from services.common.bus.events import make_event, utcnow
from services.common.bus.readmodel import CREATED
from services.common.schemas import Paging, load_or_fail
from services.common.trust.keyring import keyring

from . import lifecycle, scoring
from .store import PROFILE_FIELDS
from .store import match_id as match_id_for
from .schemas import DeclineInput, Invitation, MatchId, RequestId

SOURCE = "matching"
REQUEST_FIELDS = ("author_id", "skills", "languages", "country", "urgency", "visibility", "verified_only",
                  "status", "hidden", "created_at")
DEFAULT_EXPIRY_S = 72 * 3600
REMATCH_PAGE = 20  # requests read per skill on a volunteer event
URGENCY_ORDER = {"critical": 0, "high": 1, "normal": 2, "low": 3}
# What decides whether a volunteer still fits their pending matches (scoring.fits, check_may_help).
FIT_FIELDS = ("role", "status", "skills", "languages", "verified")
BATCH_ITEM_FIELDS = ("match_id", "volunteer_id", "status", "score", "reasons", "version")


def _batch_event(matches):
    """`matches_proposed` for the matches one top-up proposed for one request."""
    items = [lifecycle.event_data(m) for m in matches]
    return make_event(SOURCE, "matches_proposed", {
        "request_id": items[0]["request_id"], "author_id": items[0]["author_id"],
        "proposed_at": items[0]["proposed_at"],
        "matches": [{key: item[key] for key in BATCH_ITEM_FIELDS} for item in items]})


def _most_urgent_first(request):
    return URGENCY_ORDER.get(request.get("urgency"), 2), str(request.get("created_at") or "")


class Matchmaker:
    def __init__(self, store, index, top_k=5, expiry_s=DEFAULT_EXPIRY_S, invitations_a_day=20):
        self.store, self.index, self.top_k, self.expiry_s = store, index, top_k, expiry_s
        self.invitations_a_day = invitations_a_day

    # ---- volunteers, from profile events

    def profile_changed(self, data):
        """profile_registered, profile_updated, profile_deactivated."""
        before = self.store.volunteer(data["profile_id"])
        if data["role"] != "volunteer" and before is None:
            return
        fields_ = {key: data[key] for key in PROFILE_FIELDS}
        # What follows runs even when this version is already stored: a first delivery may have
        # stored it and then died (the database went away) before the rest was done. Each step
        # works from what is stored now, so running it again, or for an older event, is harmless.
        applied = self.store.remember_profile(data["profile_id"], fields_, data["version"])
        volunteer = self.store.refresh_load(data["profile_id"])
        if volunteer is None:  # deleted meanwhile
            return
        # Proposals and yeses they no longer fit (suspended, deactivated, unverified, skills or
        # languages changed) go. An edit of nothing that decides fit (a bio, hours, capacity)
        # re-checks none of them, saving a read per pending match; only when this delivery is
        # the one that stored the change, so a redelivery after a crash checks them all.
        unchanged = bool(applied) and before is not None and all(
            before.get(key) == fields_[key] for key in FIT_FIELDS)
        touched = set()
        for match in () if unchanged else self.store.pending_matches(volunteer_id=volunteer["_id"]):
            request = self.store.request(match["request_id"])
            if not lifecycle.still_fits(match, request, volunteer):
                if self._move(match, "withdrawn"):
                    touched.add(match["request_id"])
        # And the helpers' access they no longer have the standing for (verification lost, a
        # suspension): the channel closes and a private text is theirs no more (requests, notify).
        # Read only when this event takes standing away (or is a redelivery, which may follow a
        # crash before this step): a sign-up or an everyday edit reads nothing more.
        lost_standing = not applied or (before is not None and (
            (before.get("verified") and not fields_["verified"])
            or (before.get("status") == "active" and fields_["status"] != "active")
            or (before.get("role") == "volunteer" and fields_["role"] != "volunteer")))
        for match in self.store.confirmed_matches(volunteer["_id"]) if lost_standing else ():
            if not lifecycle.may_help(self.store.request(match["request_id"]), volunteer):
                if self._end(match, "standing"):
                    touched.add(match["request_id"])
        if touched:
            volunteer = self.store.refresh_load(volunteer["_id"])
        self.index.put(volunteer)
        for request_id in touched:
            self._top_up(self.store.request(request_id))
        # A volunteer who joins or gains skills should see the open needs they fit, not only
        # the ones posted after them.
        self.rematch_volunteer(volunteer)

    def profile_deleted(self, data):
        profile_id = data["profile_id"]
        self.index.remove(profile_id)
        touched = [m["request_id"] for m in self.store.pending_matches(volunteer_id=profile_id)
                   if self._move(m, "withdrawn")]
        self.store.forget_volunteer_matches(profile_id)
        self.store.forget_profile(profile_id, data["version"])
        # An author: their requests are closed by the requests service (request_closed withdraws
        # what is pending); here their id goes from every copy.
        self.store.forget_author(profile_id)
        for request_id in touched:
            self._top_up(self.store.request(request_id))

    def rematch_volunteer(self, volunteer):
        """Propose the open requests a volunteer fits, most urgent first, while they have room.

        Only requests still wanting someone with one of their skills are read, a bounded page per
        skill (`REMATCH_PAGE`): the needs that already hold their k (most of them, where needs wait
        days for an answer) are not in that set, so a sign-up or a profile edit costs the same
        whether 100 or 10,000 needs are open. It used to walk every open need and count each one's
        matches: ~9 s of the store per volunteer event with ~750 open needs."""
        if volunteer is None or volunteer.get("status") != "active" or volunteer.get("role") != "volunteer":
            return
        if not scoring.has_room(volunteer):
            return
        found = {}
        for skill in volunteer["skills"]:
            for request in self.store.requests_wanting(skill, REMATCH_PAGE):
                found[request["_id"]] = request
        for request in sorted(found.values(), key=_most_urgent_first):
            if not scoring.has_room(volunteer):
                return
            in_play = request.get("in_play", 0)
            if (not lifecycle.proposable(request) or in_play >= self.top_k
                    or volunteer["_id"] in request.get("asked", ()) or not scoring.fits(request, volunteer)):
                continue
            value, reasons = scoring.score(request, volunteer)
            volunteer = self._propose(request, [(volunteer, value, reasons)], in_play=in_play).get(
                volunteer["_id"], volunteer)

    # ---- requests, from request events

    def _remember_request(self, data):
        """Store this version if it is newer; return the request as stored now. The caller's
        follow-up runs either way, from the stored state: a first delivery may have stored the
        version and died before its proposals or withdrawals were made (the database went away),
        and skipping them on redelivery left a need that nobody was ever proposed for."""
        request = {key: data.get(key) for key in REQUEST_FIELDS}
        self.store.remember_request(data["request_id"], request, data["version"])
        return self.store.request(data["request_id"])

    def request_created(self, data):
        fields_ = {key: data.get(key) for key in REQUEST_FIELDS}
        if self.store.remember_request(data["request_id"], fields_, data["version"]) == CREATED:
            # Its first copy, made just now: no match can exist for it yet (an offer or an
            # invitation needs the copy first), so there is nothing to read back or count.
            request = dict(fields_, _id=data["request_id"], version=data["version"])
            if lifecycle.proposable(request):
                self._propose(request, self.index.top(request, self.top_k, set()), in_play=0)
            else:
                self._note_wants(request, 0)
            return
        # Stored before (a redelivery whose first try may have died midway) or newer already:
        # the follow-up runs from what is stored.
        self._top_up(self.store.request(data["request_id"]))

    def request_updated(self, data):
        request = self._remember_request(data)
        if request is None:
            return
        open_matches = self.store.pending_matches(request_id=request["_id"])
        if not lifecycle.proposable(request):
            leaving = open_matches
        else:
            found = self.store.volunteers([m["volunteer_id"] for m in open_matches])
            leaving = lifecycle.no_longer_fitting(request, open_matches, found)
        for match in leaving:
            self._move(match, "withdrawn")
        self._refresh_volunteers(m["volunteer_id"] for m in leaving)
        self._top_up(request)

    def request_closed(self, data):
        request = self._remember_request(data)
        if request is None:
            return
        leaving = self.store.pending_matches(request_id=request["_id"])
        for match in leaving:
            self._move(match, "withdrawn")
        self._note_wants(request, 0)
        helpers = self.store.finish_confirmed(request["_id"])
        self._refresh_volunteers([m["volunteer_id"] for m in leaving] + helpers)

    # ---- proposals

    def _top_up(self, request):
        """Bring an open request back to k volunteers in play (asked, or said yes and awaiting the
        author) with the best candidates not yet asked, and note on the request whether it still
        wants more (what a volunteer's sign-up reads)."""
        if request is None:
            return
        if not lifecycle.proposable(request):
            self._note_wants(request, request.get("in_play", 0))
            return
        in_play = self.store.count_in_play(request["_id"])
        wanted = self.top_k - in_play
        candidates = []
        if wanted > 0:
            candidates = self.index.top(request, wanted, self.store.proposed_volunteers(request["_id"]))
        self._propose(request, candidates, in_play=in_play)

    def _propose(self, request, candidates, origin="matching", in_play=None):
        """Propose `[(volunteer, score, reasons)]` for one request, in one batch of writes, count
        each in the volunteer's load, and note the request's new count in play (`in_play`: the
        count before these; None: count it afresh). Returns {volunteer id: volunteer as now stored}
        for the proposals that are new (not a redelivery's)."""
        now = utcnow()
        matches = [lifecycle.new_match(match_id_for(request["_id"], volunteer["_id"]), request,
                                       volunteer["_id"], value, reasons, now, self.expiry_s, origin)
                   for volunteer, value, reasons in candidates]
        # One act, one event: the batch travels once, and each match document carries it in its
        # outbox, so whichever of them a redelivery finds inserted still gets it out.
        batch = [_batch_event(matches)] if matches else []
        inserted = self.store.add_proposals(request["_id"], matches, {m["_id"]: batch for m in matches}) \
            if matches else set()
        new = [volunteer for (volunteer, _, _), match in zip(candidates, matches) if match["_id"] in inserted]
        stored = {}
        if new and self.store.count_proposals([v["_id"] for v in new]) == len(new):
            # Their load as now stored, without reading it back (one more open proposal each).
            for volunteer in new:
                stored[volunteer["_id"]] = dict(volunteer, open_proposals=volunteer.get("open_proposals", 0) + 1)
        elif new:  # someone was deleted meanwhile: ask the store who is still there
            found = self.store.volunteers([v["_id"] for v in new])
            stored = {v["_id"]: found[v["_id"]] for v in new if v["_id"] in found}
            for volunteer_id in {v["_id"] for v in new} - set(found):
                self.index.remove(volunteer_id)
        for volunteer in stored.values():
            self.index.put(volunteer)
        asked = [m["volunteer_id"] for m in matches]
        if in_play is None:
            self._settle_wants(request, asked)
        else:
            self._note_wants(request, in_play + len(inserted), asked)
        return stored

    def _note_wants(self, request, in_play, asked=()):
        """Write `in_play`, `wants` and `asked` on the request's copy, if they changed. A crash
        before this write leaves them stale only until the redelivered event's top-up writes them
        again (follow-up work runs on every delivery)."""
        wants = list(request.get("skills") or ()) if lifecycle.proposable(request) and in_play < self.top_k else []
        new_asked = [a for a in asked if a not in request.get("asked", ())]
        if (not new_asked and request.get("in_play") == in_play
                and sorted(request.get("wants", ())) == sorted(wants)):
            return
        self.store.note_wants(request["_id"], in_play, wants, new_asked)
        request.update(in_play=in_play, wants=wants, asked=list(request.get("asked", ())) + new_asked)

    def _settle_wants(self, request, asked=()):
        """Count the request's matches in play and note it (after an offer or an invitation, which
        may go beyond k)."""
        if request is not None:
            self._note_wants(request, self.store.count_in_play(request["_id"]), asked)

    def _move(self, match, target, **changes):
        """Move a match to `target` with its event; False if it had already moved."""
        lifecycle.check_transition(match, target)
        event = make_event(SOURCE, lifecycle.EVENT_OF[target],
                           lifecycle.event_data(lifecycle.after(match, target, **changes)))
        return self.store.move(match, target, changes, [event])

    def _refresh_volunteers(self, volunteer_ids):
        for volunteer_id in set(volunteer_ids):
            volunteer = self.store.refresh_load(volunteer_id)
            if volunteer is None:
                self.index.remove(volunteer_id)
            else:
                self.index.put(volunteer)

    def _match_for(self, viewer, match_id, check):
        """`viewer`: the claims of a viewer already trusted."""
        match_id = load_or_fail(MatchId(), {"match_id": match_id})["match_id"]
        match = self.store.match(match_id)
        check(match, viewer)
        return match

    def _view(self, match_id):
        match = self.store.match(match_id)
        return lifecycle.view(match, self.store.request(match["request_id"]))

    # ---- the volunteer's side: accept or decline a proposal, offer help

    def accept_match(self, viewer, match_id):
        """The volunteer's yes. It offers help; the author decides (`confirm_match`)."""
        match = self._match_for(viewer, match_id, lifecycle.check_answerable)
        if match["status"] == "accepted":
            return self._view(match["_id"])  # a repeated click changes nothing
        lifecycle.check_transition(match, "accepted")
        request = self.store.request(match["request_id"])
        lifecycle.check_can_accept(request, self.store.volunteer(match["volunteer_id"]))
        if not self._move(match, "accepted", answered_at=utcnow(), active=True):
            raise Conflict("This proposal changed meanwhile; look again.", {"status": "Changed."})
        self._refresh_volunteers([match["volunteer_id"]])
        return self._view(match["_id"])

    def decline_match(self, viewer, match_id, payload=None):
        match = self._match_for(viewer, match_id, lifecycle.check_answerable)
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
        self._top_up(self.store.request(match["request_id"]))
        return self._view(match["_id"])

    def offer_help(self, viewer, request_id):
        """A volunteer offers help with a request they found. It reaches the author as a yes to
        confirm or reject, exactly like an accepted proposal."""
        request_id = load_or_fail(RequestId(), {"request_id": request_id})["request_id"]
        if viewer["role"] != "volunteer":
            raise Forbidden("Only volunteers can offer help.")
        request = self.store.request(request_id)
        unreadable = (request is None or request.get("hidden") or request.get("visibility") == "private"
                      or (request.get("visibility") == "volunteers" and not viewer["verified"]))
        if unreadable:
            # What the volunteer cannot read they cannot offer on (and learn nothing of): a
            # private request is only ever proposed or invited.
            raise NotFound("No such request.")
        match_id = match_id_for(request_id, viewer["account_id"])
        existing = self.store.match(match_id)
        if existing is not None:
            if existing["status"] == "proposed":
                return self.accept_match(viewer, match_id)
            if existing["status"] in ("accepted", "confirmed"):
                return self._view(match_id)
            raise Conflict(f"You were already asked about this request (it is {existing['status']}).",
                           {"status": existing["status"]})
        volunteer = self.store.volunteer(viewer["account_id"])
        lifecycle.check_can_accept(request, volunteer)
        value, reasons = scoring.score(request, volunteer)
        match = lifecycle.new_offer(match_id, request, volunteer["_id"], value, reasons, utcnow())
        event = make_event(SOURCE, "match_accepted", lifecycle.event_data(match))
        if self.store.insert_match(match, [event]):
            self._refresh_volunteers([volunteer["_id"]])
            self._settle_wants(request, [volunteer["_id"]])
        return self._view(match_id)

    # ---- the author's side: invite, confirm, reject

    def invite_volunteer(self, viewer, request_id, payload):
        """The author asks a volunteer found in the directory; it reaches them as a proposal."""
        request_id = load_or_fail(RequestId(), {"request_id": request_id})["request_id"]
        volunteer_id = load_or_fail(Invitation(), payload)["volunteer_id"]
        request = self.store.request(request_id)
        if request is None or request["author_id"] != viewer["account_id"]:
            raise NotFound("No such request of yours.")
        lifecycle.check_open(request)
        if request.get("taken_by"):
            raise Conflict("You have already confirmed a helper for this request.", {"request": "Already taken."})
        volunteer = self.store.volunteer(volunteer_id)
        if volunteer is None or volunteer.get("role") != "volunteer" or volunteer.get("status") != "active":
            # Only someone active and listed in the directory: anyone else is "not there".
            raise NotFound("No such volunteer in the directory.", {"volunteer_id": "Not in the directory."})
        lifecycle.check_may_help(request, volunteer)
        match_id = match_id_for(request_id, volunteer_id)
        existing = self.store.match(match_id)
        if existing is not None:
            if existing["status"] in lifecycle.PENDING + ("confirmed",):
                return self._view(match_id)
            raise Conflict(f"This volunteer was already asked about this request (it is {existing['status']}).",
                           {"volunteer_id": existing["status"]})
        if not scoring.has_room(volunteer):
            raise Conflict("This volunteer has no room for more requests right now.",
                           {"volunteer_id": "No room."})
        # One account must not flood the volunteers it finds in the directory.
        invited = self.store.invitations_since(viewer["account_id"], utcnow() - timedelta(days=1))
        if invited >= self.invitations_a_day:
            raise TooManyRequests(f"You invited {self.invitations_a_day} volunteers in the last day, the most one "
                                  "account may; try again tomorrow.", {"volunteer_id": "Too many invitations today."})
        value, reasons = scoring.score(request, volunteer)
        self._propose(request, [(volunteer, value, reasons)], origin="invitation")
        return self._view(match_id)

    def confirm_match(self, viewer, match_id, decision=None):
        """The author's yes: the request is taken by this helper, the channel opens (notify), a
        private request's text becomes theirs to read (requests), every other pending match goes.
        `decision`: the author's yes, signed by the gateway (trust.sign_decision); it travels on
        `match_confirmed`, and requests and notify grant nothing without it."""
        match = self._match_for(viewer, match_id, lifecycle.check_decidable)
        if match["status"] == "confirmed":
            return self._author_view(match)
        lifecycle.check_transition(match, "confirmed")
        request = self.store.request(match["request_id"])
        lifecycle.check_can_confirm(match, request)
        lifecycle.check_may_help(request, self.store.volunteer(match["volunteer_id"]))
        if keyring().verify_decision(decision, match["_id"], viewer["account_id"])["version"] != match["version"]:
            raise Conflict("This volunteer's offer changed meanwhile; look again.", {"status": "Changed."})
        if not self.store.take_request(match["request_id"], match["_id"]):
            raise Conflict("You have already confirmed another helper for this request.",
                           {"request": "Already taken."})
        if not self._move(match, "confirmed", decided_at=utcnow(), active=True, author_decision=decision):
            # Withdrawn meanwhile (the volunteer left, say): give the request back, or it would
            # stay taken by nobody, never proposed or confirmed again.
            self.store.release_request(match["request_id"], match["_id"])
            raise Conflict("This volunteer's offer changed meanwhile; look again.", {"status": "Changed."})
        others = [m for m in self.store.pending_matches(request_id=match["request_id"])
                  if m["_id"] != match["_id"]]
        for other in others:
            self._move(other, "withdrawn")
        self._refresh_volunteers([match["volunteer_id"]] + [m["volunteer_id"] for m in others])
        self._top_up(self.store.request(match["request_id"]))  # taken: it wants nobody now
        return self._author_view(self.store.match(match["_id"]))

    def end_match(self, viewer, match_id):
        """The author ends a confirmed helper's access: the channel closes (notify), a private
        request's text is theirs no more (requests), and the need is open again (matching
        proposes others). Only the author may; the helper is told it is not theirs to end."""
        match = self._match_for(viewer, match_id, lifecycle.check_decidable)
        if match["status"] != "ended":
            lifecycle.check_transition(match, "ended")
            if not self._end(match, "author"):
                raise Conflict("This match changed meanwhile; look again.", {"status": "Changed."})
        return self._author_view(self.store.match(match["_id"]))

    def _end(self, match, ended_by):
        """End a confirmed match; give the request back so that it can be proposed again."""
        if not self._move(match, "ended", ended_at=utcnow(), ended_by=ended_by, active=False):
            return False
        self.store.release_request(match["request_id"], match["_id"])
        self._refresh_volunteers([match["volunteer_id"]])
        return True

    def reject_match(self, viewer, match_id):
        """The author's no: the volunteer is thanked, the next candidate is asked."""
        match = self._match_for(viewer, match_id, lifecycle.check_decidable)
        if match["status"] == "rejected":
            return self._author_view(match)
        lifecycle.check_transition(match, "rejected")
        if not self._move(match, "rejected", decided_at=utcnow(), active=False):
            raise Conflict("This volunteer's offer changed meanwhile; look again.", {"status": "Changed."})
        self._refresh_volunteers([match["volunteer_id"]])
        self._top_up(self.store.request(match["request_id"]))
        return self._author_view(self.store.match(match["_id"]))

    def _author_view(self, match):
        """A match as its request's author sees it, once its volunteer said yes: who they are and
        what the author needs to decide. Before (and unless) they said yes, the author sees only
        that someone was asked and when the question expires; never who, nor who declined or let
        it expire (a honeypot request must not map who was asked and who refused)."""
        if not lifecycle.said_yes(match):
            if match["status"] != "proposed":
                return None
            return lifecycle.anonymous_view(match)
        volunteer = self.store.volunteer(match["volunteer_id"])
        return lifecycle.view(match, self.store.request(match["request_id"]), volunteer)

    def list_matches(self, viewer, limit=50, before=None):
        """A page of matches, newest first: {items, next?} (`next`: pass as `before`). A volunteer's
        proposals and offers (with each request's summary, never a private text); an author's
        matches: each volunteer who said yes with what the author needs to decide, and the
        questions still waiting, without anyone's identity (so an author's page may hold fewer
        items than `limit`, and the cursor names no match)."""
        paging = load_or_fail(Paging(), {"limit": limit, "before": before})
        after = _read_cursor(paging["before"])
        if after is PAST_THE_END:
            return {"items": []}
        field = "volunteer_id" if viewer["role"] == "volunteer" else "author_id"
        found, more = self.store.matches_for(field, viewer["account_id"], paging["limit"], after)
        if field == "volunteer_id":
            requests = {}
            items = []
            for match in found:
                if match["request_id"] not in requests:
                    requests[match["request_id"]] = self.store.request(match["request_id"])
                items.append(lifecycle.view(match, requests[match["request_id"]]))
        else:
            items = [view for view in (self._author_view(m) for m in found) if view is not None]
        page = {"items": items}
        if more:
            page["next"] = _cursor_after(found, after)
        return page

    def get_match(self, viewer, match_id):
        """One match as `list_matches` shows it, to its volunteer, or to its request's author once
        the volunteer said yes; to anyone else it does not exist."""
        match_id = load_or_fail(MatchId(), {"match_id": match_id})["match_id"]
        match = self.store.match(match_id)
        if match is not None and viewer["role"] == "volunteer" and match["volunteer_id"] == viewer["account_id"]:
            return lifecycle.view(match, self.store.request(match["request_id"]))
        if (match is not None and viewer["role"] != "volunteer" and match.get("author_id") == viewer["account_id"]
                and lifecycle.said_yes(match)):
            return self._author_view(match)
        raise NotFound("No such match of yours.")

    # ---- timers

    def expire_due(self, now):
        """Proposals nobody answered in time expire; the next candidate is proposed. Reads only
        what is due, from the timer's checkpoint on: a process that was down catches up."""
        return self.store.walk_due_matches(now, self._expire)

    def _expire(self, matches):
        for match in matches:
            if self._move(match, "expired"):
                self._refresh_volunteers([match["volunteer_id"]])
                self._top_up(self.store.request(match["request_id"]))


def _cursor_after(found, after):
    """Where a page of matches ended, as `before` for the next: the time of its last match and how
    many matches of that time were shown so far (several share one time: a top-up's)."""
    last = found[-1]["proposed_at"]
    shown = sum(1 for m in found if m["proposed_at"] == last)
    if after is not None and after[0] == last and all(m["proposed_at"] == last for m in found):
        shown += after[1]
    return f"{last.isoformat()}~{shown}"


def _read_cursor(before):
    """(time, count) from a `next` this list gave; an unreadable one is a cursor past the end
    (as an unknown id is for the other lists: an empty page)."""
    if before is None:
        return None
    try:
        at, shown = before.rsplit("~", 1)
        at, shown = datetime.fromisoformat(at), int(shown)
    except ValueError:
        return PAST_THE_END
    return (at, shown) if at.tzinfo is not None and shown >= 0 else PAST_THE_END


PAST_THE_END = "past the end"
