"""The candidate index must give exactly what a full scan (`scoring.rank`) gives, whatever changes."""
import random
from collections import Counter

from services.matching import scoring
from services.matching.index import CandidateIndex

SKILLS = ["legal", "press", "translation", "tech", "art"]
LANGUAGES = ["fa", "en", "ar", "de", "ru"]
COUNTRIES = ["IR", "SY", "DE", "US"]


def random_volunteer(rng, n):
    return {"_id": f"v{n}", "role": "volunteer", "status": rng.choice(["active"] * 9 + ["suspended"]),
            "skills": rng.sample(SKILLS, rng.randint(1, 2)), "languages": rng.sample(LANGUAGES, rng.randint(0, 3)),
            "countries": rng.sample(COUNTRIES, rng.randint(0, 2)), "availability_hours": rng.choice([0, 5, 10, 20, 40]),
            "max_active_matches": rng.choice([1, 3]), "verified": rng.random() < 0.3,
            "active_matches": rng.choice([0, 0, 1]), "open_proposals": rng.choice([0, 1, 2]),
            "stats": {"accepted": rng.randint(0, 3), "declined": rng.randint(0, 3), "expired": rng.randint(0, 1),
                      "answer_seconds": rng.randint(0, 200000)}}


def random_request(rng, n, author="v3"):
    return {"_id": f"r{n}", "author_id": author, "skills": rng.sample(SKILLS, rng.randint(1, 2)),
            "languages": rng.sample(LANGUAGES, rng.randint(0, 2)), "country": rng.choice(COUNTRIES),
            "urgency": rng.choice(scoring.URGENCIES),
            # Not public, or asked by its author: moderator-verified volunteers only.
            "visibility": rng.choice(["public", "public", "public", "volunteers", "private"]),
            "verified_only": rng.random() < 0.1}


def test_only_verified_volunteers_are_candidates_for_what_is_not_public():
    rng = random.Random(7)
    pool = [random_volunteer(rng, n) for n in range(800)]
    index = CandidateIndex(buckets=16).build(pool)
    verified = {v["_id"] for v in pool if v["verified"]}
    for n in range(50):
        request = dict(random_request(rng, n), visibility="private")
        found = [volunteer["_id"] for volunteer, _, _ in index.top(request, 10)]
        assert found and set(found) <= verified


def ids(ranked):
    return [(volunteer["_id"], value, reasons) for volunteer, value, reasons in ranked]


def test_the_index_agrees_with_a_full_scan():
    rng = random.Random(4)
    pool = [random_volunteer(rng, n) for n in range(1500)]
    index = CandidateIndex(buckets=16).build(pool)
    for n in range(200):
        request = random_request(rng, n)
        exclude = {f"v{rng.randrange(1500)}" for _ in range(4)}
        k = rng.choice([1, 5, 12])
        assert ids(index.top(request, k, exclude)) == ids(scoring.rank(request, pool, k, exclude)), request


def test_the_index_follows_changes_and_removals():
    rng = random.Random(5)
    pool = {f"v{n}": random_volunteer(rng, n) for n in range(600)}
    index = CandidateIndex(buckets=8).build(pool.values())
    for step in range(400):
        vid = f"v{rng.randrange(600)}"
        if rng.random() < 0.2:
            pool.pop(vid, None)
            index.remove(vid)
        else:
            pool[vid] = random_volunteer(rng, int(vid[1:]))
            index.put(pool[vid])
        if step % 20 == 0:
            request = random_request(rng, step)
            assert ids(index.top(request, 5)) == ids(scoring.rank(request, pool.values(), 5))
    expected = sum(1 for v in pool.values() if v["status"] == "active" and scoring.has_room(v))
    assert len(index) == expected


def test_only_volunteers_who_can_take_a_proposal_are_indexed():
    index = CandidateIndex()
    base = {"role": "volunteer", "status": "active", "skills": ["legal"], "languages": ["fa"], "countries": [],
            "availability_hours": 5, "max_active_matches": 2, "verified": False}
    assert index.put(dict(base, _id="ok"))
    assert not index.put(dict(base, _id="suspended", status="suspended"))
    assert not index.put(dict(base, _id="full", active_matches=2))
    assert not index.put(dict(base, _id="activist", role="activist"))
    assert not index.put(dict(base, _id="no-skills", skills=[]))
    assert "ok" in index and len(index) == 1
    index.put(dict(base, _id="ok", status="deactivated"))
    assert len(index) == 0 and index.lists == {} and index.sizes == {}


def test_a_translation_need_only_reads_the_rarest_language_but_finds_everyone():
    pool = [{"_id": f"en{n}", "role": "volunteer", "status": "active", "skills": ["translation"],
             "languages": ["en"], "countries": [], "availability_hours": 20, "max_active_matches": 3,
             "verified": True} for n in range(50)]
    pool.append({"_id": "both", "role": "volunteer", "status": "active", "skills": ["translation"],
                 "languages": ["en", "fa"], "countries": [], "availability_hours": 0, "max_active_matches": 3,
                 "verified": False})
    index = CandidateIndex().build(pool)
    request = {"_id": "r", "author_id": "a", "skills": ["translation"], "languages": ["fa", "en"],
               "country": "IR", "urgency": "normal"}
    _, scored = index.top_slots(request, 5)
    assert [v["_id"] for v, _, _ in index.top(request, 5)] == ["both"]
    assert scored == 1  # the 50 English-only translators were never read


