import pytest

from services.common.errors import Conflict
from services.requests import lifecycle

REQUEST = {"_id": "r1", "author_id": "author", "visibility": "public", "helper_ids": ["helper"]}
AUTHOR = {"account_id": "author", "role": "activist", "handle": "a"}
VOLUNTEER = {"account_id": "v", "role": "volunteer", "handle": "v", "verified": True}
UNVETTED = {"account_id": "u", "role": "volunteer", "handle": "u", "verified": False}
HELPER = {"account_id": "helper", "role": "volunteer", "handle": "h"}
ANALYST = {"account_id": "x", "role": "analyst", "handle": "x"}


def test_allowed_and_forbidden_transitions():
    lifecycle.check_transition("open", "matched")
    lifecycle.check_transition("matched", "fulfilled")
    lifecycle.check_transition("open", "withdrawn")
    for current, target in [("withdrawn", "open"), ("fulfilled", "open"), ("open", "fulfilled")]:
        with pytest.raises(Conflict):
            lifecycle.check_transition(current, target)


@pytest.mark.parametrize("visibility,viewer,allowed", [
    ("public", None, True),
    ("public", ANALYST, True),
    ("volunteers", None, False),
    ("volunteers", ANALYST, False),
    ("volunteers", VOLUNTEER, True),
    ("volunteers", UNVETTED, False),  # signed up a minute ago: not enough (DESIGN, "Trust")
    ("volunteers", AUTHOR, True),
    ("private", VOLUNTEER, False),
    ("private", None, False),
    ("private", AUTHOR, True),
    ("private", HELPER, True),
])
def test_who_can_see_a_request(visibility, viewer, allowed):
    assert lifecycle.can_view(dict(REQUEST, visibility=visibility), viewer) is allowed


def test_a_private_request_travels_without_its_text():
    from datetime import datetime, timezone
    request = dict(REQUEST, visibility="private", title="My brother, held in Evin", body="Details",
                   skills=["legal"], languages=["fa"], country="IR", urgency="high", status="open",
                   created_at=datetime.now(timezone.utc), version=1)
    data = lifecycle.event_data(request)
    assert data["title"] is None and data["body"] is None
