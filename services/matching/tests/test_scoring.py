from services.matching import scoring


def volunteer(vid, skills, languages, **extra):
    base = {"_id": vid, "role": "volunteer", "status": "active", "skills": skills, "languages": languages,
            "countries": [], "availability_hours": 0, "max_active_matches": 3, "verified": False}
    return base | extra


REQUEST = {"_id": "r1", "author_id": "activist-1", "skills": ["legal"], "languages": ["fa"], "country": "IR"}


def test_a_volunteer_needs_a_required_skill_and_a_shared_language():
    assert scoring.eligible(REQUEST, volunteer("v1", ["legal"], ["fa", "en"]))
    assert not scoring.eligible(REQUEST, volunteer("v2", ["press"], ["fa"]))  # wrong skill
    assert not scoring.eligible(REQUEST, volunteer("v3", ["legal"], ["de"]))  # no shared language


def test_translation_wants_every_language_of_the_request():
    request = dict(REQUEST, skills=["translation"], languages=["fa", "en"])
    assert scoring.eligible(request, volunteer("v1", ["translation"], ["fa", "en"]))
    assert not scoring.eligible(request, volunteer("v2", ["translation"], ["en"]))


def test_the_author_inactive_accounts_and_full_volunteers_are_never_proposed():
    assert not scoring.eligible(REQUEST, volunteer("activist-1", ["legal"], ["fa"]))
    assert not scoring.eligible(REQUEST, volunteer("v1", ["legal"], ["fa"], status="deactivated"))
    assert not scoring.eligible(REQUEST, volunteer("v1", ["legal"], ["fa"], active_matches=3))


def test_rank_orders_by_fit_and_explains_why():
    strong = volunteer("v-strong", ["legal"], ["fa"], countries=["IR"], availability_hours=20, verified=True)
    weak = volunteer("v-weak", ["legal"], ["fa"])
    unfit = volunteer("v-unfit", ["art"], ["fa"])
    ranked = scoring.rank(REQUEST, [weak, unfit, strong], k=5)
    assert [v["_id"] for v, _, _ in ranked] == ["v-strong", "v-weak"]
    _, top_score, reasons = ranked[0]
    assert top_score == 1.0
    assert "Knows IR" in reasons and "Verified by a moderator" in reasons


def test_rank_keeps_the_top_k_with_stable_ties():
    pool = [volunteer(f"v{i}", ["legal"], ["fa"]) for i in range(10)]
    ranked = scoring.rank(REQUEST, pool, k=3)
    assert [v["_id"] for v, _, _ in ranked] == ["v0", "v1", "v2"]
