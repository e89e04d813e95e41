"""What a person is told, and how it is worded: plain functions, no I/O.

Notifications carry ids and a short generic text, never the request's text: an inbox seen over
someone's shoulder (or a seized phone) should reveal as little as possible.
"""
import uuid

_NOTIFICATION_NAMESPACE = uuid.UUID("0b7d5f7e-3a51-4f0c-8a4e-93c1f2d6a8b1")

TEXTS = {
    "match_proposed": "A request fits your skills. Open it to accept or decline.",
}


def notification_id(event_id, recipient_id):
    """Deterministic, so a redelivered event makes no second notification."""
    return uuid.uuid5(_NOTIFICATION_NAMESPACE, f"{event_id}:{recipient_id}").hex


def for_match_proposed(event):
    data = event.data
    return {
        "_id": notification_id(event.event_id, data["volunteer_id"]),
        "recipient_id": data["volunteer_id"],
        "kind": "match_proposed",
        "text": TEXTS["match_proposed"],
        "match_id": data["match_id"],
        "request_id": data["request_id"],
        "created_at": event.occurred_at,
        "read": False,
    }


def view(notification):
    return {
        "id": notification["_id"],
        "kind": notification["kind"],
        "text": notification["text"],
        "match_id": notification.get("match_id"),
        "request_id": notification.get("request_id"),
        "created_at": notification["created_at"].isoformat(),
        "read": notification["read"],
    }
