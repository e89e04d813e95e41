"""The match lifecycle against the real broker and database: decline, accept, confirm, reject,
offer, invite, expire, withdraw."""
from datetime import datetime, timezone

import pytest
from nameko.events import event_handler
from nameko.standalone.events import event_dispatcher
from nameko.standalone.rpc import ServiceRpcProxy
from nameko.testing.services import entrypoint_waiter

from services.common.errors import Conflict, Forbidden, NotFound, ValidationFailed
from services.common.bus.events import make_event
from services.matching.service import MatchingService
from tests.support import author_decision, sealed_to, signed_viewer

SEEN = []


class Listener:
    name = "listener"

    @event_handler("matching", "match_withdrawn")
    def withdrawn(self, payload):
        SEEN.append(payload)

    @event_handler("matching", "match_declined")
    def declined(self, payload):
        SEEN.append(payload)

    @event_handler("matching", "match_accepted")
    def accepted(self, payload):
        SEEN.append(payload)

    @event_handler("matching", "match_confirmed")
    def confirmed(self, payload):
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
        container = container_factory(MatchingService, dict(config, **{"MATCH_TOP_K": 2, **overrides}))
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


def viewer(account_id, role="volunteer", verified=False):
    return signed_viewer(account_id, role, verified=verified)


AUTHOR_ID = "activist-1"
AUTHOR = viewer(AUTHOR_ID, "activist")


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
            rpc.decline_match(viewer("a"), match_id, sealed_to("matching", {"reason": "x" * 501, "extra": 1}))
        with pytest.raises(NotFound):
            rpc.decline_match(viewer("c"), match_id, sealed_to("matching", {}))
        with pytest.raises(Forbidden):
            rpc.decline_match(viewer("activist-1", "activist"), match_id, sealed_to("matching", {}))
        view = rpc.decline_match(viewer("a"), match_id, sealed_to("matching", {"reason": "I know this family personally"}))
        assert view["status"] == "declined"
        assert rpc.decline_match(viewer("a"), match_id, sealed_to("matching", {}))["status"] == "declined"  # repeated: no change
        with pytest.raises(Conflict):
            rpc.accept_match(viewer("a"), match_id)

    assert proposed(db) == ["b", "c"]  # c moves up; a is never asked again
    assert db.matches.find_one({"_id": match_id})["decline_reason"] == "I know this family personally"
    assert db.volunteers.find_one({"_id": "a"})["stats"]["declined"] == 1
    assert "I know this family" not in str(SEEN)


def test_a_yes_waits_for_the_author_while_proposals_keep_flowing(matching, deliver, config, db_for,
                                                                 container_factory):
    SEEN.clear()
    listener = container_factory(Listener, config)
    listener.start()
    container = matching()
    three_lawyers(container, deliver)
    db = db_for("matching")
    ids = {m["volunteer_id"]: m["_id"] for m in db.matches.find({})}

    with ServiceRpcProxy("matching", config) as rpc:
        with entrypoint_waiter(listener, "accepted"):
            view = rpc.accept_match(viewer("b"), ids["b"])
        assert view["status"] == "accepted"
        assert view["request"] == {"skills": ["legal"], "languages": ["fa"], "country": "IR", "urgency": "high",
                                   "visibility": "public"}
        assert rpc.accept_match(viewer("b"), ids["b"])["status"] == "accepted"  # idempotent
        with pytest.raises(Forbidden):
            rpc.confirm_match(viewer("b"), ids["b"])  # not the volunteer's to decide
        with pytest.raises(NotFound):
            rpc.confirm_match(viewer("c"), ids["b"])
        authors = rpc.list_matches(AUTHOR)["items"]

    assert proposed(db) == ["a"]  # b is still in play, awaiting the author
    assert db.requests.find_one({"_id": "r1"}).get("taken_by") is None  # nobody took it yet
    assert [e["data"]["volunteer_id"] for e in SEEN if e["event_type"] == "match_accepted"] == ["b"]
    assert db.volunteers.find_one({"_id": "b"})["active_matches"] == 1  # a yes is a commitment
    (said_yes,) = [m for m in authors if "volunteer_id" in m]
    assert said_yes["volunteer_id"] == "b" and said_yes["volunteer"] == {
        "handle": "b", "verified": False, "skills": ["legal"], "languages": ["fa"], "countries": [], "bio": "",
        "helped": 0, "declined": 0}
    assert said_yes["reasons"]
    # Only who said yes is shown to the author: a is a question waiting, without id or identity.
    assert [sorted(m) for m in authors if "volunteer_id" not in m] == [
        ["expires_at", "proposed_at", "request_id", "status"]]


