"""Analytics against the real Elasticsearch and broker: lifecycles from events, k-suppression,
audited groupings, rounding."""
from datetime import datetime, timezone

import pytest

from services.common.errors import Forbidden, Unprocessable, ValidationFailed

from ..lifecycles import LIFECYCLES
from .fixtures import ANALYST, VOLUNTEER, hours_after, match_event, request_event, search  # noqa: F401

START = datetime(2024, 3, 4, 9, 0, tzinfo=timezone.utc)


def populate(search):
    """IR: 6 legal requests (March), 5 of them proposed 2..6 h after, and a helper confirmed by the author at 10 h for 5;
    SY: 2 requests (April): below k; a private request and a hidden one in IR are not counted."""
    events = []
    for n in range(6):
        rid = f"ir-{n}"
        events.append(request_event(rid, "Lawyer for an asylum claim", skills=["legal"], country="IR",
                                    created_at=START))
        if n < 5:
            events.append(match_event("match_proposed", rid, hours_after(START, 2 + n)))
            events.append(match_event("match_confirmed", rid, hours_after(START, 2 + n),
                                      occurred_at=hours_after(START, 10)))
    # A proposal that reaches search before its request: merged all the same.
    events.insert(0, match_event("match_proposed", "sy-0", hours_after(START.replace(month=4), 1)))
    for n in range(2):
        april = START.replace(month=4)
        events.append(request_event(f"sy-{n}", "Journalist for a trial", skills=["press"], country="SY",
                                    created_at=april))
    events.append(request_event("ir-private", None, visibility="private", skills=["legal"], country="IR",
                                created_at=START))
    events.append(request_event("ir-hidden", "Spam", skills=["legal"], country="IR", hidden=True,
                                created_at=START))
    search.deliver(*events)


def test_reports_count_what_was_asked_and_suppress_small_buckets(search):
    populate(search)
    by_skill = search.report("requests")
    assert by_skill["rows"] == [{"skill": "legal", "requests": 6}]  # not the private one, nor press (2 < k)
    assert "suppressed_buckets" not in by_skill  # how many were left out is not told either
    assert search.report("requests", by="country,month")["rows"] == [
        {"country": "IR", "month": "2024-03", "requests": 6}]

    times = search.report("response-times")["rows"]
    assert len(times) == 1 and times[0]["requests"] == 8 and times[0]["proposed"] == 6
    assert times[0]["hours_to_first_proposal_p50"] == pytest.approx(3.5, abs=1.01)
    assert times[0]["accepted"] == 5 and times[0]["hours_to_acceptance_p50"] == pytest.approx(10.0)

    fulfilment = search.report("fulfilment", by="country")
    assert fulfilment["rows"] == [{"country": "IR", "requests": 6, "accepted": 5, "fulfilled": 0,
                                   "acceptance_rate": round(5 / 6, 4), "fulfilment_rate": 0.0}]

    # Unmet: open and never met. IR has 1 (the private one is not counted), SY 2: both below k.
    assert search.report("unmet-needs")["rows"] == []


def test_only_audited_groupings_are_given(search):
    """One more grouping key must not split a bucket so that a single request stands out."""
    for report, by in (("requests", "skill,month"), ("requests", "skill,country,month"), ("requests", "urgency,country"),
                       ("fulfilment", "country,month"), ("unmet-needs", "skill,country,urgency")):
        # Not a grouping of any report: 400 by the document; another report's: 422.
        with pytest.raises((ValidationFailed, Unprocessable)) as error:
            search.report(report, by=by)
        assert set(error.value.fields) == {"by"}


def test_the_analytics_index_holds_no_text_and_no_person(search):
    populate(search)
    hits = search.es.search(index=search.alias("analytics"), size=100)["hits"]["hits"]
    assert len(hits) == 10
    text = str([hit["_source"] for hit in hits])
    for secret in ("a1", "v1", "Lawyer", "Spam", "Journalist"):
        assert secret not in text


def test_status_changes_and_duplicates_keep_the_lifecycle_right(search):
    events = [request_event(f"r{n}", "Lawyer needed", skills=["legal"], created_at=START) for n in range(5)]
    search.deliver(*events)
    # Each fulfilled later; one event delivered twice (a new event id, same data) and one stale.
    for n in range(5):
        search.deliver(request_event(f"r{n}", "Lawyer needed", version=3, status="fulfilled", skills=["legal"],
                                     created_at=START, event_type="request_closed"))
    search.deliver(request_event("r0", "Lawyer needed", version=3, status="fulfilled", skills=["legal"],
                                 created_at=START, event_type="request_closed"),
                   request_event("r1", "Lawyer needed", version=2, status="open", skills=["legal"],
                                 created_at=START))
    assert search.report("fulfilment")["rows"] == [{"requests": 5, "accepted": 0, "fulfilled": 5,
                                                    "acceptance_rate": 0.0, "fulfilment_rate": 1.0}]


def test_only_analysts_get_reports_and_bad_parameters_are_named(search):
    for viewer in (None, VOLUNTEER, dict(VOLUNTEER, role="moderator")):
        with pytest.raises(Forbidden):
            search.report("requests", viewer=viewer)
    with pytest.raises(ValidationFailed) as error:
        search.report("requests", by="author_id")
    assert set(error.value.fields) == {"by"}
    with pytest.raises(ValidationFailed) as error:
        search.report("requests", viewer=ANALYST, format="xml")
    assert set(error.value.fields) == {"format"}


def test_k_is_configurable(container_factory, config, es_client):
    from services.search.service import SearchService

    from .fixtures import Search
    config = dict(config, ANALYTICS_MIN_BUCKET=2, ANALYTICS_ROUND=5)
    container = container_factory(SearchService, config)
    container.start()
    search = Search(container, config, es_client)
    populate(search)
    # Rounded to 5: IR's 6 and SY's 2 are published as 5 each.
    assert search.report("requests", by="country")["rows"] == [
        {"country": "IR", "requests": 5}, {"country": "SY", "requests": 5}]
    assert search.report("requests", by="country")["rounded_to"] == 5


def test_the_very_same_event_twice_changes_nothing_without_a_ledger(search, db_for):
    """search keeps no ledger (`ledger=False`): its writes are idempotent by themselves. The same
    events redelivered (same ids) leave the lifecycle's revision and every document's version as
    they were."""
    created = request_event("again-1", "Lawyer needed", skills=["legal"], created_at=START)
    proposed = match_event("match_proposed", "again-1", hours_after(START, 2))
    confirmed = match_event("match_confirmed", "again-1", hours_after(START, 2), occurred_at=hours_after(START, 5))
    search.deliver(created, proposed, confirmed)
    db = db_for("search")
    lifecycle = db[LIFECYCLES].find_one({"_id": "again-1"})
    versions = {kind: search.es.get(index=search.alias(kind), id="again-1")["_version"]
                for kind in ("requests", "analytics")}
    search.deliver(proposed, created, confirmed, proposed)
    assert db[LIFECYCLES].find_one({"_id": "again-1"}) == lifecycle
    assert {kind: search.es.get(index=search.alias(kind), id="again-1")["_version"]
            for kind in ("requests", "analytics")} == versions
    assert lifecycle["rev"] == 3 and lifecycle["first_proposed_at"] == hours_after(START, 2)
    assert db["handled_events"].count_documents({}) == 0
