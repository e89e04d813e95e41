"""Matching's workflow in milliseconds: the real rules and candidate index over the in-memory
MatchStore (held to the real store's contract by test_store_contract.py)."""
from datetime import datetime, timedelta, timezone

import pytest

from services.common.errors import Conflict, Forbidden, NotFound, ValidationFailed
from services.matching.index import CandidateIndex
from services.matching.store import InMemoryMatchStore
from services.matching.workflow import Matchmaker
from tests.support import author_decision

NOW = datetime(2026, 1, 5, tzinfo=timezone.utc)
AUTHOR_ID = "author"
AUTHOR = {"account_id": AUTHOR_ID, "role": "activist", "handle": "author", "verified": False}


def volunteer(account_id, verified=False):
    return {"account_id": account_id, "role": "volunteer", "handle": account_id, "verified": verified}


def profile(pid, hours=5, verified=False, version=1, **extra):
    return {"profile_id": pid, "handle": pid, "role": "volunteer", "status": "active", "skills": ["legal"],
            "languages": ["fa"], "countries": [], "bio": f"bio of {pid}", "availability_hours": hours,
            "max_active_matches": 3, "verified": verified, "contact_sealed": None, "version": version} | extra


def request(request_id="r1", version=1, **extra):
    return {"request_id": request_id, "author_id": "author", "title": None, "body": None, "skills": ["legal"],
            "languages": ["fa"], "country": "IR", "urgency": "high", "visibility": "public", "status": "open",
            "hidden": False, "created_at": NOW, "version": version} | extra


@pytest.fixture
def world():
    store = InMemoryMatchStore()
    return store, Matchmaker(store, CandidateIndex(buckets=8), top_k=2, expiry_s=3600)


def proposed(store, request_id="r1"):
    return sorted(m["volunteer_id"] for m in store.matches_by_id.values()
                  if m["request_id"] == request_id and m["status"] == "proposed")


def ids(store):
    return {m["volunteer_id"]: m["_id"] for m in store.matches_by_id.values()}


def three_lawyers(store, matchmaker, **request_fields):
    for pid, hours, verified in (("a", 20, True), ("b", 10, True), ("c", 0, False)):
        matchmaker.profile_changed(profile(pid, hours, verified))
    matchmaker.request_created(request(**request_fields))


def test_a_channel_needs_the_volunteers_yes_and_then_the_authors(world):
    store, matchmaker = world
    three_lawyers(store, matchmaker)
    assert proposed(store) == ["a", "b"]
    assert matchmaker.accept_match(volunteer("b"), ids(store)["b"])["status"] == "accepted"
    assert store.request("r1").get("taken_by") is None and proposed(store) == ["a"]
    with pytest.raises(Forbidden):
        matchmaker.confirm_match(volunteer("b"), ids(store)["b"])
    view = matchmaker.confirm_match(AUTHOR, ids(store)["b"], author_decision(ids(store)["b"], AUTHOR_ID))
    assert view["status"] == "confirmed" and view["volunteer"]["bio"] == "bio of b"
    assert store.request("r1")["taken_by"] == ids(store)["b"]
    assert {v: store.match(m)["status"] for v, m in ids(store).items()} == {"a": "withdrawn", "b": "confirmed"}
    assert [e["event_type"] for e in store.published] == [
        "matches_proposed", "match_accepted", "match_confirmed", "match_withdrawn"]
    assert [m["volunteer_id"] for m in store.published[0]["data"]["matches"]] == ["a", "b"]
    confirmed = store.published[2]["data"]
    assert confirmed["author_decision"]["claims"]["match_id"] == ids(store)["b"]  # the author's signed yes travels


