from datetime import datetime, timedelta, timezone

import pytest

from services.common.errors import Conflict, Forbidden, NotFound
from services.common.events import make_event
from services.matching import lifecycle

NOW = datetime(2025, 1, 1, tzinfo=timezone.utc)
REQUEST = {"_id": "r1", "author_id": "author", "skills": ["legal"], "languages": ["fa"], "country": "IR",
           "status": "open", "hidden": False}


def proposal(**extra):
    match = lifecycle.new_match("m1", REQUEST, "vol", 0.8, ["Speaks fa"], NOW, 3600)
    return match | extra


def test_a_new_proposal_expires_after_the_configured_time():
    match = proposal()
    assert match["status"] == "proposed" and match["version"] == 1
    assert match["expires_at"] - match["proposed_at"] == timedelta(hours=1)


@pytest.mark.parametrize("target", ["accepted", "declined", "expired", "withdrawn"])
def test_only_an_open_proposal_moves(target):
    lifecycle.check_transition(proposal(), target)
    for done in ("accepted", "declined", "expired", "withdrawn"):
        with pytest.raises(Conflict):
            lifecycle.check_transition(proposal(status=done), target)


def test_only_the_proposed_volunteer_answers():
    lifecycle.check_answerable(proposal(), {"account_id": "vol"})
    with pytest.raises(Forbidden):
        lifecycle.check_answerable(proposal(), {"account_id": "author"})
    with pytest.raises(NotFound):
        lifecycle.check_answerable(proposal(), {"account_id": "someone-else"})
    with pytest.raises(NotFound):
        lifecycle.check_answerable(None, {"account_id": "vol"})


def test_a_taken_closed_or_hidden_request_cannot_be_taken():
    match = proposal()
    volunteer = {"active_matches": 0, "max_active_matches": 3}
    lifecycle.check_can_take(match, REQUEST, volunteer)
    lifecycle.check_can_take(match, dict(REQUEST, taken_by="m1"), volunteer)  # a retry of our own accept
    for request in (dict(REQUEST, taken_by="m2"), dict(REQUEST, status="closed"), dict(REQUEST, hidden=True), None):
        with pytest.raises(Conflict):
            lifecycle.check_can_take(match, request, volunteer)
    with pytest.raises(Conflict):
        lifecycle.check_can_take(match, REQUEST, {"active_matches": 3, "max_active_matches": 3})


def test_proposable_means_open_visible_and_not_taken():
    assert lifecycle.proposable(REQUEST)
    assert not lifecycle.proposable(dict(REQUEST, taken_by="m1"))
    assert not lifecycle.proposable(dict(REQUEST, hidden=True))
    assert not lifecycle.proposable(dict(REQUEST, status="matched"))
    assert not lifecycle.proposable(None)


def test_the_decline_reason_never_travels_and_is_never_shown():
    declined = lifecycle.after(proposal(), "declined", decline_reason="I know this family", answered_at=NOW)
    data = lifecycle.event_data(declined)
    assert "decline_reason" not in data and data["status"] == "declined" and data["version"] == 2
    make_event("matching", "match_declined", data)  # fits the contract
    make_event("matching", "match_withdrawn", lifecycle.event_data(lifecycle.after(proposal(), "withdrawn")))
    view = lifecycle.view(declined)
    assert "I know this family" not in str(view)
    assert view["status"] == "declined" and view["request_id"] == "r1" and view["answered_at"]


def test_load_and_history_come_from_the_matches():
    hour = timedelta(hours=1)
    matches = [
        {"status": "proposed", "proposed_at": NOW},
        {"status": "accepted", "proposed_at": NOW, "answered_at": NOW + hour, "active": True},
        {"status": "accepted", "proposed_at": NOW, "answered_at": NOW + 3 * hour, "active": False},
        {"status": "declined", "proposed_at": NOW, "answered_at": NOW + 2 * hour},
        {"status": "expired", "proposed_at": NOW},
        {"status": "withdrawn", "proposed_at": NOW},
    ]
    assert lifecycle.load_of(matches) == {
        "open_proposals": 1, "active_matches": 1,
        "stats": {"accepted": 2, "declined": 1, "expired": 1, "answer_seconds": 6 * 3600}}


def test_an_edit_withdraws_only_those_who_no_longer_fit():
    edited = dict(REQUEST, languages=["ar"])
    keep = {"_id": "a", "role": "volunteer", "status": "active", "skills": ["legal"], "languages": ["ar"]}
    lose = {"_id": "b", "role": "volunteer", "status": "active", "skills": ["legal"], "languages": ["fa"]}
    open_matches = [proposal(_id="m-a", volunteer_id="a"), proposal(_id="m-b", volunteer_id="b"),
                    proposal(_id="m-c", volunteer_id="gone")]
    leaving = lifecycle.no_longer_fitting(edited, open_matches, {"a": keep, "b": lose})
    assert [m["_id"] for m in leaving] == ["m-b", "m-c"]
