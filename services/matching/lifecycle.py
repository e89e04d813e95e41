"""The life of a match, and who may do what with it: plain rules, no I/O.

    proposed -> accepted (the volunteer says yes) -> confirmed (the author says yes) | rejected
    proposed -> declined | expired | withdrawn;  accepted -> withdrawn
    confirmed -> ended (the author ends the helper's access, or the helper no longer has the
                 standing the request needs: verification, an active account)

Nobody reaches an activist on their own say-so (DESIGN, "Trust"): a volunteer's yes only offers
help; the request is taken, and the private channel opens, when its author confirms that helper.
Each open request keeps up to k volunteers in play: asked (`proposed`), or said yes and awaiting
the author (`accepted`). A decline, an expiry, a withdrawal or the author's rejection frees a place
that the next best candidate takes, so proposals keep flowing until the author confirms someone,
without asking more people than the author can choose among (each one asked learns of the need).
Confirming one withdraws every other open proposal and waiting yes. A volunteer can also offer help on a request they found (it starts
`accepted`), and an author can invite a volunteer from the directory (it starts `proposed`).
A request, its author or a volunteer that stops fitting withdraws the open and waiting matches.
"""
from datetime import timedelta

from services.common.store import due
from services.common.errors import Conflict, Forbidden, NotFound

from . import scoring

TRANSITIONS = {
    "proposed": {"accepted", "declined", "expired", "withdrawn"},
    "accepted": {"confirmed", "rejected", "withdrawn"},
    "confirmed": {"ended"},
    "ended": set(),
    "rejected": set(),
    "declined": set(),
    "expired": set(),
    "withdrawn": set(),
}
EVENT_OF = {"accepted": "match_accepted", "confirmed": "match_confirmed", "rejected": "match_rejected",
            "declined": "match_declined", "expired": "match_expired", "withdrawn": "match_withdrawn",
            "proposed": "match_proposed", "ended": "match_ended"}
# Still in play: a proposal awaiting the volunteer, or a yes awaiting the author.
PENDING = ("proposed", "accepted")
# `version`: what the author's signed decision names (the gateway reads it before signing).
VIEW_FIELDS = ("request_id", "status", "score", "reasons", "version")
# What a volunteer sees of a request through a match before the author confirms them: enough to
# decide, never the title or text of a request that is not public.
REQUEST_SUMMARY = ("skills", "languages", "country", "urgency", "visibility")
# What an author sees of a volunteer who said yes, to decide whether to trust them.
VOLUNTEER_SUMMARY = ("handle", "verified", "skills", "languages", "countries", "bio")


def check_transition(match, target):
    if target not in TRANSITIONS[match["status"]]:
        raise Conflict(f"This match is {match['status']}; it cannot become {target}.",
                       {"status": f"Cannot go from {match['status']} to {target}."})


def proposable(request):
    """Whether a request (read model) should have open proposals."""
    return (request is not None and request.get("status") == "open" and not request.get("hidden")
            and not request.get("taken_by"))


def check_answerable(match, viewer):
    """Only the proposed volunteer answers a proposal. Anyone else learns nothing of it, except
    the author of the request, who is told it is not theirs to answer."""
    if match is None:
        raise NotFound("No such match.")
    if viewer["account_id"] == match["volunteer_id"]:
        return
    if viewer["account_id"] == match["author_id"]:
        raise Forbidden("Only the volunteer it was proposed to can answer a proposal.")
    raise NotFound("No such match.")


def check_decidable(match, viewer):
    """Only the request's author confirms or rejects a helper; the volunteer is told it is not
    theirs to decide, anyone else learns nothing."""
    if match is None:
        raise NotFound("No such match.")
    if viewer["account_id"] == match["author_id"]:
        return
    if viewer["account_id"] == match["volunteer_id"]:
        raise Forbidden("Only the author of the request can confirm or reject a helper.")
    raise NotFound("No such match.")


def check_open(request):
    if request is None or request.get("status") != "open" or request.get("hidden"):
        raise Conflict("This request is no longer open.", {"request": "Not open."})


def check_can_accept(request, volunteer):
    """Before a volunteer's yes (an accept or an offer): the request open and not taken, the
    volunteer still eligible for it and with room."""
    check_open(request)
    if request.get("taken_by"):
        raise Conflict("The author has already chosen a helper for this request.", {"request": "Already taken."})
    check_may_help(request, volunteer)
    if volunteer.get("active_matches", 0) >= volunteer.get("max_active_matches", 0):
        raise Conflict("You already help with as many requests as your profile allows.",
                       {"max_active_matches": "Reached."})


def check_may_help(request, volunteer):
    """The standing a volunteer needs for this request: active, and verified where it must be."""
    if volunteer is None or volunteer.get("status") != "active" or volunteer.get("role") != "volunteer":
        raise Forbidden("Only active volunteers can help with requests.")
    if scoring.needs_verified(request) and not volunteer.get("verified"):
        raise Forbidden("Only volunteers verified by a moderator can help with this request.",
                        {"verified": "A moderator has not verified this volunteer."})


def may_help(request, volunteer):
    """Whether a volunteer still has the standing a request needs (`check_may_help`)."""
    try:
        check_may_help(request, volunteer)
    except Forbidden:
        return False
    return True


def check_can_confirm(match, request):
    """Before an author's yes: the match is a volunteer's yes, the request still open and not taken
    by another helper."""
    check_open(request)
    if request.get("taken_by") not in (None, match["_id"]):
        raise Conflict("You have already confirmed another helper for this request.", {"request": "Already taken."})