def test_only_the_authors_signed_decision_for_this_very_match_confirms_it(world):
    """A compromised pod (or a bug) cannot confirm a helper the author did not choose."""
    from services.common.trust.keyring import Keyring, new_keys

    store, matchmaker = world
    three_lawyers(store, matchmaker)
    by = ids(store)
    matchmaker.accept_match(volunteer("a"), by["a"])
    matchmaker.accept_match(volunteer("b"), by["b"])
    for decision in (None, {"claims": {}, "signature": ""}, author_decision(by["a"], AUTHOR_ID),  # another match
                     author_decision(by["b"], "someone-else"),  # another author
                     Keyring(new_keys()).sign_decision(by["b"], AUTHOR_ID, 2),  # another gateway's key
                     author_decision(by["b"], AUTHOR_ID) | {"claims": dict(
                         author_decision(by["b"], AUTHOR_ID)["claims"], decision="reject")}):
        with pytest.raises(Forbidden):
            matchmaker.confirm_match(AUTHOR, by["b"], decision)
    assert store.match(by["b"])["status"] == "accepted" and store.request("r1").get("taken_by") is None


def test_a_rejection_asks_the_next_and_a_decline_too(world):
    store, matchmaker = world
    three_lawyers(store, matchmaker)
    matchmaker.accept_match(volunteer("a"), ids(store)["a"])
    matchmaker.reject_match(AUTHOR, ids(store)["a"])
    assert proposed(store) == ["b", "c"]
    matchmaker.decline_match(volunteer("b"), ids(store)["b"], {"reason": "I know them"})
    assert proposed(store) == ["c"]  # nobody left to ask
    assert "I know them" not in str(store.published)


def test_a_request_is_noted_as_wanting_exactly_while_it_holds_fewer_than_k(world):
    """What a volunteer's sign-up reads instead of walking every open need (store.py, `wants`)."""
    store, matchmaker = world

    def wants(request_id="r1"):
        return store.request(request_id).get("wants", []), store.request(request_id)["in_play"]

    matchmaker.request_created(request(skills=["legal", "press"]))
    assert wants() == (["legal", "press"], 0)  # nobody to ask yet
    matchmaker.profile_changed(profile("a"))
    assert proposed(store) == ["a"] and wants() == (["legal", "press"], 1)
    matchmaker.profile_changed(profile("b"))
    assert proposed(store) == ["a", "b"] and wants() == ([], 2)  # holds its k
    matchmaker.decline_match(volunteer("a"), ids(store)["a"])
    assert wants() == (["legal", "press"], 1)  # nobody left to ask
    matchmaker.profile_changed(profile("a", version=2, bio="again"))
    assert proposed(store) == ["b"]  # who declined is not asked again
    matchmaker.profile_changed(profile("c"))
    assert wants() == ([], 2)
    matchmaker.accept_match(volunteer("c"), ids(store)["c"])
    matchmaker.confirm_match(AUTHOR, ids(store)["c"], author_decision(ids(store)["c"], AUTHOR_ID))
    assert wants()[0] == []  # taken
    matchmaker.request_created(request("r2"))
    matchmaker.request_closed(request("r2", version=2, status="closed"))
    assert wants("r2")[0] == []


def test_a_confirmation_that_loses_a_race_gives_the_request_back(world):
    store, matchmaker = world
    three_lawyers(store, matchmaker)
    matchmaker.accept_match(volunteer("b"), ids(store)["b"])
    real_move = store.move

    def withdrawn_meanwhile(match, target, changes, events):
        if target == "confirmed":  # the volunteer left between the author's read and write
            real_move(store.match(match["_id"]), "withdrawn", {}, [])
        return real_move(match, target, changes, events)

    store.move = withdrawn_meanwhile
    with pytest.raises(Conflict):
        matchmaker.confirm_match(AUTHOR, ids(store)["b"], author_decision(ids(store)["b"], AUTHOR_ID))
    assert store.request("r1").get("taken_by") is None