def test_confirming_one_takes_the_request_and_withdraws_the_others(matching, deliver, config, db_for,
                                                                   container_factory):
    SEEN.clear()
    listener = container_factory(Listener, config)
    listener.start()
    container = matching()
    three_lawyers(container, deliver)
    db = db_for("matching")
    with ServiceRpcProxy("matching", config) as rpc:
        ids = {m["volunteer_id"]: m["_id"] for m in db.matches.find({})}
        rpc.accept_match(viewer("a"), ids["a"])
        rpc.reject_match(AUTHOR, ids["a"])  # c is asked in a's place
        ids = {m["volunteer_id"]: m["_id"] for m in db.matches.find({})}
        rpc.accept_match(viewer("c"), ids["c"])
        with pytest.raises(Conflict):
            rpc.confirm_match(AUTHOR, ids["b"], author_decision(ids["b"], AUTHOR_ID))  # b has not said yes
        with entrypoint_waiter(listener, "confirmed"):
            view = rpc.confirm_match(AUTHOR, ids["c"], author_decision(ids["c"], AUTHOR_ID))
        assert view["status"] == "confirmed" and view["volunteer"]["handle"] == "c"
        assert rpc.confirm_match(AUTHOR, ids["c"], author_decision(ids["c"], AUTHOR_ID))["status"] == "confirmed"  # idempotent
        with pytest.raises(Conflict):
            rpc.confirm_match(AUTHOR, ids["a"], author_decision(ids["a"], AUTHOR_ID))  # rejected: final
        with pytest.raises(Conflict):
            rpc.accept_match(viewer("b"), ids["b"])  # withdrawn: one helper only

    assert {m["volunteer_id"]: m["status"] for m in db.matches.find({})} == {
        "a": "rejected", "b": "withdrawn", "c": "confirmed"}
    assert db.requests.find_one({"_id": "r1"})["taken_by"] == ids["c"]
    assert [e["data"]["volunteer_id"] for e in SEEN if e["event_type"] == "match_confirmed"] == ["c"]
    assert db.volunteers.find_one({"_id": "a"})["active_matches"] == 0
    assert db.volunteers.find_one({"_id": "c"})["active_matches"] == 1

    # The request is done: the match no longer counts as load, and counts as help given.
    deliver(container, "requests", request_event("request_closed", version=3, status="fulfilled"))
    helper = db.volunteers.find_one({"_id": "c"})
    assert helper["active_matches"] == 0 and helper["stats"]["confirmed"] == 1


def test_a_rejection_asks_the_next(matching, deliver, config, db_for):
    container = matching()
    three_lawyers(container, deliver)
    deliver(container, "profiles", profile("d"))
    db = db_for("matching")
    with ServiceRpcProxy("matching", config) as rpc:
        match_id = db.matches.find_one({"volunteer_id": "b"})["_id"]
        rpc.accept_match(viewer("b"), match_id)
        assert proposed(db) == ["a"]
        view = rpc.reject_match(AUTHOR, match_id)
        assert view["status"] == "rejected"
        with pytest.raises(Conflict):
            rpc.confirm_match(AUTHOR, match_id, author_decision(match_id, AUTHOR_ID))
    assert len(proposed(db)) == 2 and "a" in proposed(db)  # the next best of c and d is asked
    assert db.volunteers.find_one({"_id": "b"})["stats"]["rejected"] == 1
    assert db.volunteers.find_one({"_id": "b"})["active_matches"] == 0


def test_a_confirmation_that_loses_a_race_gives_the_request_back(matching, deliver, config, db_for, monkeypatch):
    """The match moved (withdrawn: the volunteer left) between the author's read and the write:
    the request must not stay taken by nobody, never to be proposed or confirmed again."""
    from services.matching.store import MongoMatchStore
    container = matching()
    three_lawyers(container, deliver)
    db = db_for("matching")
    with ServiceRpcProxy("matching", config) as rpc:
        match_id = db.matches.find_one({"volunteer_id": "b"})["_id"]
        rpc.accept_match(viewer("b"), match_id)
        stale = MongoMatchStore(db, dispatch=None).match(match_id)
        db.matches.update_one({"_id": match_id}, {"$set": {"status": "withdrawn"}, "$inc": {"version": 1}})
        monkeypatch.setattr(MongoMatchStore, "match", lambda _store, _id: dict(stale))
        with pytest.raises(Conflict):
            rpc.confirm_match(AUTHOR, match_id, author_decision(match_id, AUTHOR_ID))
    assert db.requests.find_one({"_id": "r1"})["taken_by"] is None


