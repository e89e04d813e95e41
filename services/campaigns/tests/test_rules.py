"""The campaigns' rules in milliseconds: who sees which detail, and what counts are shown."""
from datetime import date

import pytest

from services.campaigns import consent, public_counts

OWNER = {"account_id": "family", "role": "activist", "handle": "f", "verified": False}
VETTED = {"account_id": "v", "role": "volunteer", "handle": "v", "verified": True}
UNVETTED = dict(VETTED, verified=False)
MODERATOR = {"account_id": "m", "role": "moderator", "handle": "m", "verified": False}
CAMPAIGN = {"owners": ["family"], "mode": "public", "consent": {"name": "public", "prison": "verified",
                                                                "family_names": "owners"}}
PRISONER = {"name": "N", "prison": "P", "family_names": "F", "charges": "C"}


@pytest.mark.parametrize("viewer, seen", [
    (None, {"name"}), (UNVETTED, {"name"}), (VETTED, {"name", "prison"}), (MODERATOR, {"name", "prison"}),
    (OWNER, {"name", "prison", "family_names", "charges"}),
])
def test_each_detail_reaches_whom_its_consent_allows_and_an_unchosen_one_the_owners_only(viewer, seen):
    assert set(consent.prisoner_view(CAMPAIGN, PRISONER, viewer)) == seen


def test_while_consent_is_to_be_asked_again_every_detail_is_the_owners():
    asking = dict(CAMPAIGN, consent_review_due=True)
    assert consent.prisoner_view(asking, PRISONER, VETTED) == {} and consent.prisoner_view(asking, PRISONER, None) == {}
    assert set(consent.prisoner_view(asking, PRISONER, OWNER)) == set(PRISONER)


def test_a_paused_campaign_exists_for_its_owners_only():
    paused = dict(CAMPAIGN, mode="paused")
    assert consent.visible(paused, OWNER) and not consent.visible(paused, VETTED)
    assert not consent.visible(paused, None) and not consent.visible(None, OWNER)
    assert consent.visible(dict(CAMPAIGN, mode="quiet"), None)


def test_days_detained_count_while_held():
    held = {"detained_on": "2026-03-01", "prisoner_status": "sentenced"}
    assert consent.days_detained(held, today=date(2026, 3, 11)) == 10
    assert consent.days_detained(dict(held, prisoner_status="released"), today=date(2026, 3, 11)) is None
    assert consent.days_detained({"detained_on": None}, today=date(2026, 3, 11)) is None


@pytest.mark.parametrize("count, shown", [(0, 0), (4, 0), (27, 25), (99, 95), (104, 100), (1234, 1200),
                                          (25999, 25000)])
def test_counts_are_rounded_down(count, shown):
    assert public_counts.rounded(count) == shown


def test_a_country_is_shown_only_from_the_threshold_and_the_prisoners_country_never():
    counts = {"total": 1000, "by_country": {"DE": 30, "FR": 24, "IR": 900, "US": 25}}
    none = {"journalists": 0, "lawyers": 0, "policy_makers": 0}
    assert public_counts.shown(counts, "IR") == {"total": 1000, "by_country": {"DE": 30, "US": 25}, "professionals": none}
    assert public_counts.shown(counts, "IR", threshold=30)["by_country"] == {"DE": 30}
    assert public_counts.shown(None, "IR") == {"total": 0, "by_country": {}, "professionals": none}


def test_verified_professionals_are_counted_apart_by_what_their_skills_make_them():
    assert public_counts.professions(["press", "legal", "translation"]) == ["journalists", "lawyers"]
    assert public_counts.professions(["policy"]) == ["policy_makers"] and public_counts.professions([]) == []
    counted = public_counts.shown({"total": 3, "professionals": {"lawyers": 2, "journalists": 7}}, "IR")["professionals"]
    assert counted == {"journalists": 5, "lawyers": 0, "policy_makers": 0}  # rounded like every count
