from services.matching import scoring


def volunteer(vid, skills, languages, **extra):
    base = {"_id": vid, "role": "volunteer", "status": "active", "skills": skills, "languages": languages,
            "countries": [], "availability_hours": 0, "max_active_matches": 3, "verified": False}
    return base | extra


REQUEST = {"_id": "r1", "author_id": "activist-1", "skills": ["legal"], "languages": ["fa"], "country": "IR",
           "urgency": "normal"}


def test_a_volunteer_needs_a_required_skill_and_a_shared_language():
    assert scoring.eligible(REQUEST, volunteer("v1", ["legal"], ["fa", "en"]))
    assert not scoring.eligible(REQUEST, volunteer("v2", ["press"], ["fa"]))  # wrong skill
    assert not scoring.eligible(REQUEST, volunteer("v3", ["legal"], ["de"]))  # no shared language
    assert not scoring.eligible(REQUEST, volunteer("v4", ["legal"], []))


def test_translation_wants_every_language_of_the_request():
    request = dict(REQUEST, skills=["translation"], languages=["fa", "en"])
    assert scoring.eligible(request, volunteer("v1", ["translation"], ["fa", "en"]))
    assert not scoring.eligible(request, volunteer("v2", ["translation"], ["en"]))
    assert not scoring.eligible(request, volunteer("v3", ["translation"], ["fa", "de"]))


def test_a_need_without_languages_takes_anyone_with_the_skill():
    request = dict(REQUEST, languages=[])
    assert scoring.eligible(request, volunteer("v1", ["legal"], []))
    assert scoring.eligible(request, volunteer("v2", ["legal"], ["de"]))


def test_the_author_inactive_accounts_and_full_volunteers_are_never_proposed():
    assert not scoring.eligible(REQUEST, volunteer("activist-1", ["legal"], ["fa"]))
    assert not scoring.eligible(REQUEST, volunteer("v1", ["legal"], ["fa"], status="deactivated"))
    assert not scoring.eligible(REQUEST, volunteer("v1", ["legal"], ["fa"], status="suspended"))
    assert not scoring.eligible(REQUEST, volunteer("v1", ["legal"], ["fa"], role="activist"))
    assert not scoring.eligible(REQUEST, volunteer("v1", ["legal"], ["fa"], active_matches=3))
    assert not scoring.eligible(REQUEST, volunteer("v1", ["legal"], ["fa"], max_active_matches=0))


def test_open_proposals_count_against_room_up_to_twice_capacity():
    assert scoring.eligible(REQUEST, volunteer("v1", ["legal"], ["fa"], open_proposals=5))
    assert not scoring.eligible(REQUEST, volunteer("v1", ["legal"], ["fa"], open_proposals=6))
    assert not scoring.eligible(REQUEST, volunteer("v1", ["legal"], ["fa"], open_proposals=4, active_matches=2))
    # Still fits: an open proposal stays valid even when the volunteer is at the cap.
    assert scoring.fits(REQUEST, volunteer("v1", ["legal"], ["fa"], open_proposals=6))


def value_of(**extra):
    return scoring.value(REQUEST, volunteer("v", ["legal"], ["fa"], **extra))


def test_each_part_moves_the_score_the_right_way():
    plain = value_of()
    assert value_of(countries=["IR"]) > plain
    assert value_of(availability_hours=10) > plain
    assert value_of(availability_hours=40) == value_of(availability_hours=20)  # no credit past full
    assert value_of(verified=True) > plain
    assert value_of(open_proposals=2) < plain  # load
    assert value_of(active_matches=1) < plain
    assert value_of(stats={"accepted": 4, "answer_seconds": 4 * 3600}) > plain  # accepts, and quickly
    assert value_of(stats={"declined": 4, "answer_seconds": 4 * 3600}) < value_of(
        stats={"accepted": 4, "answer_seconds": 4 * 3600})
    assert value_of(stats={"expired": 3}) < plain
    slow = {"accepted": 2, "answer_seconds": 2 * 72 * 3600}
    fast = {"accepted": 2, "answer_seconds": 2 * 600}
    assert value_of(stats=fast) > value_of(stats=slow)


