"""The campaigns' rules that hold under a state adversary, in milliseconds: who may remove an owner,
what the owner log says, when counts change, and that a status is news only once confirmed."""
from datetime import datetime, timedelta, timezone

import pytest

from services.campaigns import consent, count_schedule, owners, supporters
from services.common.errors import Forbidden, NotFound

CAMPAIGN = {"_id": "c" * 32, "owners": ["family", "lawyer", "ngo"], "created_by": "family", "mode": "public",
            "owner_handles": {"family": "mother", "lawyer": "lawyer-k", "ngo": "ngo-x"},
            "prisoner_status": "detained", "version": 3, "updated_at": datetime(2026, 12, 1, tzinfo=timezone.utc)}


def test_the_owners_see_every_co_owners_handle_the_creator_first():
    shuffled = dict(CAMPAIGN, owners=["ngo", "family", "lawyer"])
    assert owners.co_owners(shuffled) == [{"handle": "mother", "creator": True},
                                          {"handle": "ngo-x", "creator": False},
                                          {"handle": "lawyer-k", "creator": False}]


def test_the_creator_removes_any_co_owner_a_co_owner_only_leaves_and_nobody_removes_the_creator():
    assert owners.removable(CAMPAIGN, "family", "lawyer-k") == "lawyer"
    assert owners.removable(CAMPAIGN, "lawyer", "lawyer-k") == "lawyer"  # leaves
    with pytest.raises(Forbidden):
        owners.removable(CAMPAIGN, "lawyer", "ngo-x")  # a compromised co-owner cannot clear the others out
    with pytest.raises(Forbidden):
        owners.removable(CAMPAIGN, "lawyer", "mother")
    with pytest.raises(NotFound):
        owners.removable(CAMPAIGN, "family", "stranger")
    orphaned = dict(CAMPAIGN, created_by=None)  # the creator's account was deleted
    assert owners.removable(orphaned, "lawyer", "ngo-x") == "ngo"


def test_the_owner_log_says_who_did_what_to_the_minute_and_keeps_the_newest():
    at = datetime(2026, 12, 5, 10, 42, 17, 5, tzinfo=timezone.utc)
    line = owners.entry(at, "mother", "paused")
    assert line == {"at": "2026-12-05T10:42:00+00:00", "by": "mother", "action": "paused", "detail": None}
    full = dict(CAMPAIGN, owner_log=[owners.entry(at, "mother", "edited")] * owners.LOG_SIZE)
    assert owners.logged(full, line)[-1] == line and len(owners.logged(full, line)) == owners.LOG_SIZE
    assert owners.of_change(CAMPAIGN, {"mode": "paused"}, None) == [("paused", None)]
    assert owners.of_change(dict(CAMPAIGN, mode="paused"), {"mode": "quiet"}, None) == [("resumed", "quiet")]
    assert owners.of_change(CAMPAIGN, {"status_pending": "sentenced", "consent_review_due": True}, None) == [
        ("status_proposed", "sentenced")]
    assert owners.of_change(CAMPAIGN, {"consent": {}, "title": "x"}, "released") == [
        ("status_confirmed", "released"), ("consent_changed", None), ("edited", None)]


def test_counts_change_only_when_a_new_period_begins_whenever_someone_signed():
    every = 600
    start = datetime(2026, 12, 5, 10, 0, tzinfo=timezone.utc)  # a period's first second
    period = count_schedule.period(start, every)
    assert count_schedule.due(None, start, every)
    # A signature after a quiet spell, anywhere in the period: nothing is published until the next.
    for offset in (1, 5, 299, 599):
        assert not count_schedule.due(period, start + timedelta(seconds=offset), every)
    assert count_schedule.due(period, start + timedelta(seconds=600), every)


def test_a_new_status_is_only_proposed_until_an_owner_confirms_and_only_then_is_it_news():
    proposed = consent.status_changes(CAMPAIGN, {"prisoner_status": "sentenced"})
    assert proposed == {"status_pending": "sentenced", "consent_review_due": True}
    after = dict(CAMPAIGN, **proposed, version=4)
    assert supporters.news_of_change(CAMPAIGN, after, "campaigns") == []  # nothing emailed yet
    confirmed = consent.status_changes(after, {"consent_confirmed": True})
    assert confirmed == {"consent_review_due": False, "prisoner_status": "sentenced", "status_pending": None}
    shown = dict(after, **confirmed, version=5)
    assert [e["event_type"] for e in supporters.news_of_change(after, shown, "campaigns")] == ["campaign_news"]
    # Consent levels given with the new status do not confirm it; back to the status shown leaves nothing pending.
    assert consent.status_changes(CAMPAIGN, {"prisoner_status": "tried", "consent": {"name": "public"}}) == {
        "status_pending": "tried", "consent_review_due": True}
    assert consent.status_changes(after, {"prisoner_status": "detained"}) == {"status_pending": None}
    assert consent.status_changes(CAMPAIGN, {"prisoner_status": "released", "consent_confirmed": True}) == {
        "status_pending": None, "consent_review_due": False, "prisoner_status": "released"}
