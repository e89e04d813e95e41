"""What a person is told, and how it is worded: plain functions, no I/O.

Notifications carry ids and a short generic text, never the request's text: an inbox seen over
someone's shoulder (or a seized phone) should reveal as little as possible.
"""
import uuid

from services.common.bus.events import Event, batch_items
from services.common.refs import short_ref

_NOTIFICATION_NAMESPACE = uuid.UUID("0b7d5f7e-3a51-4f0c-8a4e-93c1f2d6a8b1")

TEXTS = {
    "match_proposed": "A request fits your skills. Open it to accept or decline.",
    "match_accepted": "A volunteer offers to help with your request. Open it to see who they are, then confirm "
                      "or decline.",
    "match_confirmed": "The author of a request chose you to help. You can now send each other messages.",
    "match_rejected": "The author of a request you offered to help with chose another way. Thank you for offering.",
    "match_ended": "Your access to a request you were helping with has ended, and so has its conversation. "
                   "Thank you for your help.",
    "match_expiring": "A request you were proposed for is waiting for your answer and will expire soon.",
    "request_hidden": "A moderator hid one of your requests. Others no longer see it.",
    "check_in_missed": "Someone you help or run a campaign with did not check in when they said they would. "
                       "Their message is below.",
    "check_in_resumed": "Someone who had missed a check-in has checked in again.",
}


# The same, as a text to a linked phone: short, with the match's number (services/common/refs.py)
# and the words to answer with. No platform name and no request text: a phone is seen over a
# shoulder and seized at checkpoints. (English only for now: notify knows no person's language.)
SMS_TEXTS = {
    "match_proposed": "A need fits your skills ({ref}). READ {ref} to see it; YES {ref} or NO {ref} to answer.",
    "match_accepted": "Someone offers to help with your need ({ref}). OFFERS to see who; CONFIRM {ref} to "
                      "choose them.",
    "match_confirmed": "You were chosen to help ({ref}). SAY {ref} and your words to write; READ {ref} to read.",
    "match_rejected": "The need you offered to help with ({ref}) went another way. Thank you for offering.",
    "match_ended": "Your help with {ref} has ended, and so has its conversation. Thank you.",
    "match_expiring": "A need waits for your answer ({ref}) and expires soon: YES {ref} or NO {ref}.",
    "request_hidden": "A moderator hid one of your needs. Others no longer see it.",
    "check_in_missed": "Someone you help did not check in when they said they would ({ref}). Their message: ",
    "check_in_resumed": "Someone who had missed a check-in has checked in again ({ref}).",
}


def text_of(notification, message=None):
    """A notification as a text message (with the check-in's message, which its writer chose to
    send to these people, however they are reached)."""
    match_id = notification.get("match_id")
    text = SMS_TEXTS[notification["kind"]].format(ref=short_ref(match_id) if match_id else "-")
    return text + message if message else text


def for_check_in(event, recipient_id, match_id=None, message_sealed=None):
    """`check_in_missed` or `check_in_resumed`, to one person (the other side of a conversation the
    writer chose, or another owner of their campaign): once per event and person. The message is
    kept encrypted at rest (`message_sealed`, notify's own cipher) and shown in the inbox."""
    kind = event.event_type if event.event_type.startswith("check_in_") else f"check_in_{event.data['kind']}"
    told = notification(kind, recipient_id, f"{event.event_id}:{match_id or ''}", event.occurred_at, match_id)
    if message_sealed:
        told["message_sealed"] = message_sealed
    return told


def line_text(match_id):
    return "A new line in {ref}. READ {ref} to read it.".format(ref=short_ref(match_id))


def notification_id(event_id, recipient_id):
    """Deterministic, so a redelivered event makes no second notification."""
    return uuid.uuid5(_NOTIFICATION_NAMESPACE, f"{event_id}:{recipient_id}").hex


def notification(kind, recipient_id, cause, created_at, match_id=None, request_id=None):
    """`cause` (an event id, or another stable key) makes the id: one notification per cause."""
    return {
        "_id": notification_id(cause, recipient_id),
        "recipient_id": recipient_id,
        "kind": kind,
        "text": TEXTS[kind],
        "match_id": match_id,
        "request_id": request_id,
        "created_at": created_at,
        "read": False,
    }


# Who is told of each match event: the volunteer, except of a yes, which the author must decide on.
TOLD_OF_MATCH = {"match_proposed": "volunteer_id", "match_accepted": "author_id",
                 "match_confirmed": "volunteer_id", "match_rejected": "volunteer_id", "match_ended": "volunteer_id"}


_PROPOSAL_EVENTS = uuid.UUID("5d2e8b4a-7c1f-4e9a-b3d6-0f8a2c6e4b17")


def proposals_in(event):
    """A `matches_proposed` batch as one `match_proposed` event per match, each with an id of its
    own derived from the match: the notification, the reminder and each webhook delivery are
    keyed by the match, whichever batch (or copy of it) brings it."""
    return [Event(str(uuid.uuid5(_PROPOSAL_EVENTS, item["match_id"])), "match_proposed", event.occurred_at, 1, item)
            for item in batch_items(event.data)]


def for_match(event):
    data = event.data
    return notification(event.event_type, data[TOLD_OF_MATCH[event.event_type]], event.event_id, event.occurred_at,
                        data["match_id"], data["request_id"])


def for_expiring(proposal, now):
    # One reminder per proposal, whichever worker or redelivery gets there.
    return notification("match_expiring", proposal["volunteer_id"], f"expiring:{proposal['_id']}", now,
                        proposal["_id"], proposal["request_id"])


def for_request_hidden(event):
    data = event.data
    return notification("request_hidden", data["author_id"], f"hidden:{data['request_id']}:{data['version']}",
                        event.occurred_at, None, data["request_id"])


def view(notification, cipher=None):
    shown = {
        "id": notification["_id"],
        "kind": notification["kind"],
        "text": notification["text"],
        "match_id": notification.get("match_id"),
        "request_id": notification.get("request_id"),
        "created_at": notification["created_at"].isoformat(),
        "read": notification["read"],
    }
    if notification.get("message_sealed") and cipher is not None:
        shown["message"] = cipher.decrypt(notification["message_sealed"].encode()).decode()
    return shown
