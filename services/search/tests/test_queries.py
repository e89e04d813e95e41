from services.search import queries

VOLUNTEER = {"account_id": "v", "role": "volunteer", "handle": "v"}


def params(**overrides):
    return queries.RequestSearch().load(overrides)


def test_anonymous_readers_only_find_public_requests():
    body = queries.build_request_query(params(), None)
    assert {"terms": {"visibility": ["public"]}} in body["query"]["bool"]["filter"]
    body = queries.build_request_query(params(), VOLUNTEER)
    assert {"terms": {"visibility": ["public", "volunteers"]}} in body["query"]["bool"]["filter"]


def test_filters_sorting_and_paging():
    body = queries.build_request_query(params(q="asylum", skill="legal", country="IR", sort="urgency",
                                              page="3", size="10"), None)
    filters = body["query"]["bool"]["filter"]
    assert {"term": {"skills": "legal"}} in filters and {"term": {"country": "IR"}} in filters
    assert body["sort"][0] == {"urgency_rank": "desc"}
    assert body["from"] == 20 and body["size"] == 10
