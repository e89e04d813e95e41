"""Events and a running search service for the integration tests of this package."""
from datetime import datetime, timedelta, timezone

import pytest
from nameko.standalone.events import event_dispatcher
from nameko.testing.services import entrypoint_hook, entrypoint_waiter

from services.common.bus.events import make_event
from services.search import indices
from services.search.service import SearchService
from tests.support import signed_viewer

VOLUNTEER = {"account_id": "v", "role": "volunteer", "handle": "v", "verified": True}
ANALYST = {"account_id": "a", "role": "analyst", "handle": "a"}
SOURCES = {"request": "requests", "profile": "profiles", "match": "matching"}


def _signed(viewer):
    """A viewer's claims as the gateway signs them (None: anonymous)."""
    if viewer is None:
        return None
    return signed_viewer(viewer["account_id"], viewer["role"], viewer["handle"], viewer.get("verified", False))


def request_event(request_id, title, version=1, visibility="public", language="en", event_type=None, **overrides):
    data = {
        "request_id": request_id, "author_id": "a1", "title": title, "body": "Details follow in private.",
        "skills": ["press"], "languages": [language], "country": "IR", "urgency": "normal",
        "visibility": visibility, "status": "open", "hidden": False, "created_at": datetime.now(timezone.utc),
        "version": version,
    }
    if visibility == "private":
        data.update(title=None, body=None)
    data.update(overrides)
    event_type = event_type or ("request_created" if version == 1 else "request_updated")
    return make_event("requests", event_type, data)


def profile_event(profile_id, handle, version=1, event_type=None, **overrides):
    data = {
        "profile_id": profile_id, "handle": handle, "role": "volunteer", "status": "active",
        "skills": ["legal"], "languages": ["fa", "en"], "countries": ["DE"], "bio": "Asylum lawyer.",
        "availability_hours": 5, "max_active_matches": 3, "verified": False,
        "contact_sealed": "U0VBTEVELUNPTlRBQ1Q=", "version": version,
    }
    data.update(overrides)
    event_type = event_type or ("profile_registered" if version == 1 else "profile_updated")
    return make_event("profiles", event_type, data)


def match_event(event_type, request_id, proposed_at, occurred_at=None, volunteer_id="v1"):
    status = {"match_proposed": "proposed", "match_accepted": "accepted", "match_confirmed": "confirmed"}[event_type]
    return make_event("matching", event_type, {
        "match_id": f"m-{request_id}-{volunteer_id}", "request_id": request_id, "volunteer_id": volunteer_id,
        "author_id": "a1", "status": status, "score": 1.0, "reasons": [], "proposed_at": proposed_at,
        "version": {"proposed": 1, "accepted": 2, "confirmed": 3}[status]}, occurred_at=occurred_at)


def hours_after(moment, hours):
    return moment + timedelta(hours=hours)


class Search:
    """A running search service: deliver events to it and wait until handled; query it."""

    def __init__(self, container, config, es_client):
        self.container = container
        self.config = config
        self.es = es_client
        self.prefix = config["ES_INDEX_PREFIX"]
        self.dispatch = event_dispatcher(config)

    def deliver(self, *events):
        for event in events:
            source = SOURCES[event["event_type"].split("_")[0]]
            with entrypoint_waiter(self.container, "on_" + event["event_type"], timeout=30):
                self.dispatch(source, event["event_type"], event)
        self.refresh()

    def refresh(self):
        self.es.indices.refresh(index=f"{self.prefix}-*")

    def call(self, method, *args):
        with entrypoint_hook(self.container, method) as hook:
            return hook(*args)

    def requests(self, viewer=None, **params):
        return self.call("search_requests", _signed(viewer), params)

    def volunteers(self, viewer=None, **params):
        return self.call("search_volunteers", _signed(viewer), params)

    def report(self, report, viewer=ANALYST, **params):
        return self.call("analytics_report", _signed(viewer), report, params)

    def alias(self, kind):
        return indices.alias_name(self.prefix, kind)


@pytest.fixture
def search(container_factory, config, es_client):
    config = dict(config, ANALYTICS_ROUND=1)  # exact counts, to check what is counted
    container = container_factory(SearchService, config)
    container.start()
    return Search(container, config, es_client)
