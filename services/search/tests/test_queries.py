import pytest

from services.common.errors import Unprocessable
from services.search import queries

VOLUNTEER = {"account_id": "v", "role": "volunteer", "handle": "v", "verified": True}


def params(**overrides):
    return queries.RequestSearch().load(overrides)


def test_anonymous_readers_only_find_public_requests():
    body = queries.build_request_query(params(), None)
    assert {"terms": {"visibility": ["public"]}} in body["query"]["bool"]["filter"]
    body = queries.build_request_query(params(), VOLUNTEER)
    assert {"terms": {"visibility": ["public", "volunteers"]}} in body["query"]["bool"]["filter"]
    # A volunteer no moderator vetted reads what anyone reads (DESIGN, "Trust").
    unvetted = dict(VOLUNTEER, verified=False)
    assert {"terms": {"visibility": ["public"]}} in queries.build_request_query(params(), unvetted)["query"]["bool"]["filter"]
    activist = dict(VOLUNTEER, role="activist")
    assert {"terms": {"visibility": ["public"]}} in queries.build_request_query(params(), activist)["query"]["bool"]["filter"]


def test_filters_sorting_and_paging():
    body = queries.build_request_query(params(q="asylum", skill="legal", country="IR", sort="urgency",
                                              page="3", size="10"), None)
    filters = body["query"]["bool"]["filter"]
    assert {"term": {"skills": "legal"}} in filters and {"term": {"country": "IR"}} in filters
    assert body["sort"][0] == {"urgency_rank": "desc"}
    assert body["sort"][-1] == {"request_id": "asc"}  # every sort ends with a unique tiebreaker
    assert body["from"] == 20 and body["size"] == 10


def test_a_cursor_continues_after_the_last_hit_and_only_for_its_own_sort():
    cursor = queries.encode_cursor("newest", [1700000000000, "r-9"])
    body = queries.build_request_query(params(sort="newest", cursor=cursor), None)
    assert body["search_after"] == [1700000000000, "r-9"] and "from" not in body
    # Any string is a cursor to the API document; only ours name a page: 422, naming the field.
    with pytest.raises(Unprocessable) as error:
        queries.build_request_query(params(sort="urgency", cursor=cursor), None)
    assert "cursor" in error.value.fields
    for bad in ("not-a-cursor", queries.encode_cursor("newest", [1]), queries.encode_cursor("nope", [1, 2])):
        with pytest.raises(Unprocessable) as error:
            queries.build_request_query(params(sort="newest", cursor=bad), None)
        assert set(error.value.fields) == {"cursor"}


def test_page_and_cursor_together_are_refused_naming_the_field():
    cursor = queries.encode_cursor("newest", [1700000000000, "r-9"])
    with pytest.raises(Unprocessable) as error:
        queries.build_request_query(params(sort="newest", cursor=cursor, page=2), None)
    assert set(error.value.fields) == {"cursor"}


def test_next_cursor_only_after_a_full_page():
    p = params(size="2", sort="newest")
    full = {"hits": {"total": {"value": 5}, "hits": [
        {"_id": i, "_source": {}, "sort": [i, f"r{i}"]} for i in (1, 2)]}}
    assert queries.decode_cursor(queries._next_cursor(full, p), "newest", queries.REQUEST_SORTS) == [2, "r2"]
    full["hits"]["hits"].pop()
    assert queries._next_cursor(full, p) is None


def test_volunteer_results_carry_public_fields_only():
    source = {"handle": "nima-law", "skills": ["legal"], "languages": ["fa"], "countries": ["DE"], "bio": "Lawyer",
              "verified": True, "availability_hours": 4}
    response = {"hits": {"total": {"value": 1}, "hits": [
        {"_id": "profile-1", "_source": source, "highlight": {"handle.text": ["<em>nima</em>-law"]}}]}}
    result = queries.volunteer_results(response, queries.VolunteerSearch().load({}))
    item = result["items"][0]
    assert set(item) == set(source) | {"highlight"} and "profile-1" not in str(result)
    assert item["highlight"] == {"handle": ["<em>nima</em>-law"]}