def test_several_languages_agree_with_a_full_scan():
    """Needs in two or three languages (and a repeated one) read the language-pair lists with the
    whole language part and the single-language lists with one language's share of it."""
    rng = random.Random(8)
    pool = [random_volunteer(rng, n) for n in range(1500)]
    index = CandidateIndex(buckets=16).build(pool)
    for n in range(300):
        request = random_request(rng, n)
        request["languages"] = rng.sample(LANGUAGES, rng.randint(2, 4))
        if n % 10 == 0:
            request["languages"].append(request["languages"][0])
        k = rng.choice([1, 5, 12])
        assert ids(index.top(request, k)) == ids(scoring.rank(request, pool, k)), request


def test_a_need_in_two_languages_reads_those_who_speak_both_first():
    """50 volunteers who speak one of the two languages and are better on everything else, one
    who speaks both: they are bounded at half the language part, so they are never read."""
    pool = [{"_id": f"en{n}", "role": "volunteer", "status": "active", "skills": ["legal"],
             "languages": ["en", "de"], "countries": [], "availability_hours": 20, "max_active_matches": 3,
             "verified": True} for n in range(50)]
    pool.append({"_id": "both", "role": "volunteer", "status": "active", "skills": ["legal"],
                 "languages": ["en", "fa"], "countries": [], "availability_hours": 10, "max_active_matches": 3,
                 "verified": True})
    index = CandidateIndex().build(pool)
    request = {"_id": "r", "author_id": "a", "skills": ["legal"], "languages": ["fa", "en"],
               "country": "IR", "urgency": "normal"}
    assert [v["_id"] for v, _, _ in index.top(request, 1)] == ["both"]
    assert ids(index.top(request, 1)) == ids(scoring.rank(request, pool, 1))
    _, scored = index.top_slots(request, 1)
    assert scored == 1
    assert ("legal", "en&fa") in index.lists and ("legal", "de&en") in index.lists


def test_a_need_without_languages_reads_no_pair_list_twice():
    pool = [{"_id": f"v{n}", "role": "volunteer", "status": "active", "skills": ["legal"],
             "languages": ["en", "fa", "de"], "countries": ["IR"], "availability_hours": 5 * n,
             "max_active_matches": 3} for n in range(5)]
    index = CandidateIndex().build(pool)
    assert set(index.skill_languages["legal"]) == {"de", "en", "fa"}
    request = {"_id": "r", "author_id": "a", "skills": ["legal"], "languages": [], "country": "IR",
               "urgency": "normal"}
    assert ids(index.top(request, 3)) == ids(scoring.rank(request, pool, 3))
    index.remove("v0")
    for n in range(1, 5):
        index.remove(f"v{n}")
    assert index.lists == {} and index.sizes == {} and len(index) == 0


def test_retrieval_reads_only_the_best_buckets():
    rng = random.Random(6)
    pool = [random_volunteer(rng, n) for n in range(20000)]
    index = CandidateIndex().build(pool)
    request = {"_id": "r", "author_id": "a", "skills": ["legal"], "languages": ["fa"], "country": "IR",
               "urgency": "normal"}
    candidates = sum(1 for v in pool if scoring.eligible(request, v))
    _, scored = index.top_slots(request, 5)
    assert scored < candidates / 10


def test_load_spreading_keeps_the_best_few_from_taking_every_request():
    """Fairness: each proposal adds to a volunteer's load, which lowers their score, and nobody
    holds more than twice their capacity in open proposals. 30 identical needs, k = 3, one star
    volunteer and 20 good ones: the star gets at most 6, and everyone gets a turn."""
    star = {"_id": "star", "role": "volunteer", "status": "active", "skills": ["legal"], "languages": ["fa"],
            "countries": ["IR"], "availability_hours": 20, "max_active_matches": 3, "verified": True,
            "stats": {"accepted": 9, "answer_seconds": 9 * 600}}
    pool = {"star": star} | {f"v{n}": dict(star, _id=f"v{n}", countries=[], verified=False, availability_hours=10,
                                           stats={}) for n in range(20)}
    index = CandidateIndex().build(pool.values())
    proposals = Counter()
    for n in range(30):
        request = {"_id": f"r{n}", "author_id": "a", "skills": ["legal"], "languages": ["fa"], "country": "IR",
                   "urgency": "normal"}
        for volunteer, _, _ in index.top(request, 3):
            proposals[volunteer["_id"]] += 1
            pool[volunteer["_id"]]["open_proposals"] = proposals[volunteer["_id"]]
            index.put(pool[volunteer["_id"]])
    assert proposals["star"] == 6
    others = [proposals[f"v{n}"] for n in range(20)]
    assert min(others) >= 3 and max(others) <= 6
    assert sum(proposals.values()) == 90