def test_skills_and_languages_covered_count_by_share():
    request = dict(REQUEST, skills=["legal", "press"], languages=["fa", "en"])
    both = scoring.value(request, volunteer("a", ["legal", "press"], ["fa", "en"]))
    half_skills = scoring.value(request, volunteer("b", ["legal"], ["fa", "en"]))
    half_languages = scoring.value(request, volunteer("c", ["legal", "press"], ["fa"]))
    assert both > half_skills and both > half_languages
    assert half_languages > half_skills  # skills weigh more than languages


def test_urgency_weighs_how_fast_someone_answers():
    fast = volunteer("fast", ["legal"], ["fa"], stats={"accepted": 3, "answer_seconds": 3 * 300})
    slow = volunteer("slow", ["legal"], ["fa"], stats={"accepted": 3, "answer_seconds": 3 * 48 * 3600},
                     availability_hours=5)
    gaps = {u: scoring.value(dict(REQUEST, urgency=u), fast) - scoring.value(dict(REQUEST, urgency=u), slow)
            for u in scoring.URGENCIES}
    assert gaps["critical"] > gaps["high"] > gaps["normal"] == gaps["low"]


def test_a_perfect_fit_scores_one_at_every_urgency():
    best = volunteer("v", ["legal"], ["fa"], countries=["IR"], availability_hours=20, verified=True,
                     stats={"accepted": 10**6, "answer_seconds": 0})
    for urgency in scoring.URGENCIES:
        assert abs(scoring.value(dict(REQUEST, urgency=urgency), best) - 1.0) < 1e-5


def test_rank_orders_by_fit_and_explains_why():
    strong = volunteer("v-strong", ["legal"], ["fa"], countries=["IR"], availability_hours=20, verified=True,
                       stats={"accepted": 3, "declined": 1, "answer_seconds": 4 * 1800})
    weak = volunteer("v-weak", ["legal"], ["fa"])
    unfit = volunteer("v-unfit", ["art"], ["fa"])
    ranked = scoring.rank(dict(REQUEST, urgency="high"), [weak, unfit, strong], k=5)
    assert [v["_id"] for v, _, _ in ranked] == ["v-strong", "v-weak"]
    _, top_score, reasons = ranked[0]
    assert 0.9 < top_score <= 1.0
    assert reasons[:2] == ["Has the skills asked for: legal", "Speaks fa"]
    assert "Knows IR" in reasons and "Verified by a moderator" in reasons
    assert "Offers 20 hours a month" in reasons
    assert "Accepted 3 of 4 past proposals" in reasons
    assert "Usually answers within the hour, and this need is urgent" in reasons
    assert "Has room: helping with 0 of up to 3" in reasons


def test_partial_skill_cover_is_explained():
    request = dict(REQUEST, skills=["legal", "press"])
    _, reasons = scoring.score(request, volunteer("v", ["press"], ["fa"]))
    assert reasons[0] == "Has the skills asked for: press (1 of 2)"


def test_rank_breaks_ties_per_request_so_equals_take_turns():
    pool = [volunteer(f"v{i}", ["legal"], ["fa"]) for i in range(10)]
    first = [v["_id"] for v, _, _ in scoring.rank(REQUEST, pool, k=3)]
    assert first == [v["_id"] for v, _, _ in scoring.rank(REQUEST, list(reversed(pool)), k=3)]  # stable
    winners = {tuple(v["_id"] for v, _, _ in scoring.rank(dict(REQUEST, _id=f"r{n}"), pool, k=3)) for n in range(10)}
    assert len(winners) > 1  # another request, another order among equals


def test_rank_skips_the_excluded():
    pool = [volunteer("a", ["legal"], ["fa"], verified=True), volunteer("b", ["legal"], ["fa"])]
    assert [v["_id"] for v, _, _ in scoring.rank(REQUEST, pool, k=5, exclude={"a"})] == ["b"]
