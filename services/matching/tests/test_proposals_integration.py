"""The proposal lifecycle against the real broker and database: decline, accept, expire, withdraw."""
from datetime import datetime, timezone

import pytest
from nameko.events import event_handler
from nameko.standalone.events import event_dispatcher
from nameko.standalone.rpc import ServiceRpcProxy
from nameko.testing.services import entrypoint_waiter

from services.common.errors import Conflict, Forbidden, NotFound, ValidationFailed
from services.common.events import make_event
from services.matching.service import MatchingService

SEEN = []


class Listener:
    name = "listener"

    @event_handler("matching", "match_withdrawn")
    def withdrawn(self, payload):
        SEEN.append(payload)

    @event_handler("matching", "match_declined")
    def declined(self, payload):
        SEEN.append(payload)


def profile(pid, skills=("legal",), languages=("fa",), version=1, status="active", **extra):
    event_type = "profile_registered" if version == 1 else "profile_updated"
    data = {"profile_id": pid, "handle": pid, "role": "volunteer", "status": status, "skills": list(skills),
            "languages": list(languages), "countries": [], "bio": "", "availability_hours": 5,
            "max_active_matches": 3, "verified": False, "contact_sealed": None, "version": version} | extra
    return make_event("profiles", event_type, data)


def request_event(event_type="request_created", request_id="r1", version=1, **extra):
    data = {"request_id": request_id, "author_id": "activist-1", "title": "Asylum lawyer needed",
            "body": "A family needs an asylum lawyer.", "skills": ["legal"], "languages": ["fa"],
            "country": "IR", "urgency": "high", "visibility": "public", "status": "open", "hidden": False,
            "created_at": datetime(2025, 1, 1, tzinfo=timezone.utc), "version": version} | extra
    return make_event("requests", event_type, data)


HANDLERS = {"profile_registered": "on_profile_registered", "profile_updated": "on_profile_updated",
            "profile_deleted": "on_profile_deleted", "request_created": "on_request_created",
            "request_updated": "on_request_updated", "request_closed": "on_request_closed"}


@pytest.fixture
def matching(container_factory, config):
    def start(**overrides):
        container = container_factory(MatchingService, dict(config, MATCH_TOP_K=2, **overrides))
        container.start()
        return container
    return start


@pytest.fixture
def deliver(config):
    dispatch = event_dispatcher(config)

    def send(container, source, event):
        with entrypoint_waiter(container, HANDLERS[event["event_type"]]):
            dispatch(source, event["event_type"], event)
    return send


def viewer(account_id, role="volunteer"):
    return {"account_id": account_id, "role": role, "handle": account_id}


def proposed(db, request_id="r1"):
    return sorted(m["volunteer_id"] for m in db.matches.find({"request_id": request_id, "status": "proposed"}))


def three_lawyers(container, deliver):
    # Ranked a > b > c by hours offered; k = 2 proposes a and b first.
    for pid, hours in (("a", 20), ("b", 10), ("c", 0)):
        deliver(container, "profiles", profile(pid, availability_hours=hours))
    deliver(container, "requests", request_event())


def test_decline_proposes_the_next_and_keeps_the_reason_private(matching, deliver, config, db_for):
    SEEN.clear()
    container = matching()
    three_lawyers(container, deliver)
    db = db_for("matching")
    assert proposed(db) == ["a", "b"]
    match_id = db.matches.find_one({"volunteer_id": "a"})["_id"]

    with ServiceRpcProxy("matching", config) as rpc:
        with pytest.raises(ValidationFailed):
            rpc.decline_match(viewer("a"), match_id, {"reason": "x" * 501, "extra": 1})
        with pytest.raises(NotFound):
            rpc.decline_match(viewer("c"), match_id, {})
        with pytest.raises(Forbidden):
            rpc.decline_match(viewer("activist-1", "activist"), match_id, {})
        view = rpc.decline_match(viewer("a"), match_id, {"reason": "I know this family personally"})
        assert view["status"] == "declined"
        assert rpc.decline_match(viewer("a"), match_id, {})["status"] == "declined"  # repeated: no change
        with pytest.raises(Conflict):
            rpc.accept_match(viewer("a"), match_id)

    assert proposed(db) == ["b", "c"]  # c moves up; a is never asked again
    assert db.matches.find_one({"_id": match_id})["decline_reason"] == "I know this family personally"
    assert db.volunteers.find_one({"_id": "a"})["stats"]["declined"] == 1
    assert "I know this family" not in str(SEEN)


