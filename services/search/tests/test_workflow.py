"""search's rules, in milliseconds: what reaches the index and what a lifecycle keeps, over the
in-memory twins (memory.py, held to the real ports' contract). The queries and the reports'
aggregations are Elasticsearch's: test_queries.py and test_analytics.py build them, the
*_integration tests run them."""
from datetime import datetime, timedelta, timezone

import pytest

from services.common.errors import Forbidden, ValidationFailed
from services.search import memory
from services.search.workflow import SearchWorkflow

T0 = datetime(2026, 12, 6, 12, 0, tzinfo=timezone.utc)


@pytest.fixture
def work():
    return SearchWorkflow(memory.InMemoryLifecycleStore(), memory.InMemoryIndex())


def request(version=1, **fields):
    return {"request_id": "r1", "author_id": "act-1", "title": "A lawyer for an appeal", "body": "Next month.",
            "skills": ["legal"], "languages": ["fa"], "country": "IR", "urgency": "high", "visibility": "public",
            "status": "open", "hidden": False, "created_at": T0, "version": version} | fields


def test_a_request_leaves_the_index_once_private_or_hidden_and_its_lifecycle_names_nobody(work):
    work.request_changed(request())
    assert work.index.get("requests", "r1")["title"] == "A lawyer for an appeal"
    assert "author_id" not in work.index.get("requests", "r1")
    work.request_changed(request(version=2, hidden=True))
    assert work.index.get("requests", "r1") is None
    work.request_changed(request(version=1))  # the first version, redelivered late
    assert work.index.get("requests", "r1") is None
    work.request_changed(request(version=3, visibility="private"))
    assert work.index.get("requests", "r1") is None

    analytics = work.index.get("analytics", "r1")
    assert analytics["visibility"] == "private" and not {"author_id", "title", "body"} & set(analytics)


def test_volunteers_are_found_while_active_by_their_public_fields_only(work):
    volunteer = {"profile_id": "v1", "role": "volunteer", "status": "active", "version": 1, "handle": "hafez",
                 "skills": ["legal"], "languages": ["fa"], "countries": ["IR"], "bio": "Lawyer.", "verified": True,
                 "availability_hours": 4, "contact_sealed": "sealed", "email": "v1@example.org"}
    work.profile_changed(volunteer)
    assert set(work.index.get("volunteers", "v1")) == {"handle", "skills", "languages", "countries", "bio",
                                                        "verified", "availability_hours"}
    work.profile_changed(dict(volunteer, status="suspended", version=2))
    assert work.index.get("volunteers", "v1") is None
    work.profile_changed(dict(volunteer, profile_id="a1", role="activist"))
    assert work.index.get("volunteers", "a1") is None
    work.profile_changed(dict(volunteer, version=3))
    work.profile_deleted({"profile_id": "v1", "version": 4})
    work.profile_changed(dict(volunteer, version=3))  # late: the deletion holds
    assert work.index.get("volunteers", "v1") is None


def test_a_quiet_campaign_is_indexed_without_its_text_and_a_paused_one_not_at_all(work):
    campaign = {"campaign_id": "c1", "mode": "public", "title": "Free Narges", "story": "Detained since 2021.",
                "prisoner_country": "IR", "prisoner_status": "detained", "language": "fa", "disputed": False,
                "detained_on": "2021-11-16", "created_at": T0, "version": 1}
    work.campaign_changed(campaign)
    assert work.index.get("campaigns", "c1")["title"] == "Free Narges"
    work.campaign_changed(dict(campaign, mode="quiet", version=2))
    quiet = work.index.get("campaigns", "c1")
    assert (quiet["title"], quiet["story"], quiet["listed"]) == (None, None, False)
    work.campaign_changed(dict(campaign, mode="paused", version=3))
    assert work.index.get("campaigns", "c1") is None


def test_response_times_keep_the_first_proposal_and_the_need_met_whatever_the_order(work):
    work.first_proposed("r1", T0 + timedelta(hours=2))  # the proposal overtook its request
    work.request_changed(request())
    work.first_proposed("r1", T0 + timedelta(hours=3))
    work.need_met("r1", T0 + timedelta(hours=5))
    lifecycle = work.index.get("analytics", "r1")
    assert (lifecycle["hours_to_first_proposal"], lifecycle["hours_to_acceptance"]) == (2.0, 5.0)


def test_reports_are_for_analysts_and_a_bad_parameter_is_named(work):
    with pytest.raises(Forbidden):
        work.analytics_report({"account_id": "m1", "role": "moderator"}, "requests", {})
    with pytest.raises(Forbidden):
        work.analytics_report(None, "requests", {})
    with pytest.raises(ValidationFailed) as error:
        work.analytics_report({"account_id": "a1", "role": "analyst"}, "requests", {"colour": "red"})
    assert "colour" in error.value.fields