def test_only_verified_volunteers_reach_what_is_not_public(world):
    store, matchmaker = world
    three_lawyers(store, matchmaker, visibility="private")
    assert proposed(store) == ["a", "b"]  # c is not verified
    matchmaker.request_created(request("r2", visibility="volunteers"))
    with pytest.raises(NotFound):
        matchmaker.offer_help(volunteer("c"), "r2")
    with pytest.raises(NotFound):
        matchmaker.offer_help(volunteer("a", verified=True), "r1")  # private: never offered on
    with pytest.raises(Forbidden):
        matchmaker.invite_volunteer(AUTHOR, "r1", {"volunteer_id": "c"})
    matchmaker.profile_changed(profile("a", 20, verified=False, version=2))  # a moderator un-verified a
    assert proposed(store) == ["b"]


def test_offers_and_invitations(world):
    store, matchmaker = world
    three_lawyers(store, matchmaker)
    matchmaker.profile_changed(profile("artist", skills=["art"], languages=["en"]))
    offer = matchmaker.offer_help(volunteer("artist"), "r1")
    assert (offer["status"], offer["origin"]) == ("accepted", "offer")
    assert matchmaker.offer_help(volunteer("artist"), "r1")["id"] == offer["id"]
    invited = matchmaker.invite_volunteer(AUTHOR, "r1", {"volunteer_id": "c"})
    assert (invited["status"], invited["origin"]) == ("proposed", "invitation")
    with pytest.raises(NotFound):
        matchmaker.invite_volunteer(dict(AUTHOR, account_id="someone"), "r1", {"volunteer_id": "c"})
    matchmaker.request_updated(request(version=2, urgency="low"))  # an edit keeps what people chose
    assert store.match(offer["id"])["status"] == "accepted"
    matchmaker.request_closed(request(version=3, status="withdrawn"))
    assert {m["status"] for m in store.matches_by_id.values()} == {"withdrawn"}


def test_unanswered_proposals_expire_and_the_next_is_asked(world):
    store, matchmaker = world
    three_lawyers(store, matchmaker)
    matchmaker.expire_due(NOW + timedelta(days=365))  # everything proposed so far is overdue
    assert {store.match(m)["status"] for v, m in ids(store).items() if v in ("a", "b")} == {"expired"}
    assert proposed(store) == ["c"]


class DiesOnce:
    """A store whose `method` fails once (the database going away mid-handler)."""

    def __init__(self, store, method):
        self.store, self.method, self.failed = store, method, False

    def __getattr__(self, name):
        real = getattr(self.store, name)
        if name != self.method or self.failed:
            return real

        def fail(*args, **kwargs):
            self.failed = True
            raise ConnectionError("the database went away")
        return fail


@pytest.mark.parametrize("step", ["add_proposals", "count_proposals"])
def test_a_redelivered_request_is_proposed_even_if_the_first_try_stored_it_and_died(step):
    store = InMemoryMatchStore()
    dying = DiesOnce(store, step)
    matchmaker = Matchmaker(dying, CandidateIndex(buckets=8), top_k=2, expiry_s=3600)
    for pid in ("a", "b"):
        matchmaker.profile_changed(profile(pid))
    with pytest.raises(ConnectionError):
        matchmaker.request_created(request())  # stored, then the database went away
    assert store.request("r1") is not None and len(proposed(store)) == (2 if step == "count_proposals" else 0)
    matchmaker.request_created(request())  # the same event, delivered again
    assert proposed(store) == ["a", "b"]
    matchmaker.request_created(request())  # and again: nothing twice
    assert proposed(store) == ["a", "b"] and len(store.published) == 1  # one act, one event


def test_a_redelivered_profile_is_matched_even_if_the_first_try_stored_it_and_died():
    store = InMemoryMatchStore()
    dying = DiesOnce(store, "requests_wanting")
    matchmaker = Matchmaker(dying, CandidateIndex(buckets=8), top_k=2, expiry_s=3600)
    matchmaker.request_created(request())
    with pytest.raises(ConnectionError):
        matchmaker.profile_changed(profile("a"))
    matchmaker.profile_changed(profile("a"))
    assert proposed(store) == ["a"]