def test_what_is_not_public_goes_to_verified_volunteers_only(matching, deliver, config, db_for):
    container = matching(MATCH_TOP_K=5)
    db = db_for("matching")
    deliver(container, "profiles", profile("stranger", availability_hours=40))  # signed up a minute ago
    deliver(container, "profiles", profile("vetted", verified=True))
    for visibility, request_id in (("private", "r-private"), ("volunteers", "r-volunteers")):
        deliver(container, "requests", request_event(request_id=request_id, visibility=visibility, title=None,
                                                     body=None))
        assert proposed(db, request_id) == ["vetted"]
    deliver(container, "requests", request_event(request_id="r-asked", verified_only=True))
    assert proposed(db, "r-asked") == ["vetted"]
    deliver(container, "requests", request_event(request_id="r-public"))
    assert proposed(db, "r-public") == ["stranger", "vetted"]

    with ServiceRpcProxy("matching", config) as rpc:
        with pytest.raises(NotFound):
            rpc.offer_help(viewer("stranger"), "r-private")  # never found, never offered on
        with pytest.raises(NotFound):
            rpc.offer_help(viewer("vetted", verified=True), "r-private")
        with pytest.raises(NotFound):
            rpc.offer_help(viewer("stranger"), "r-volunteers")  # cannot read it
        with pytest.raises(Forbidden):
            rpc.offer_help(viewer("stranger"), "r-asked")
        with pytest.raises(Forbidden):
            rpc.invite_volunteer(AUTHOR, "r-private", {"volunteer_id": "stranger"})
        # A volunteer who loses their verification loses what needed it.
        deliver(container, "profiles", profile("vetted", version=2, verified=False))
    assert proposed(db, "r-private") == [] and proposed(db, "r-volunteers") == []
    assert proposed(db, "r-public") == ["stranger", "vetted"]


def test_a_volunteer_offers_help_and_an_author_invites(matching, deliver, config, db_for, container_factory):
    SEEN.clear()
    listener = container_factory(Listener, config)
    listener.start()
    container = matching(MATCH_TOP_K=1)
    db = db_for("matching")
    deliver(container, "profiles", profile("lawyer"))
    deliver(container, "profiles", profile("journalist", skills=["press"], languages=["en"]))
    deliver(container, "profiles", profile("artist", skills=["art"], languages=["en"]))
    deliver(container, "requests", request_event())
    assert proposed(db) == ["lawyer"]

    with ServiceRpcProxy("matching", config) as rpc:
        with entrypoint_waiter(listener, "accepted"):
            offer = rpc.offer_help(viewer("journalist"), "r1")  # found it in search; skills need not fit
        assert offer["status"] == "accepted" and offer["origin"] == "offer"
        assert rpc.offer_help(viewer("journalist"), "r1")["id"] == offer["id"]  # twice: one offer
        with pytest.raises(Forbidden):
            rpc.offer_help(AUTHOR, "r1")
        with pytest.raises(ValidationFailed):
            rpc.invite_volunteer(AUTHOR, "r1", {"volunteer": "artist"})
        with pytest.raises(NotFound):
            rpc.invite_volunteer(viewer("someone", "activist"), "r1", {"volunteer_id": "artist"})
        with pytest.raises(NotFound):
            rpc.invite_volunteer(AUTHOR, "r1", {"volunteer_id": "nobody"})
        invitation = rpc.invite_volunteer(AUTHOR, "r1", {"volunteer_id": "artist"})
        assert invitation["status"] == "proposed" and invitation["origin"] == "invitation"
        # The lawyer's proposal becomes a yes through an offer too.
        lawyer = rpc.offer_help(viewer("lawyer"), "r1")
        assert lawyer["status"] == "accepted" and lawyer["origin"] == "matching"
        authors = {m["volunteer_id"]: m for m in rpc.list_matches(AUTHOR)["items"] if "volunteer_id" in m}

    assert [e["data"]["volunteer_id"] for e in SEEN if e["event_type"] == "match_accepted"][0] == "journalist"
    assert authors["journalist"]["volunteer"]["skills"] == ["press"]
    assert db.volunteers.find_one({"_id": "journalist"})["active_matches"] == 1
    # An edit of the request keeps the offer: the volunteer chose it, not the skills.
    deliver(container, "requests", request_event("request_updated", version=2, urgency="low"))
    assert db.matches.find_one({"_id": offer["id"]})["status"] == "accepted"
    # Closing the request withdraws every pending yes and proposal.
    deliver(container, "requests", request_event("request_closed", version=3, status="withdrawn"))
    assert {m["status"] for m in db.matches.find({})} == {"withdrawn"}


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
