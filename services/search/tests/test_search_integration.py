"""search against the real Elasticsearch and broker: indexing from events, visibility, languages."""
from datetime import datetime, timezone

import pytest
from nameko.standalone.events import event_dispatcher
from nameko.testing.services import entrypoint_hook, entrypoint_waiter

from services.common.events import make_event
from services.search import indices
from services.search.service import SearchService

VOLUNTEER = {"account_id": "v", "role": "volunteer", "handle": "v"}

PHRASES = {
    "fa": ("وکیل برای پرونده پناهندگی", "پناهندگی"),
    "ar": ("نحتاج إلى صحفي لتغطية قضية المعتقلين", "صحفي"),
    "ru": ("Нужен переводчик для обращения семьи заключённого", "переводчик"),
    "zh": ("需要律师帮助政治犯的家属", "律师"),
    "en": ("Journalist needed to cover a political prisoner's case", "journalist"),
}


def request_event(request_id, title, version=1, visibility="public", language="en", **overrides):
    data = {
        "request_id": request_id, "author_id": "a1", "title": title, "body": "Details follow in private.",
        "skills": ["press"], "languages": [language], "country": "IR", "urgency": "normal",
        "visibility": visibility, "status": "open", "hidden": False, "created_at": datetime.now(timezone.utc),
        "version": version,
    }
    if visibility == "private":
        data.update(title=None, body=None)
    data.update(overrides)
    event_type = "request_created" if version == 1 else "request_updated"
    return make_event("requests", event_type, data)


@pytest.fixture
def search(container_factory, config, es_client):
    container = container_factory(SearchService, config)
    container.start()
    dispatch = event_dispatcher(config)

    def deliver(event):
        method = "on_" + event["event_type"]
        with entrypoint_waiter(container, method):
            dispatch("requests", event["event_type"], event)
        es_client.indices.refresh(index=indices.requests_alias(config["ES_INDEX_PREFIX"]))

    def query(viewer=None, **params):
        with entrypoint_hook(container, "search_requests") as search_requests:
            return search_requests(viewer, params)

    return deliver, query


def test_requests_are_found_in_many_languages_and_scripts(search):
    deliver, query = search
    for language, (title, _) in PHRASES.items():
        deliver(request_event(f"r-{language}", title, language=language))
    for language, (_, word) in PHRASES.items():
        result = query(q=word)
        assert [item["id"] for item in result["items"]] == [f"r-{language}"], language
        assert "<em>" in result["items"][0]["highlight"]["title"][0]
    assert query(language="ru")["total"] == 1
    assert query()["facets"]["language"] == {code: 1 for code in PHRASES}


def test_visibility_is_enforced_and_private_requests_are_never_indexed(search, es_client, config):
    deliver, query = search
    deliver(request_event("r-public", "Public appeal for a lawyer"))
    deliver(request_event("r-volunteers", "Volunteers only: a lawyer", visibility="volunteers"))
    deliver(request_event("r-private", None, visibility="private"))

    assert {i["id"] for i in query()["items"]} == {"r-public"}
    assert {i["id"] for i in query(VOLUNTEER)["items"]} == {"r-public", "r-volunteers"}
    alias = indices.requests_alias(config["ES_INDEX_PREFIX"])
    assert not es_client.exists(index=alias, id="r-private")

    # Made private by an edit: it leaves the index.
    deliver(request_event("r-public", None, version=2, visibility="private"))
    assert not es_client.exists(index=alias, id="r-public")


def test_a_stale_or_repeated_event_never_overwrites_a_newer_document(search):
    deliver, query = search
    deliver(request_event("r1", "Lawyer needed, updated", version=3))
    deliver(request_event("r1", "Lawyer needed, original", version=2))
    assert [item["title"] for item in query()["items"]] == ["Lawyer needed, updated"]