def test_accept_takes_the_request_and_withdraws_the_others(matching, deliver, config, db_for, container_factory):
    SEEN.clear()
    listener = container_factory(Listener, config)
    listener.start()
    container = matching()
    three_lawyers(container, deliver)
    db = db_for("matching")
    ids = {m["volunteer_id"]: m["_id"] for m in db.matches.find({})}

    with ServiceRpcProxy("matching", config) as rpc:
        with entrypoint_waiter(listener, "withdrawn"):
            view = rpc.accept_match(viewer("b"), ids["b"])
        assert view["status"] == "accepted"
        assert rpc.accept_match(viewer("b"), ids["b"])["status"] == "accepted"  # idempotent
        with pytest.raises(Conflict):
            rpc.accept_match(viewer("a"), ids["a"])  # withdrawn: already taken
        mine = rpc.list_matches(viewer("b"))
        authors = rpc.list_matches(viewer("activist-1", "activist"))

    assert db.matches.find_one({"_id": ids["a"]})["status"] == "withdrawn"
    assert [e["data"]["volunteer_id"] for e in SEEN if e["event_type"] == "match_withdrawn"] == ["a"]
    assert proposed(db) == []  # taken: nobody else is asked
    assert db.volunteers.find_one({"_id": "b"})["active_matches"] == 1
    assert [(m["request_id"], m["status"]) for m in mine] == [("r1", "accepted")]
    assert {m["status"] for m in authors} == {"accepted", "withdrawn"}
    assert all(set(m) == {"id", "request_id", "volunteer_id", "status", "score", "reasons", "proposed_at",
                          "expires_at", "answered_at"} for m in authors)

    # The request is done: the match no longer counts as load.
    deliver(container, "requests", request_event("request_closed", version=3, status="fulfilled"))
    assert db.volunteers.find_one({"_id": "b"})["active_matches"] == 0


def test_unanswered_proposals_expire_and_the_next_is_asked(matching, deliver, db_for):
    container = matching(MATCH_EXPIRY_S=0)
    three_lawyers(container, deliver)
    db = db_for("matching")
    with entrypoint_waiter(container, "expire_due", timeout=15):
        pass
    assert db.matches.count_documents({"status": "expired"}) >= 2
    assert db.volunteers.find_one({"_id": "a"})["stats"]["expired"] == 1
    # c was proposed when a and b expired (and, with no expiry time, may have expired too).
    assert db.matches.count_documents({"volunteer_id": "c"}) == 1


def test_an_edit_recomputes_and_closing_or_hiding_withdraws(matching, deliver, db_for):
    container = matching()
    db = db_for("matching")
    deliver(container, "profiles", profile("fa-lawyer", availability_hours=20))
    deliver(container, "profiles", profile("ar-lawyer", languages=["ar"]))
    deliver(container, "requests", request_event())
    assert proposed(db) == ["fa-lawyer"]

    deliver(container, "requests", request_event("request_updated", version=2, languages=["ar"]))
    assert proposed(db) == ["ar-lawyer"]
    assert db.matches.find_one({"volunteer_id": "fa-lawyer"})["status"] == "withdrawn"

    deliver(container, "requests", request_event("request_updated", version=2, languages=["fa"]))  # stale
    assert proposed(db) == ["ar-lawyer"]

    deliver(container, "requests", request_event("request_updated", version=3, languages=["ar"], hidden=True))
    assert proposed(db) == []

    deliver(container, "requests", request_event("request_created", request_id="r2"))
    assert proposed(db, "r2") == ["fa-lawyer"]
    deliver(container, "requests", request_event("request_closed", request_id="r2", version=2, status="withdrawn"))
    assert proposed(db, "r2") == []


def test_suspended_changed_and_deleted_volunteers_lose_their_proposals(matching, deliver, db_for):
    container = matching()
    db = db_for("matching")
    for pid in ("x", "y", "z"):
        deliver(container, "profiles", profile(pid))
    deliver(container, "requests", request_event())
    first = proposed(db)
    assert len(first) == 2
    spare = ({"x", "y", "z"} - set(first)).pop()

    deliver(container, "profiles", profile(first[0], version=2, status="suspended"))
    assert proposed(db) == sorted([first[1], spare])

    deliver(container, "profiles", profile(first[1], version=2, skills=["press"]))  # no longer a lawyer
    assert proposed(db) == [spare]

    deliver(container, "profiles", make_event("profiles", "profile_deleted", {"profile_id": spare, "version": 5}))
    assert proposed(db) == []
    tombstone = db.volunteers.find_one({"_id": spare})
    assert tombstone == {"_id": spare, "version": 5, "deleted": True, "touched_at": tombstone["touched_at"],
                         "touched_slot": tombstone["touched_slot"]}
    deliver(container, "profiles", profile(spare, version=4))  # older than the deletion: ignored
    assert db.volunteers.find_one({"_id": spare})["deleted"] is True
    assert proposed(db) == []


def test_the_index_is_rebuilt_from_the_database_at_start(matching, deliver, db_for):
    first = matching()
    deliver(first, "profiles", profile("lawyer"))
    first.stop()

    second = matching()
    deliver(second, "requests", request_event())
    assert proposed(db_for("matching")) == ["lawyer"]
