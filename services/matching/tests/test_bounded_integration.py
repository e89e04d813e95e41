"""A volunteer's sign-up or profile edit costs a bounded number of store commands, whatever the
platform holds: counted on the real store (FerretDB on PostgreSQL) with pymongo's command
monitoring (services/common/store/commandcount.py). Counts, not times: they do not depend on the machine.

Before `wants` (store.py), the same sign-up walked every open need with one of the volunteer's
skills and counted each one's matches: two commands per open need.
"""
import uuid

from services.common.store.commandcount import COUNTER
from services.matching import store as matching_store
from services.matching.index import CandidateIndex
from services.matching.store import MongoMatchStore
from services.matching.tests.test_workflow import profile, request
from services.matching.workflow import Matchmaker

# What one volunteer event may cost at most (the goal), with a few needs to propose.
MOST = 40


def commands_of(db, action):
    before = COUNTER.total(db.name)
    action()
    return COUNTER.total(db.name) - before


def test_a_sign_up_costs_the_same_with_100_or_5000_open_needs_that_hold_their_k(db_for):
    db = db_for("matching")
    matching_store.prepare(db)
    store = MongoMatchStore(db, lambda event_type, payload: None)
    matchmaker = Matchmaker(store, CandidateIndex(buckets=8), top_k=2, expiry_s=3600)
    for pid in ("lawyer-1", "lawyer-2"):
        matchmaker.profile_changed(profile(pid, max_active_matches=60))
    for n in range(100):  # needs proposed to their k, waiting for answers: the normal state
        matchmaker.request_created(request(f"legal-{n}"))
    for n in range(3):  # needs nobody on the platform can take yet
        matchmaker.request_created(request(f"translation-{n}", skills=["translation", "legal"], languages=["ps"]))
    assert all(store.request(f"legal-{n}")["in_play"] == 2 for n in range(100))
    assert "wants" not in store.request("legal-7")
    assert store.request("translation-0")["wants"] == ["translation", "legal"]

    def sign_up(pid):
        return commands_of(db, lambda: matchmaker.profile_changed(
            profile(pid, skills=["legal", "translation"], languages=["fa", "ps"])))

    with_100 = sign_up("translator-1")
    asked = {m["request_id"] for m in db[matching_store.MATCHES].find({"volunteer_id": "translator-1"})}
    assert asked == {"translation-0", "translation-1", "translation-2"}

    # 4,900 more needs in the same state, as the real path left the first 100.
    full = store.request("legal-0")
    db[matching_store.REQUESTS].insert_many([dict(full, _id=uuid.uuid4().hex) for _ in range(4900)])
    with_5000 = sign_up("translator-2")
    asked = {m["request_id"] for m in db[matching_store.MATCHES].find({"volunteer_id": "translator-2"})}
    assert asked == {"translation-0", "translation-1", "translation-2"}  # still wanting: k = 2

    print(f"\nsign-up with 100 open needs: {with_100} commands; with 5,000: {with_5000}")
    assert with_100 == with_5000 <= MOST, (with_100, with_5000)
    # And an edit that proposes nothing (the translations hold their k now) costs a handful.
    edit = commands_of(db, lambda: matchmaker.profile_changed(profile("lawyer-3", version=1)))
    print(f"an edit that proposes nothing: {edit} commands")
    assert edit <= 12, edit
