"""matching against the real broker and database: read models from events, proposals out."""
from datetime import datetime, timezone

from nameko.events import event_handler
from nameko.standalone.events import event_dispatcher
from nameko.testing.services import entrypoint_waiter

from services.common.bus.events import make_event
from services.matching.service import MatchingService

PROPOSED = []


class Listener:
    name = "listener"

    @event_handler("matching", "matches_proposed")
    def proposed(self, payload):
        PROPOSED.append(payload)


def profile(pid, skills, languages, version=1, role="volunteer"):
    return make_event("profiles", "profile_updated" if version > 1 else "profile_registered", {
        "profile_id": pid, "handle": pid, "role": role, "status": "active", "skills": skills,
        "languages": languages, "countries": ["IR"], "bio": "", "availability_hours": 5,
        "max_active_matches": 3, "verified": False, "contact_sealed": None, "version": version,
    })


def request_created(request_id="r1", skills=("legal",), languages=("fa",)):
    return make_event("requests", "request_created", {
        "request_id": request_id, "author_id": "activist-1", "title": "Asylum lawyer needed",
        "body": "A family needs an asylum lawyer.", "skills": list(skills), "languages": list(languages),
        "country": "IR", "urgency": "high", "visibility": "public", "status": "open", "hidden": False,
        "created_at": datetime.now(timezone.utc), "version": 1,
    })


def deliver(container, method, dispatch, source, event):
    with entrypoint_waiter(container, method):
        dispatch(source, event["event_type"], event)


def test_proposals_go_to_fitting_volunteers_once(container_factory, config, db_for):
    PROPOSED.clear()
    listener = container_factory(Listener, config)
    listener.start()
    matching = container_factory(MatchingService, config)
    matching.start()
    dispatch = event_dispatcher(config)

    deliver(matching, "on_profile_registered", dispatch, "profiles", profile("lawyer", ["legal"], ["fa", "en"]))
    deliver(matching, "on_profile_registered", dispatch, "profiles", profile("journalist", ["press"], ["fa"]))
    deliver(matching, "on_profile_registered", dispatch, "profiles", profile("german-lawyer", ["legal"], ["de"]))
    deliver(matching, "on_profile_registered", dispatch, "profiles", profile("activist-2", ["legal"], ["fa"],
                                                                            role="activist"))

    event = request_created()
    with entrypoint_waiter(listener, "proposed"):
        deliver(matching, "on_request_created", dispatch, "requests", event)
    deliver(matching, "on_request_created", dispatch, "requests", event)  # redelivered

    matches = list(db_for("matching").matches.find({"request_id": "r1"}))
    assert [m["volunteer_id"] for m in matches] == ["lawyer"]
    # One top-up, one event: its matches travel together (here one: only one volunteer fits).
    assert [[m["volunteer_id"] for m in p["data"]["matches"]] for p in PROPOSED] == [["lawyer"]]
    assert PROPOSED[0]["schema_version"] == 2 and PROPOSED[0]["data"]["request_id"] == "r1"


def test_an_older_profile_event_never_overwrites_a_newer_one(container_factory, config, db_for):
    matching = container_factory(MatchingService, config)
    matching.start()
    dispatch = event_dispatcher(config)

    deliver(matching, "on_profile_updated", dispatch, "profiles", profile("v1", ["press"], ["fa"], version=3))
    deliver(matching, "on_profile_updated", dispatch, "profiles", profile("v1", ["legal"], ["fa"], version=2))

    assert db_for("matching").volunteers.find_one({"_id": "v1"})["skills"] == ["press"]


def test_a_volunteer_who_joins_later_is_proposed_for_open_requests(container_factory, config, db_for):
    matching = container_factory(MatchingService, config)
    matching.start()
    dispatch = event_dispatcher(config)

    deliver(matching, "on_request_created", dispatch, "requests", request_created("r-early"))
    assert db_for("matching").matches.count_documents({}) == 0  # nobody fits yet

    deliver(matching, "on_profile_registered", dispatch, "profiles", profile("late-lawyer", [], ["fa"]))
    assert db_for("matching").matches.count_documents({}) == 0  # no skills yet
    deliver(matching, "on_profile_updated", dispatch, "profiles",
            profile("late-lawyer", ["legal"], ["fa"], version=2))

    (match,) = db_for("matching").matches.find({})
    assert (match["request_id"], match["volunteer_id"]) == ("r-early", "late-lawyer")


def test_replicas_keep_their_candidate_indexes_in_step_through_the_database(db_for):
    """Each replica indexes its own writes at once and reads only the others' on `sync`."""
    from datetime import timedelta

    from services.common.bus.events import utcnow
    from services.matching import store as matching_store
    from services.matching.index import CandidateIndex

    db = db_for("matching")
    matching_store.prepare(db)
    store = matching_store.MongoMatchStore(db, dispatch=None)
    fields = {"handle": "v", "role": "volunteer", "status": "active", "skills": ["legal"], "languages": ["fa"],
              "countries": ["IR"], "availability_hours": 5, "max_active_matches": 3, "verified": False}
    mine, theirs = CandidateIndex(), CandidateIndex()
    since = utcnow() - timedelta(seconds=1)

    store.remember_profile("lawyer", fields, version=1)  # written by "mine"
    mine.put(store.volunteer("lawyer"))
    assert "lawyer" not in theirs

    assert theirs.sync(db[matching_store.VOLUNTEERS], since) == 1  # the other replica's write: read
    assert "lawyer" in theirs
    assert mine.sync(db[matching_store.VOLUNTEERS], since) == 0  # its own write: not read again

    store.remember_profile("lawyer", dict(fields, status="suspended"), version=2)  # by "theirs"
    theirs.put(store.volunteer("lawyer"))
    assert mine.sync(db[matching_store.VOLUNTEERS], since) == 1
    assert "lawyer" not in mine  # suspended: no longer a candidate


def test_the_ledger_forgets_events_handled_days_ago(container_factory, config, db_for):
    """Every service with a ledger expires it (services/common/bus/consumer.LedgerUpkeep): at start-up,
    then hourly, whole days past LEDGER_RETAIN_DAYS go."""
    from datetime import timedelta

    from services.common.bus.events import utcnow
    from services.common.store.ledger import LEDGER, day_of
    from tests.support import wait_until

    ledger = db_for("matching")[LEDGER]
    ledger.insert_many([{"_id": "days-ago", "state": "handled", "day": day_of(utcnow() - timedelta(days=5))},
                        {"_id": "today", "state": "handled", "day": day_of(utcnow())}])
    container_factory(MatchingService, dict(config, LEDGER_RETAIN_DAYS=3)).start()
    wait_until(lambda: ledger.find_one({"_id": "days-ago"}) is None, timeout=10, message="the old record to expire")
    assert ledger.find_one({"_id": "today"}) is not None