def test_one_match_is_shown_to_its_volunteer_and_its_author_and_to_nobody_else(world):
    store, matchmaker = world
    three_lawyers(store, matchmaker)
    match_id = ids(store)["a"]
    assert matchmaker.get_match(volunteer("a"), match_id) == matchmaker.list_matches(volunteer("a"))["items"][0]
    # Until the volunteer says yes, the author knows only that someone was asked, not who.
    with pytest.raises(NotFound):
        matchmaker.get_match(AUTHOR, match_id)
    assert all("id" not in m and "volunteer_id" not in m for m in matchmaker.list_matches(AUTHOR)["items"])
    matchmaker.accept_match(volunteer("a"), match_id)
    assert matchmaker.get_match(AUTHOR, match_id) == next(
        m for m in matchmaker.list_matches(AUTHOR)["items"] if m.get("id") == match_id)
    for stranger in (volunteer("b"), {"account_id": "someone", "role": "activist", "handle": "x", "verified": False},
                     {"account_id": "a", "role": "activist", "handle": "a", "verified": False}):
        with pytest.raises(NotFound):
            matchmaker.get_match(stranger, match_id)
    with pytest.raises(NotFound):
        matchmaker.get_match(AUTHOR, "no-such-match")


def test_the_author_never_learns_who_declined_or_let_a_proposal_expire(world):
    """A honeypot request must not map who was asked and who refused."""
    store, matchmaker = world
    three_lawyers(store, matchmaker)
    by = ids(store)
    matchmaker.decline_match(volunteer("a"), by["a"], {"reason": "Not safe for me."})
    matchmaker.accept_match(volunteer("b"), by["b"])
    seen = matchmaker.list_matches(AUTHOR)["items"]
    assert [m["volunteer_id"] for m in seen if "volunteer_id" in m] == ["b"]
    assert all(m["status"] == "proposed" and "id" not in m for m in seen if "volunteer_id" not in m)
    assert by["a"] not in repr(seen)
    with pytest.raises(NotFound):
        matchmaker.get_match(AUTHOR, by["a"])


def test_a_profile_edit_rechecks_pending_matches_only_when_fit_may_have_changed():
    store = InMemoryMatchStore()
    dying = DiesOnce(store, "refresh_load")
    dying.failed = True  # not yet: armed below
    matchmaker = Matchmaker(dying, CandidateIndex(buckets=8), top_k=2, expiry_s=3600)
    matchmaker.profile_changed(profile("a"))
    matchmaker.request_created(request())
    reads = []
    real_request = store.request
    store.request = lambda request_id: reads.append(request_id) or real_request(request_id)
    matchmaker.profile_changed(profile("a", version=2, bio="a new bio", availability_hours=9))
    assert proposed(store) == ["a"] and reads == []  # nothing that decides fit changed: no re-check
    dying.failed = False  # the next edit is stored, then the database goes away
    with pytest.raises(ConnectionError):
        matchmaker.profile_changed(profile("a", version=3, languages=["ru"]))
    assert proposed(store) == ["a"]
    matchmaker.profile_changed(profile("a", version=3, languages=["ru"]))  # redelivered: checked in full
    assert proposed(store) == [] and store.match(ids(store)["a"])["status"] == "withdrawn"


def test_one_author_invites_at_most_so_many_volunteers_a_day():
    """A hostile account must not flood the directory's volunteers with invitations."""
    from services.common.errors import TooManyRequests

    store = InMemoryMatchStore()
    matchmaker = Matchmaker(store, CandidateIndex(buckets=8), top_k=0, expiry_s=3600, invitations_a_day=2)
    for pid in ("a", "b", "c"):
        matchmaker.profile_changed(profile(pid))
    matchmaker.request_created(request())
    for pid in ("a", "b"):
        assert matchmaker.invite_volunteer(AUTHOR, "r1", {"volunteer_id": pid})["origin"] == "invitation"
    with pytest.raises(TooManyRequests) as refused:
        matchmaker.invite_volunteer(AUTHOR, "r1", {"volunteer_id": "c"})
    assert refused.value.fields == {"volunteer_id": "Too many invitations today."}
    assert sorted(m["volunteer_id"] for m in store.matches_by_id.values()) == ["a", "b"]  # nothing changed


