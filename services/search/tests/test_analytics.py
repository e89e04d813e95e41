"""The report logic without a server: dimensions, suppression of small buckets, rows."""
from datetime import datetime, timedelta, timezone

import pytest

from services.common.errors import NotFound, Unprocessable
from services.search import analytics, indices


def test_dimensions_are_validated_by_name():
    assert analytics.parse_by("requests", {"by": "month,country"}) == ["month", "country"]
    assert analytics.parse_by("unmet-needs", {}) == ["skill", "country"]
    for report, by in (("requests", "author"), ("requests", "skill,skill"), ("requests", ""),
                       ("requests", "skill,month")):
        with pytest.raises(Unprocessable) as error:  # (the query's schema refuses what is no grouping at all)
            analytics.parse_by(report, {"by": by})
        assert set(error.value.fields) == {"by"}
    with pytest.raises(NotFound) as error:  # a path that names no report
        analytics.parse_by("who-asked", {})
    assert set(error.value.fields) == {"report"}


def test_buckets_smaller_than_k_are_left_out_without_a_trace_and_counts_rounded():
    page = {"hits": {"total": {"value": 12}}, "aggregations": {"groups": {"buckets": [
        {"key": {"country": "IR"}, "doc_count": 7}, {"key": {"country": "KP"}, "doc_count": 1},
        {"key": {"country": "SY"}, "doc_count": 4}, {"key": {"country": "CU"}, "doc_count": 5}]}}}
    assert analytics.report_rows("requests", ["country"], [page], k=5) == [
        {"country": "IR", "requests": 7}, {"country": "CU", "requests": 5}]
    assert analytics.report_rows("requests", ["country"], [page], k=5, base=5) == [
        {"country": "IR", "requests": 5}, {"country": "CU", "requests": 5}]
    assert [analytics.rounded(n, 5) for n in (5, 7, 8, 12, 13, 100)] == [5, 5, 10, 10, 15, 100]
    assert analytics.rounded(7, 1) == 7


def test_private_and_hidden_requests_are_never_counted():
    clauses = analytics.base_filter("requests")["bool"]["filter"]
    assert {"term": {"hidden": False}} in clauses
    assert {"bool": {"must_not": {"term": {"visibility": "private"}}}} in clauses


def test_inner_figures_over_fewer_than_k_requests_are_blanked():
    aggs = {"proposed": {"doc_count": 6, "p": {"values": {"50.0": 2.0, "90.0": 9.5}}},
            "accepted": {"doc_count": 2, "p": {"values": {"50.0": 30.0, "90.0": 40.0}}}}
    row = analytics.bucket_row("response-times", [], {}, 8, aggs, k=5)
    assert row == {"requests": 8, "proposed": 6, "hours_to_first_proposal_p50": 2.0,
                   "hours_to_first_proposal_p90": 9.5, "accepted": None, "hours_to_acceptance_p50": None,
                   "hours_to_acceptance_p90": None}
    fulfil = {"accepted": {"doc_count": 5}, "fulfilled": {"doc_count": 0}}
    assert analytics.bucket_row("fulfilment", [], {}, 10, fulfil, k=5) == {
        "requests": 10, "accepted": 5, "fulfilled": 0, "acceptance_rate": 0.5, "fulfilment_rate": 0.0}
    assert analytics.bucket_row("fulfilment", [], {}, 4, fulfil, k=5) is None


def test_analytics_documents_hold_no_text_and_no_person():
    created = datetime(2024, 3, 1, tzinfo=timezone.utc)
    lifecycle = {"_id": "r1", "rev": 3, "version": 2, "skills": ["legal"], "country": "IR", "urgency": "high",
                 "visibility": "private", "status": "matched", "hidden": False, "created_at": created,
                 "first_proposed_at": created + timedelta(hours=2), "accepted_at": created + timedelta(hours=26)}
    doc = indices.analytics_document(lifecycle)
    assert set(doc) == set(indices.ANALYTICS_MAPPING["properties"])
    assert doc["hours_to_first_proposal"] == 2.0 and doc["hours_to_acceptance"] == 26.0
    # Only match events seen so far: no durations yet, and the report filter leaves it out.
    partial = indices.analytics_document({"_id": "r2", "rev": 1, "first_proposed_at": created})
    assert partial["hours_to_first_proposal"] is None and partial["created_at"] is None


def test_the_profile_document_is_an_allow_list():
    profile = {"profile_id": "p1", "handle": "h", "role": "volunteer", "status": "active", "skills": [],
               "languages": [], "countries": [], "bio": "", "availability_hours": 1, "max_active_matches": 1,
               "verified": False, "contact_sealed": "c2VhbGVk", "version": 1}
    assert "contact_sealed" not in indices.volunteer_document(profile)
    assert set(indices.volunteer_document(profile)) == set(indices.VOLUNTEERS_MAPPING["properties"])
    assert not indices.volunteer_indexable(dict(profile, status="suspended"))
    assert not indices.volunteer_indexable(dict(profile, role="activist"))
