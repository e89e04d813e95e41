"""One contract, two adapters: the in-memory MatchStore the workflow tests use behaves as the real
one over FerretDB does (the eventsourcing library's pattern: every adapter of a port passes the
same test)."""
from datetime import datetime, timedelta, timezone

import pytest

from services.common.bus.readmodel import CREATED, UPDATED
from services.matching import lifecycle
from services.matching.store import InMemoryMatchStore, MongoMatchStore, match_id, prepare
from tests.support import STORE_ADAPTERS, store_adapter

NOW = datetime(2026, 1, 5, 12, 0, tzinfo=timezone.utc)
REQUEST = {"author_id": "author", "skills": ["legal"], "languages": ["fa"], "country": "IR", "urgency": "high",
           "visibility": "public", "verified_only": False, "status": "open", "hidden": False, "created_at": NOW}
PROFILE = {"handle": "v", "role": "volunteer", "status": "active", "skills": ["legal"], "languages": ["fa"],
           "countries": [], "bio": "", "availability_hours": 5, "max_active_matches": 3, "verified": False}


@pytest.fixture(params=STORE_ADAPTERS)
def store(request):
    published = []

    def dispatch(event_type, payload):
        published.append(payload)

    store = store_adapter(request, "matching", lambda: InMemoryMatchStore(dispatch),
                          lambda db: MongoMatchStore(db, dispatch), prepare)
    store.published_events = published
    return store


def proposal(request_id, volunteer_id, expiry_s=3600, now=NOW):
    request = dict(REQUEST, _id=request_id)
    return lifecycle.new_match(match_id(request_id, volunteer_id), request, volunteer_id, 0.5, [], now,
                               expiry_s)


def events_for(*matches):
    return {m["_id"]: [{"event_type": "match_proposed", "event_id": m["_id"], "data": {"match_id": m["_id"]}}]
            for m in matches}


def test_read_models_apply_only_newer_versions(store):
    assert store.remember_profile("v1", PROFILE, 2)
    assert not store.remember_profile("v1", dict(PROFILE, handle="old"), 1)
    assert store.volunteer("v1")["handle"] == "v"
    assert store.forget_profile("v1", 3) and store.volunteer("v1") is None
    assert not store.remember_profile("v1", PROFILE, 2)  # a late event cannot bring them back
    assert store.remember_request("r1", REQUEST, 1) == CREATED and store.remember_request("r1", REQUEST, 1) is None
    assert store.remember_request("r1", REQUEST, 2) == UPDATED
    assert store.request("r1")["skills"] == ["legal"] and store.request("missing") is None


def test_proposals_are_added_once_and_published_once(store):
    for volunteer in ("v1", "v2"):
        store.remember_profile(volunteer, PROFILE, 1)
    store.remember_request("r1", REQUEST, 1)
    first = [proposal("r1", "v1"), proposal("r1", "v2")]
    assert store.add_proposals("r1", first, events_for(*first)) == {m["_id"] for m in first}
    assert store.add_proposals("r1", first[:1], events_for(first[0])) == set()  # a redelivery
    assert sorted(e["event_id"] for e in store.published_events) == sorted(m["_id"] for m in first)
    assert store.count_in_play("r1") == 2
    assert store.proposed_volunteers("r1") == {"v1", "v2"}
    store.forget_profile("v2", 2)
    assert store.count_proposals(["v1", "v2"]) == 1  # v2 is gone: not counted, not brought back
    assert store.volunteer("v1")["open_proposals"] == 1 and store.volunteer("v2") is None
    assert store.refresh_load("v1")["open_proposals"] == 1


def test_matches_come_newest_first_a_page_at_a_time_with_a_cursor_of_time_and_count(store):
    for volunteer in ("v1", "v2", "v3"):
        store.remember_profile(volunteer, PROFILE, 1)
    store.remember_request("r1", REQUEST, 1)
    batch = [proposal("r1", v, now=NOW) for v in ("v1", "v2")] + [proposal("r1", "v3", now=NOW - timedelta(hours=1))]
    store.add_proposals("r1", batch, events_for(*batch))
    first, more = store.matches_for("author_id", "author", 1)
    assert more and first[0]["proposed_at"] == NOW
    second, more = store.matches_for("author_id", "author", 1, (NOW, 1))
    assert more and second[0]["proposed_at"] == NOW and second[0]["_id"] != first[0]["_id"]
    third, more = store.matches_for("author_id", "author", 5, (NOW, 2))
    assert not more and [m["volunteer_id"] for m in third] == ["v3"]


def test_an_authors_invitations_are_counted_since_a_time(store):
    store.remember_request("r1", REQUEST, 1)
    invited = [lifecycle.new_match(match_id("r1", v), dict(REQUEST, _id="r1"), v, 0.5, [], at, 3600,
                                   origin="invitation")
               for v, at in (("v1", NOW - timedelta(days=2)), ("v2", NOW - timedelta(hours=1)), ("v3", NOW))]
    matched = proposal("r1", "v4")  # proposed by matching, not invited
    store.add_proposals("r1", invited + [matched], events_for(*invited, matched))
    assert store.invitations_since("author", NOW - timedelta(days=1)) == 2
    assert store.invitations_since("someone-else", NOW - timedelta(days=1)) == 0