def test_matches_come_a_page_at_a_time_and_the_authors_cursor_names_no_match():
    """A volunteer's list and an author's grow with use: pages, newest first, none lost or repeated
    where a top-up's proposals share one time; an author's cursor gives away no match id."""
    store = InMemoryMatchStore()
    matchmaker = Matchmaker(store, CandidateIndex(buckets=8), top_k=3, expiry_s=3600)
    for pid in ("a", "b", "c"):
        matchmaker.profile_changed(profile(pid, max_active_matches=20))
    for n in range(4):  # each top-up proposes a, b and c at one time
        matchmaker.request_created(request(f"r{n}"))
    for reader in (volunteer("a"), AUTHOR):
        seen, before = [], None
        while True:
            page = matchmaker.list_matches(reader, limit=2, before=before)
            seen += page["items"]
            if "next" not in page:
                break
            before = page["next"]
            assert all(m["_id"] not in before for m in store.matches_by_id.values())
        expected = 4 if reader is not AUTHOR else 12
        assert len(seen) == expected
        if reader is not AUTHOR:
            assert len({m["id"] for m in seen}) == 4  # none repeated
    assert matchmaker.list_matches(AUTHOR, before="not a cursor") == {"items": []}  # as an unknown id elsewhere
    with pytest.raises(ValidationFailed) as refused:
        matchmaker.list_matches(AUTHOR, limit=0)
    assert set(refused.value.fields) == {"limit"}


def confirm(store, matchmaker, who="b"):
    match_id = ids(store)[who]
    matchmaker.accept_match(volunteer(who), match_id)
    matchmaker.confirm_match(AUTHOR, match_id, author_decision(match_id, AUTHOR_ID))
    return match_id


def test_the_author_ends_a_confirmed_helpers_access_and_nobody_else_can(world):
    store, matchmaker = world
    three_lawyers(store, matchmaker)
    match_id = confirm(store, matchmaker)
    with pytest.raises(Forbidden):
        matchmaker.end_match(volunteer("b"), match_id)  # the helper is told it is not theirs to end
    with pytest.raises(NotFound):
        matchmaker.end_match(volunteer("a"), match_id)
    view = matchmaker.end_match(AUTHOR, match_id)
    assert view["status"] == "ended" and view["volunteer"]["handle"] == "b"  # the author still knows whom
    assert matchmaker.end_match(AUTHOR, match_id)["status"] == "ended"  # again: nothing more happens
    ended = [e for e in store.published if e["event_type"] == "match_ended"]
    assert len(ended) == 1 and ended[0]["data"]["ended_by"] == "author" and ended[0]["data"]["volunteer_id"] == "b"
    assert store.request("r1").get("taken_by") is None  # the need can be proposed again
    with pytest.raises(Conflict):  # a proposal still waiting is no helper's access to end
        matchmaker.end_match(AUTHOR, ids(store)["a"])


def test_a_helper_who_loses_the_standing_a_request_needs_loses_their_access(world):
    store, matchmaker = world
    three_lawyers(store, matchmaker, visibility="private")
    match_id = confirm(store, matchmaker, "a")
    matchmaker.profile_changed(profile("a", 20, verified=True, version=2, bio="edited"))  # fit unchanged
    assert store.match(match_id)["status"] == "confirmed"
    matchmaker.profile_changed(profile("a", 20, verified=False, version=3))  # a moderator un-verified them
    assert store.match(match_id)["status"] == "ended" and store.match(match_id)["ended_by"] == "standing"
    assert store.request("r1").get("taken_by") is None
    matchmaker.profile_changed(profile("a", 20, verified=False, version=4, bio="again"))
    assert [e["data"]["match_id"] for e in store.published if e["event_type"] == "match_ended"] == [match_id]
