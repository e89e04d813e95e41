from datetime import datetime, timedelta, timezone

import pytest

from services.common.errors import Conflict, Forbidden, NotFound
from services.common.bus.events import make_event
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
def test_only_an_open_proposal_gets_an_answer(target):
    lifecycle.check_transition(proposal(), target)
    for done in ("confirmed", "rejected", "declined", "expired", "withdrawn"):
        with pytest.raises(Conflict):
            lifecycle.check_transition(proposal(status=done), target)


def test_only_a_volunteers_yes_waits_for_the_authors():
    for target in ("confirmed", "rejected", "withdrawn"):
        lifecycle.check_transition(proposal(status="accepted"), target)
    for status in ("proposed", "declined", "expired", "withdrawn", "rejected", "confirmed"):
        for target in ("confirmed", "rejected"):
            with pytest.raises(Conflict):
                lifecycle.check_transition(proposal(status=status), target)
    with pytest.raises(Conflict):  # a proposal cannot skip the volunteer's yes
        lifecycle.check_transition(proposal(), "confirmed")


def test_only_the_proposed_volunteer_answers():
    lifecycle.check_answerable(proposal(), {"account_id": "vol"})
    with pytest.raises(Forbidden):
        lifecycle.check_answerable(proposal(), {"account_id": "author"})
    with pytest.raises(NotFound):
        lifecycle.check_answerable(proposal(), {"account_id": "someone-else"})
    with pytest.raises(NotFound):
        lifecycle.check_answerable(None, {"account_id": "vol"})


def test_only_the_author_decides():
    lifecycle.check_decidable(proposal(status="accepted"), {"account_id": "author"})
    with pytest.raises(Forbidden):
        lifecycle.check_decidable(proposal(status="accepted"), {"account_id": "vol"})
    with pytest.raises(NotFound):
        lifecycle.check_decidable(proposal(status="accepted"), {"account_id": "someone-else"})
    with pytest.raises(NotFound):
        lifecycle.check_decidable(None, {"account_id": "author"})


VOLUNTEER = {"_id": "vol", "role": "volunteer", "status": "active", "verified": False,
             "active_matches": 0, "max_active_matches": 3}


def test_a_yes_needs_an_open_untaken_request_and_room():
    lifecycle.check_can_accept(REQUEST, VOLUNTEER)
    for request in (dict(REQUEST, taken_by="m2"), dict(REQUEST, status="closed"), dict(REQUEST, hidden=True), None):
        with pytest.raises(Conflict):
            lifecycle.check_can_accept(request, VOLUNTEER)
    with pytest.raises(Conflict):
        lifecycle.check_can_accept(REQUEST, dict(VOLUNTEER, active_matches=3))


@pytest.mark.parametrize("request_", [dict(REQUEST, visibility="private"), dict(REQUEST, visibility="volunteers"),
                                      dict(REQUEST, visibility="public", verified_only=True)])
def test_what_is_not_public_needs_a_verified_volunteer(request_):
    with pytest.raises(Forbidden):
        lifecycle.check_can_accept(request_, VOLUNTEER)
    lifecycle.check_can_accept(request_, dict(VOLUNTEER, verified=True))
    lifecycle.check_can_accept(dict(REQUEST, visibility="public"), VOLUNTEER)
    for standing in ({"status": "suspended"}, {"role": "activist"}):
        with pytest.raises(Forbidden):
            lifecycle.check_may_help(REQUEST, dict(VOLUNTEER, verified=True, **standing))


def test_an_author_confirms_one_helper():
    match = proposal(status="accepted")
    lifecycle.check_can_confirm(match, REQUEST)
    lifecycle.check_can_confirm(match, dict(REQUEST, taken_by="m1"))  # a retry of our own confirm
    for request in (dict(REQUEST, taken_by="m2"), dict(REQUEST, status="closed"), dict(REQUEST, hidden=True), None):
        with pytest.raises(Conflict):
            lifecycle.check_can_confirm(match, request)