def new_match(match_id, request, volunteer_id, value, reasons, now, expiry_s, origin="matching"):
    """A proposal: `origin` is who started it, matching or the author's invitation."""
    expires_at = now + timedelta(seconds=expiry_s)
    return {
        "_id": match_id,
        "request_id": request["_id"],
        "volunteer_id": volunteer_id,
        "author_id": request["author_id"],
        "status": "proposed",
        "origin": origin,
        "score": value,
        "reasons": reasons,
        "proposed_at": now,
        "expires_at": expires_at,
        "expires_slot": due.slot(expires_at),
        "version": 1,
    }


def new_offer(match_id, request, volunteer_id, value, reasons, now):
    """A volunteer's offer on a request they found: their yes is given, the author's is awaited.
    It does not expire (the author may take days); closing the request withdraws it."""
    return {
        "_id": match_id,
        "request_id": request["_id"],
        "volunteer_id": volunteer_id,
        "author_id": request["author_id"],
        "status": "accepted",
        "origin": "offer",
        "score": value,
        "reasons": reasons,
        "proposed_at": now,
        "answered_at": now,
        "active": True,
        "version": 1,
    }


def event_data(match):
    """The match as the contract lets it travel: never a decline reason; the author's signed
    decision once they confirmed."""
    data = {"match_id": match["_id"], "request_id": match["request_id"], "volunteer_id": match["volunteer_id"],
            "author_id": match["author_id"], "status": match["status"], "score": match["score"],
            "reasons": match["reasons"], "proposed_at": match["proposed_at"], "version": match["version"]}
    if match.get("author_decision"):
        data["author_decision"] = match["author_decision"]
    if match.get("ended_by"):
        data["ended_by"] = match["ended_by"]
    return data


def after(match, target, **changes):
    """The match as it will be once moved to `target` (for its event)."""
    return dict(match, status=target, version=match["version"] + 1, **changes)


def said_yes(match):
    """Whether the volunteer said yes to this match (an offer is a yes; a yes later withdrawn or
    rejected still was one; a decline is an answer, not a yes): only then may the author know who
    they are."""
    status = match["status"]
    return status in ("accepted", "confirmed", "rejected", "ended") or (
        status == "withdrawn" and bool(match.get("answered_at")))


def anonymous_view(match):
    """A question still waiting for a volunteer, as the request's author sees it: that it was
    asked and when it expires, not whom (no match id either: it is derived from the volunteer)."""
    return {"request_id": match["request_id"], "status": match["status"],
            "proposed_at": match["proposed_at"].isoformat(),
            "expires_at": match["expires_at"].isoformat() if match.get("expires_at") else None}


def view(match, request=None, volunteer=None):
    """What a person sees of a match: never the decline reason. With `request` (matching's read
    model), the request's summary; with `volunteer`, what the author needs to decide on them."""
    out = {key: match[key] for key in VIEW_FIELDS}
    out.update(id=match["_id"], volunteer_id=match["volunteer_id"], origin=match.get("origin", "matching"),
               proposed_at=match["proposed_at"].isoformat(),
               expires_at=match["expires_at"].isoformat() if match.get("expires_at") else None,
               answered_at=match["answered_at"].isoformat() if match.get("answered_at") else None,
               decided_at=match["decided_at"].isoformat() if match.get("decided_at") else None)
    if request is not None:
        out["request"] = {key: request.get(key) for key in REQUEST_SUMMARY}
    if volunteer is not None:
        stats = volunteer.get("stats") or {}
        out["volunteer"] = dict({key: volunteer.get(key) for key in VOLUNTEER_SUMMARY},
                                helped=stats.get("confirmed", 0), declined=stats.get("declined", 0))
    return out


def load_of(matches):
    """A volunteer's load and history, from all their matches: the read model's source of truth.

    Load: open proposals, and active matches (a yes awaiting the author counts: the volunteer has
    committed to it). History: `accepted` counts the proposals the volunteer said yes to (whatever
    the author then decided), `confirmed` the requests they were chosen for (helped with)."""
    stats = {"accepted": 0, "confirmed": 0, "rejected": 0, "declined": 0, "expired": 0, "answer_seconds": 0}
    open_proposals = active = 0
    for match in matches:
        status = match["status"]
        if status == "proposed":
            open_proposals += 1
            continue
        if said_yes(match) and match.get("origin") != "offer":  # an offer answers no proposal
            stats["accepted"] += 1
        if status in ("confirmed", "rejected", "declined", "expired"):
            stats[status] += 1
        if status in ("accepted", "confirmed") and match.get("active", True):
            active += 1
        if status != "expired" and match.get("answered_at") and match.get("origin") != "offer":
            stats["answer_seconds"] += int((match["answered_at"] - match["proposed_at"]).total_seconds())
    return {"open_proposals": open_proposals, "active_matches": active, "stats": stats}


def still_fits(match, request, volunteer):
    """Whether a pending match stays valid after a change to its request or volunteer. A match
    the volunteer or the author chose (an offer, an invitation) need not fit the skills and
    languages, only keep the standing the request needs; one matching proposed must fit."""
    if request is None or volunteer is None:
        return False
    if match.get("origin") in ("offer", "invitation"):
        try:
            check_may_help(request, volunteer)
        except Forbidden:
            return False
        return volunteer["_id"] != request["author_id"]
    return scoring.fits(request, volunteer)


def no_longer_fitting(request, pending, volunteers):
    """The pending matches of an edited request whose volunteer no longer fits it."""
    return [match for match in pending if not still_fits(match, request, volunteers.get(match["volunteer_id"]))]
