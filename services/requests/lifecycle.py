"""The request lifecycle and who may see a request: plain rules, no I/O.

open -> matched (the author confirmed a helper) -> fulfilled | closed;  open -> withdrawn | closed.
"""
from services.common.errors import Conflict

TRANSITIONS = {
    "open": {"matched", "withdrawn", "closed"},
    "matched": {"fulfilled", "closed", "open"},  # back to open if the volunteer steps away
    "fulfilled": set(),
    "closed": set(),
    "withdrawn": set(),
}


def check_transition(current, target):
    if target not in TRANSITIONS.get(current, set()):
        raise Conflict(f"A request that is {current} cannot become {target}.",
                       {"status": f"Cannot go from {current} to {target}."})


def can_view(request, viewer):
    """`viewer` is None for an anonymous reader."""
    if viewer and (viewer["account_id"] == request["author_id"] or viewer["role"] == "moderator"):
        return True
    if request.get("hidden") or request.get("held"):
        # Hidden by a moderator, or held while its campaign is paused: only its author and moderators.
        return False
    if request["visibility"] == "public":
        return True
    if request["visibility"] == "volunteers":
        # A self-registered stranger is not enough: a moderator must have vetted them.
        return viewer is not None and viewer["role"] == "volunteer" and bool(viewer.get("verified"))
    # private: the author, moderators, and the helper the author confirmed.
    return viewer is not None and viewer["account_id"] in request.get("helper_ids", [])


def event_data(request):
    """The request as the contract lets it travel: a private request's text stays home."""
    private = request["visibility"] == "private"
    return {
        "request_id": request["_id"],
        "author_id": request["author_id"],
        "title": None if private else request["title"],
        "body": None if private else request["body"],
        "skills": request["skills"],
        "languages": request["languages"],
        "country": request["country"],
        "urgency": request["urgency"],
        "visibility": request["visibility"],
        "status": request["status"],
        # Out of search, proposals and webhooks: hidden by a moderator or held by its campaign's pause.
        "hidden": bool(request.get("hidden") or request.get("held")),
        "held": bool(request.get("held")),
        "verified_only": request.get("verified_only", False),
        "created_at": request["created_at"],
        "version": request["version"],
    }


def is_author(request, viewer):
    return viewer is not None and viewer["account_id"] == request["author_id"]


def check_editable(request):
    if request["status"] != "open":
        raise Conflict(f"A request that is {request['status']} cannot be edited.",
                       {"status": "Only open requests can be edited."})


def text_withheld_from(request, viewer):
    """Whether `viewer` may see this request only as metadata, unless a flag on it is open: a
    moderator who is neither its author nor its helper, on a private request (its text is promised
    to the author and the confirmed helper; a moderator reads it only to judge a flag)."""
    return (request["visibility"] == "private" and viewer is not None and viewer["role"] == "moderator"
            and not is_author(request, viewer) and viewer["account_id"] not in request.get("helper_ids", []))


def public_view(request, viewer=None, text=True):
    """The request as the viewer may see it; its author and moderators also see moderation state.
    Without `text`, its title and body are withheld (text_withheld_from)."""
    view = {
        "id": request["_id"],
        "title": request["title"] if text else None,
        "body": request["body"] if text else None,
        "skills": request["skills"],
        "languages": request["languages"],
        "country": request["country"],
        "urgency": request["urgency"],
        "visibility": request["visibility"],
        "verified_only": request.get("verified_only", False),
        "status": request["status"],
        "created_at": request["created_at"].isoformat(),
        "updated_at": request["updated_at"].isoformat(),
    }
    if request.get("campaign_id") and viewer is not None and (
            is_author(request, viewer) or viewer["account_id"] in request.get("helper_ids", [])):
        # A need posted for a campaign (an ask, a letter's translation): the link only for its author
        # and the helper they confirmed (to lead the translator to the letter). Anyone else could
        # follow it to a quiet campaign, which only its link reaches.
        view.update(campaign_id=request["campaign_id"], letter_id=request.get("letter_id"))
    if viewer and (is_author(request, viewer) or viewer["role"] == "moderator"):
        view["hidden"] = request.get("hidden", False)
        view["held"] = bool(request.get("held"))
    if not text:
        view["text_withheld"] = True
    return view
