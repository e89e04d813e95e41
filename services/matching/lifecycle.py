"""The life of a proposal, and who may do what with it: plain rules, no I/O.

    proposed -> accepted | declined | expired | withdrawn

A proposal is *open* while `proposed`. Each open request keeps up to k open proposals; a decline,
an expiry or a withdrawal frees a place that the next best candidate takes. The first accept takes
the request: the other open proposals for it are withdrawn, and nobody else can accept it.
A request, its author or a volunteer that stops fitting withdraws the open proposals concerned.
"""
from datetime import timedelta

from services.common import due
from services.common.errors import Conflict, Forbidden, NotFound

from . import scoring

TRANSITIONS = {
    "proposed": {"accepted", "declined", "expired", "withdrawn"},
    "accepted": set(),
    "declined": set(),
    "expired": set(),
    "withdrawn": set(),
}
EVENT_OF = {"accepted": "match_accepted", "declined": "match_declined", "expired": "match_expired",
            "withdrawn": "match_withdrawn", "proposed": "match_proposed"}
VIEW_FIELDS = ("request_id", "status", "score", "reasons")


def check_transition(match, target):
    if target not in TRANSITIONS[match["status"]]:
        raise Conflict(f"This proposal is {match['status']}; it cannot become {target}.",
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


def check_can_take(match, request, volunteer):
    """Before an accept: the request must still be open and not taken, the volunteer must have room."""
    if request is None or request.get("status") != "open" or request.get("hidden"):
        raise Conflict("This request is no longer open.", {"request": "Not open."})
    if request.get("taken_by") not in (None, match["_id"]):
        raise Conflict("Another volunteer has already taken this request.", {"request": "Already taken."})
    if volunteer is not None and volunteer.get("active_matches", 0) >= volunteer.get("max_active_matches", 0):
        raise Conflict("You already help with as many requests as your profile allows.",
                       {"max_active_matches": "Reached."})


def new_match(match_id, request, volunteer_id, value, reasons, now, expiry_s):
    expires_at = now + timedelta(seconds=expiry_s)
    return {
        "_id": match_id,
        "request_id": request["_id"],
        "volunteer_id": volunteer_id,
        "author_id": request["author_id"],
        "status": "proposed",
        "score": value,
        "reasons": reasons,
        "proposed_at": now,
        "expires_at": expires_at,
        "expires_slot": due.slot(expires_at),
        "version": 1,
    }


def event_data(match):
    """The match as the contract lets it travel: never a decline reason."""
    return {"match_id": match["_id"], "request_id": match["request_id"], "volunteer_id": match["volunteer_id"],
            "author_id": match["author_id"], "status": match["status"], "score": match["score"],
            "reasons": match["reasons"], "proposed_at": match["proposed_at"], "version": match["version"]}


def after(match, target, **changes):
    """The match as it will be once moved to `target` (for its event)."""
    return dict(match, status=target, version=match["version"] + 1, **changes)


def view(match):
    """What a person sees of a match: never the decline reason."""
    out = {key: match[key] for key in VIEW_FIELDS}
    out.update(id=match["_id"], volunteer_id=match["volunteer_id"], proposed_at=match["proposed_at"].isoformat(),
               expires_at=match["expires_at"].isoformat() if match.get("expires_at") else None,
               answered_at=match["answered_at"].isoformat() if match.get("answered_at") else None)
    return out


def load_of(matches):
    """A volunteer's load and history, from all their matches: the read model's source of truth."""
    stats = {"accepted": 0, "declined": 0, "expired": 0, "answer_seconds": 0}
    open_proposals = active = 0
    for match in matches:
        status = match["status"]
        if status == "proposed":
            open_proposals += 1
        elif status in ("accepted", "declined", "expired"):
            stats[status] += 1
            if status == "accepted" and match.get("active", True):
                active += 1
            if status != "expired" and match.get("answered_at"):
                stats["answer_seconds"] += int((match["answered_at"] - match["proposed_at"]).total_seconds())
    return {"open_proposals": open_proposals, "active_matches": active, "stats": stats}


def no_longer_fitting(request, open_matches, volunteers):
    """The open proposals of an edited request whose volunteer no longer fits it."""
    return [match for match in open_matches
            if volunteers.get(match["volunteer_id"]) is None
            or not scoring.fits(request, volunteers[match["volunteer_id"]])]