def test_before_confirmation_a_volunteer_sees_the_requests_summary_never_its_text():
    request = dict(REQUEST, visibility="private", urgency="high", title="secret title", body="secret body")
    view = lifecycle.view(proposal(), request)
    assert view["request"] == {"skills": ["legal"], "languages": ["fa"], "country": "IR", "urgency": "high",
                               "visibility": "private"}
    assert "secret" not in str(view)


def test_the_author_sees_who_said_yes_and_their_history():
    volunteer = dict(VOLUNTEER, handle="lawyer-7", verified=True, skills=["legal"], languages=["fa", "en"],
                     countries=["IR"], bio="Asylum law, 10 years.", stats={"confirmed": 4, "declined": 2},
                     email="never@example.org", decline_reason="never")
    view = lifecycle.view(proposal(status="accepted"), REQUEST, volunteer)
    assert view["volunteer"] == {"handle": "lawyer-7", "verified": True, "skills": ["legal"],
                                 "languages": ["fa", "en"], "countries": ["IR"], "bio": "Asylum law, 10 years.",
                                 "helped": 4, "declined": 2}
    assert view["reasons"] == ["Speaks fa"] and "never" not in str(view)


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
        {"status": "accepted", "proposed_at": NOW, "answered_at": NOW + hour, "active": True},  # awaiting
        {"status": "confirmed", "proposed_at": NOW, "answered_at": NOW + 3 * hour, "active": False},  # done
        {"status": "confirmed", "proposed_at": NOW, "answered_at": NOW + hour, "active": True},
        {"status": "rejected", "proposed_at": NOW, "answered_at": NOW + hour, "active": False},
        {"status": "declined", "proposed_at": NOW, "answered_at": NOW + 2 * hour},
        {"status": "expired", "proposed_at": NOW},
        {"status": "withdrawn", "proposed_at": NOW},
        {"status": "withdrawn", "proposed_at": NOW, "answered_at": NOW + hour},  # said yes, another was chosen
        # An offer: counts as load and as help given, but answered no proposal.
        {"status": "accepted", "origin": "offer", "proposed_at": NOW, "answered_at": NOW, "active": True},
    ]
    assert lifecycle.load_of(matches) == {
        "open_proposals": 1, "active_matches": 3,
        "stats": {"accepted": 5, "confirmed": 2, "rejected": 1, "declined": 1, "expired": 1,
                  "answer_seconds": 9 * 3600}}


def test_an_edit_withdraws_only_those_who_no_longer_fit():
    edited = dict(REQUEST, languages=["ar"])
    keep = {"_id": "a", "role": "volunteer", "status": "active", "skills": ["legal"], "languages": ["ar"]}
    lose = {"_id": "b", "role": "volunteer", "status": "active", "skills": ["legal"], "languages": ["fa"]}
    open_matches = [proposal(_id="m-a", volunteer_id="a"), proposal(_id="m-b", volunteer_id="b"),
                    proposal(_id="m-c", volunteer_id="gone")]
    leaving = lifecycle.no_longer_fitting(edited, open_matches, {"a": keep, "b": lose})
    assert [m["_id"] for m in leaving] == ["m-b", "m-c"]


def test_a_chosen_match_keeps_only_its_standing_after_an_edit():
    """An offer or an invitation was chosen by a person, not by skills: an edit withdraws it only
    when the volunteer loses the standing the request needs."""
    volunteer = dict(VOLUNTEER, skills=["press"], languages=["en"])
    offer = proposal(status="accepted", origin="offer")
    assert lifecycle.still_fits(offer, REQUEST, volunteer)
    assert not lifecycle.still_fits(proposal(), REQUEST, volunteer)
    assert not lifecycle.still_fits(offer, dict(REQUEST, visibility="volunteers"), volunteer)
    assert lifecycle.still_fits(offer, dict(REQUEST, visibility="volunteers"), dict(volunteer, verified=True))
    assert not lifecycle.still_fits(offer, REQUEST, None)