def test_a_move_happens_once_from_the_state_it_was_read_in(store):
    match = proposal("r1", "v1")
    store.add_proposals("r1", [match], events_for(match))
    stored = store.match(match["_id"])
    moved_event = {"event_type": "match_accepted", "event_id": "e-accepted", "data": {}}
    assert store.move(stored, "accepted", {"answered_at": NOW, "active": True}, [moved_event])
    assert not store.move(stored, "declined", {}, [])  # read before the move: stale
    now = store.match(match["_id"])
    assert (now["status"], now["version"], now["active"]) == ("accepted", 2, True)
    assert "e-accepted" in [e["event_id"] for e in store.published_events]
    assert [m["_id"] for m in store.pending_matches(request_id="r1")] == [match["_id"]]
    assert store.matches_for("volunteer_id", "v1")[0][0]["status"] == "accepted"


def test_a_request_is_taken_by_one_match_and_given_back_only_by_it(store):
    store.remember_request("r1", REQUEST, 1)
    assert store.take_request("r1", "m1") and store.take_request("r1", "m1")
    assert not store.take_request("r1", "m2")
    store.release_request("r1", "m2")
    assert store.request("r1")["taken_by"] == "m1"
    store.release_request("r1", "m1")
    assert store.request("r1").get("taken_by") is None and store.take_request("r1", "m2")


def test_only_requests_noted_as_wanting_are_found_by_skill_a_page_at_most(store):
    for request_id in ("full", "wanting", "other", "done", "third"):
        store.remember_request(request_id, dict(REQUEST, skills=["legal", "press"]), 1)
    store.note_wants("full", 5, [])
    store.note_wants("wanting", 2, ["legal", "press"], asked=["v1", "v2"])
    store.note_wants("third", 1, ["legal", "press"])
    store.note_wants("other", 0, ["press"])
    store.note_wants("done", 1, ["legal"])
    store.note_wants("done", 5, [], asked=["v2", "v3"])  # full now: gone from the set
    assert sorted(r["_id"] for r in store.requests_wanting("legal", 10)) == ["third", "wanting"]
    assert sorted(r["_id"] for r in store.requests_wanting("press", 10)) == ["other", "third", "wanting"]
    assert len(store.requests_wanting("press", 2)) == 2 and store.requests_wanting("art", 10) == []
    wanting = store.request("wanting")
    assert wanting["in_play"] == 2 and sorted(wanting["asked"]) == ["v1", "v2"]
    assert store.request("done")["asked"] == ["v2", "v3"] and "wants" not in store.request("done")
    store.note_wants("wanting", 3, ["legal"], asked=["v2", "v4"])  # asked only grows, once each
    assert sorted(store.request("wanting")["asked"]) == ["v1", "v2", "v4"]


def test_due_proposals_are_handed_over_once_each_as_they_fall_due(store):
    late, soon, later = (proposal("r1", "v1", expiry_s=-60), proposal("r1", "v2", expiry_s=600),
                         proposal("r1", "v3", expiry_s=3 * 3600))
    store.add_proposals("r1", [late, soon, later], events_for(late, soon, later))
    handed = []

    def expire(matches):
        for match in matches:
            handed.append(match["volunteer_id"])
            assert store.move(match, "expired", {}, [])

    store.walk_due_matches(NOW, expire)
    assert handed == ["v1"]
    store.walk_due_matches(NOW + timedelta(minutes=5), expire)
    assert handed == ["v1"]
    store.walk_due_matches(NOW + timedelta(hours=2), expire)  # a process that was down two hours
    assert handed == ["v1", "v2"]
    store.walk_due_matches(NOW + timedelta(hours=5), expire)
    assert handed == ["v1", "v2", "v3"]


def test_due_proposals_confirmed_help_and_forgetting(store):
    late, fresh = proposal("r1", "v1", expiry_s=-60), proposal("r1", "v2", expiry_s=3600)
    store.add_proposals("r1", [late, fresh], events_for(late, fresh))
    stored = store.match(fresh["_id"])
    store.move(stored, "accepted", {"active": True}, [])
    store.move(store.match(fresh["_id"]), "confirmed", {"active": True}, [])
    assert [m["_id"] for m in store.confirmed_matches("v2")] == [fresh["_id"]] and store.confirmed_matches("v1") == []
    assert store.finish_confirmed("r1") == ["v2"] and store.finish_confirmed("r1") == []
    store.forget_author("author")
    assert store.match(fresh["_id"])["author_id"] is None
    store.forget_volunteer_matches("v2")
    assert store.match(fresh["_id"]) is None and store.match(late["_id"]) is not None
