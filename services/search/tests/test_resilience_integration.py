"""The index survives change and outages, against the real Elasticsearch and broker:
- a rebuild swaps the alias while events keep arriving, and loses none of them;
- while Elasticsearch is unreachable events wait, and the index catches up when it returns."""
from urllib.parse import urlparse

import pytest
from nameko.rpc import rpc
from nameko.standalone.events import event_dispatcher
from nameko.standalone.rpc import ClusterRpcProxy

from services.common.bus.events import data_schema
from services.common.trust.keyring import keyring
from services.search import indices, rebuild
from services.search.service import SearchService
from tests.support import wait_until

from .fixtures import Search, profile_event, request_event, search  # noqa: F401 (fixture)
from .forwarder import Forwarder

# What the fake owners export: request or profile id -> the event data of its current state.
STORE = {}


class FakeRequests:
    """Stands in for the requests service's export RPC (same signature), over real RPC."""

    name = "requests"

    @rpc
    def export_requests(self, command):
        after_id, limit = keyring().export_page(command, "export_requests")
        ids = sorted(i for i in STORE if after_id is None or i > after_id)[:limit]
        return [STORE[i] for i in ids]


class FakeProfiles:
    name = "profiles"

    @rpc
    def export_profiles(self, command):
        after_id, limit = keyring().export_page(command, "export_profiles")
        ids = sorted(i for i in STORE if after_id is None or i > after_id)[:limit]
        return [STORE[i] for i in ids]


def current(event):
    """Record an event's data as the owner's current state (as its export would return it)."""
    schema = data_schema("requests" if event["event_type"].startswith("request") else "profiles",
                         event["event_type"])
    STORE[event["data"].get("request_id") or event["data"]["profile_id"]] = schema.dump(schema.load(event["data"]))
    return event


def titles(search):
    search.refresh()
    hits = search.es.search(index=search.alias("requests"), size=100)["hits"]["hits"]
    return {hit["_id"]: hit["_source"]["title"] for hit in hits}


def test_rebuild_swaps_the_alias_without_losing_events_that_arrive_meanwhile(container_factory, search, config):
    STORE.clear()
    owner = container_factory(FakeRequests, config)
    owner.start()
    for n in range(12):
        search.deliver(current(request_event(f"r{n:02d}", f"Case {n}")))
    # Changes the owner has made whose events have not reached search yet.
    in_flight = [current(request_event("r03", "Case 3, edited", version=2)),
                 current(request_event("r05", None, version=2, visibility="private"))]
    alias = search.alias("requests")
    (old,) = search.es.indices.get_alias(name=alias).body

    def during(page):
        # Readers see the complete old version throughout.
        assert search.requests()["total"] >= 11
        if page == 1:
            # r01 was exported in page 1 at version 1; its edit arrives now.
            search.deliver(current(request_event("r01", "Case 1, edited during the rebuild", version=2)))
            # A new request whose id sorts before the export's position: only the event carries it.
            search.deliver(current(request_event("r00a", "Case 0a, created during the rebuild")))
        if page == 2:
            search.deliver(*in_flight)
            # A stale event (older than what was exported) changes nothing.
            search.deliver(request_event("r07", "Case 7, stale", version=1))

    with ClusterRpcProxy(config) as cluster:
        new, loaded = rebuild.rebuild(search.es, search.prefix, "requests",
                                      rebuild.signed_export(cluster.requests.export_requests, "export_requests"),
                                      page_size=4, progress=False, after_page=during)

    assert loaded == 12 and new != old  # r00..r11; r00a came by its event only
    assert list(search.es.indices.get_alias(name=alias).body) == [new]
    assert not search.es.indices.exists(index=old)
    assert not search.es.indices.exists_alias(name=indices.rebuilding_alias(alias))
    expected = {f"r{n:02d}": f"Case {n}" for n in range(12) if n != 5}
    expected.update(r01="Case 1, edited during the rebuild", r03="Case 3, edited",
                    r00a="Case 0a, created during the rebuild")
    assert titles(search) == expected

    # After the swap, events go to the new version.
    search.deliver(request_event("r02", "Case 2, edited after", version=2))
    assert titles(search)["r02"] == "Case 2, edited after"
    assert search.requests(q="after")["total"] == 1


def test_the_rebuild_command_rebuilds_volunteers_from_the_profiles_export(
        container_factory, search, config, monkeypatch, capsys):
    STORE.clear()
    owner = container_factory(FakeProfiles, config)
    owner.start()
    search.deliver(profile_event("p1", "nima-law"), profile_event("p2", "sara-press"))
    # The owner's current state: p2 left, p3 joined, an activist is not a volunteer.
    current(profile_event("p1", "nima-law", version=2, bio="Now also in Paris.", contact_sealed=None))
    current(profile_event("p2", "sara-press", version=2, status="deactivated", contact_sealed=None))
    current(profile_event("p3", "lin-translate", contact_sealed=None))
    current(profile_event("p4", "omid", role="activist", contact_sealed=None))
    for key in ("AMQP_URI", "ES_INDEX_PREFIX", "DB_PREFIX", "ES_URL"):
        monkeypatch.setenv(key, str(config[key]))

    assert rebuild.main(["volunteers", "--page-size", "2"]) == 0

    assert "4 exported records" in capsys.readouterr().out
    search.refresh()
    assert {i["handle"]: i["bio"] for i in search.volunteers()["items"]} == {
        "nima-law": "Now also in Paris.", "lin-translate": "Asylum lawyer."}
    alias = search.alias("volunteers")
    assert list(search.es.indices.get_alias(name=alias).body) == [indices.version_name(alias, 2)]


@pytest.fixture
def forwarder(config):
    target = urlparse(config["ES_URL"])
    running = Forwarder(target.hostname, target.port)
    yield running
    running.stop()


def test_events_wait_while_elasticsearch_is_unreachable_and_the_index_catches_up(
        container_factory, config, es_client, forwarder):
    config = dict(config, ES_URL=forwarder.url, ES_TIMEOUT_S=2)
    container = container_factory(SearchService, config)
    container.start()
    search = Search(container, config, es_client)  # es_client itself talks to Elasticsearch directly
    search.deliver(request_event("r-before", "Before the outage"))

    forwarder.cut()
    dispatch = event_dispatcher(config)
    events = [request_event(f"r{n}", f"During the outage {n}") for n in range(5)]
    events += [request_event("r-before", "Before the outage, edited during it", version=2),
               profile_event("p1", "nima-law")]
    for event in events:
        source = "profiles" if event["event_type"].startswith("profile") else "requests"
        dispatch(source, event["event_type"], event)
    # The service tried, and failed, several times: the events are being retried, not dropped.
    wait_until(lambda: forwarder.dropped >= 6, timeout=60, message="the service to retry against the outage")
    search.refresh()
    assert titles(search) == {"r-before": "Before the outage"}

    forwarder.restore()

    def caught_up():
        search.refresh()
        return len(titles(search)) == 6 and es_client.exists(index=search.alias("volunteers"), id="p1")

    wait_until(caught_up, timeout=60, message="the index to catch up")
    assert titles(search) == dict({f"r{n}": f"During the outage {n}" for n in range(5)},
                                  **{"r-before": "Before the outage, edited during it"})
    assert forwarder.dropped >= 6
