"""search: owns Elasticsearch. Builds its indices only from events; answers queries over RPC.

Four indices, each a version behind an alias (indices.py): requests (public text of shared
requests), volunteers (public profiles of active volunteers), analytics (request lifecycles, no
text, no person's id), campaigns (every campaign but a paused one; text only while listed). Every write is conditioned on the aggregate's version (an external version in
the index, a newer version or an earlier time in `lifecycles`), so handling an event twice changes
nothing, and the handlers keep no ledger of handled events (`ledger=False`). If Elasticsearch is down, `@consumes` holds each event and tries again until
it is back (services/common/outage.py); the rest wait in the durable queue, and the index catches
up when it returns.
"""
from nameko.dependency_providers import Config
from services.common.bus.rpc import rpc

from services.common.bus.consumer import consumes
from services.common.store.elastic import ElasticsearchClient
from services.common.errors import DomainError
from services.common.store.mongo import ServiceDatabase
from services.common.schemas import load_or_fail, require_role, trusted_viewer
from services.common.trust.keyring import ViewerAudience

from . import analytics, indexing, indices, queries
from .bulk import IndexWriter

DEFAULT_MIN_BUCKET = 5


class SearchService:
    name = "search"

    es = ElasticsearchClient(prepare=indices.ensure_indices)
    writer = IndexWriter()  # every index write, in bulk (bulk.py)
    db = ServiceDatabase(prepare=analytics.prepare)  # request lifecycles
    config = Config()
    viewer_audience = ViewerAudience()  # a signed viewer counts only in the call it was signed for

    # ---- requests

    def _on_request(self, event):
        data = event.data
        document = indices.request_document(data) if indices.request_indexable(data) else None
        lifecycle = analytics.merge_request(self.db[analytics.LIFECYCLES], data)
        # Private or hidden: delete, since it may have been shared before an edit. Both writes in
        # one request.
        indexing.put(self.es.client, self.writer,
                     (indices.requests_alias(self.es.prefix), data["request_id"], document, data["version"]),
                     self._lifecycle_write(lifecycle))

    @consumes("requests", "request_created", ledger=False)
    def on_request_created(self, event):
        self._on_request(event)

    @consumes("requests", "request_updated", ledger=False)
    def on_request_updated(self, event):
        self._on_request(event)

    @consumes("requests", "request_closed", ledger=False)
    def on_request_closed(self, event):
        self._on_request(event)

    # ---- volunteers

    def _on_profile(self, event):
        data = event.data
        document = indices.volunteer_document(data) if indices.volunteer_indexable(data) else None
        indexing.put(self.es.client, self.writer,
                     (indices.volunteers_alias(self.es.prefix), data["profile_id"], document, data["version"]))

    @consumes("profiles", "profile_registered", ledger=False)
    def on_profile_registered(self, event):
        self._on_profile(event)

    @consumes("profiles", "profile_updated", ledger=False)
    def on_profile_updated(self, event):
        self._on_profile(event)

    @consumes("profiles", "profile_deactivated", ledger=False)
    def on_profile_deactivated(self, event):
        self._on_profile(event)

    @consumes("profiles", "profile_deleted", ledger=False)
    def on_profile_deleted(self, event):
        indexing.put(self.es.client, self.writer,
                     (indices.volunteers_alias(self.es.prefix), event.data["profile_id"], None, event.data["version"]))

    # ---- analytics: request lifecycles

    def _lifecycle_write(self, lifecycle):
        return (indices.analytics_alias(self.es.prefix), lifecycle["_id"], indices.analytics_document(lifecycle),
                lifecycle["rev"])

    def _put_lifecycle(self, lifecycle):
        indexing.put(self.es.client, self.writer, self._lifecycle_write(lifecycle))

    def _first_proposed(self, request_id, proposed_at):
        self._put_lifecycle(analytics.merge_time(self.db[analytics.LIFECYCLES], request_id,
                                                 "first_proposed_at", proposed_at))

    @consumes("matching", "matches_proposed", ledger=False)
    def on_matches_proposed(self, event):
        """One top-up's proposals share their time: one merge, one index write for the batch."""
        self._first_proposed(event.data["request_id"], event.data["proposed_at"])

    @consumes("matching", "match_proposed", ledger=False)
    def on_match_proposed(self, event):
        """The form before `matches_proposed`, still accepted while what was written before drains."""
        self._first_proposed(event.data["request_id"], event.data["proposed_at"])

    @consumes("matching", "match_confirmed", ledger=False)
    def on_match_confirmed(self, event):
        """A need is met when its author confirms a helper (a volunteer's yes alone is not enough)."""
        self._put_lifecycle(analytics.merge_time(self.db[analytics.LIFECYCLES], event.data["request_id"],
                                                 "accepted_at", event.occurred_at))

    # ---- queries

    # ---- campaigns

    @consumes("campaigns", "campaign_changed", ledger=False)
    def on_campaign_changed(self, event):
        """Indexed (its text only while listed), or dropped at once when paused."""
        data = event.data
        indexing.put(self.es.client, self.writer, (indices.campaigns_alias(self.es.prefix), data["campaign_id"],
                                                   indices.campaign_document(data), data["version"]))

    @rpc(expected_exceptions=DomainError)
    def search_campaigns(self, params):
        """Listed campaigns by words (title and story), country and status: anyone may ask."""
        params = load_or_fail(queries.CampaignSearch(), params)
        response = self.es.client.search(index=indices.campaigns_alias(self.es.prefix),
                                         **queries.build_campaign_query(params))
        return queries.campaign_results(response.body)

    @rpc(expected_exceptions=DomainError)
    def search_requests(self, viewer, params):
        viewer = trusted_viewer(viewer) if viewer else None
        params = load_or_fail(queries.RequestSearch(), params)
        body = queries.build_request_query(params, viewer)
        response = self.es.client.search(index=indices.requests_alias(self.es.prefix), **body)
        return queries.request_results(response.body, params)

    @rpc(expected_exceptions=DomainError)
    def search_volunteers(self, viewer, params):
        params = load_or_fail(queries.VolunteerSearch(), params)
        body = queries.build_volunteer_query(params)
        response = self.es.client.search(index=indices.volunteers_alias(self.es.prefix), **body)
        return queries.volunteer_results(response.body, params)

    @rpc(expected_exceptions=DomainError)
    def analytics_report(self, viewer, report, params):
        """Aggregates only, for analysts only (the gateway checks too)."""
        viewer = require_role(viewer, "analyst", "Analytics are for analysts.")
        params = load_or_fail(analytics.ReportParams(), params)
        k = int(self.config.get("ANALYTICS_MIN_BUCKET", DEFAULT_MIN_BUCKET))
        alias = (indices.campaigns_alias if report == "campaigns" else indices.analytics_alias)(self.es.prefix)
        return analytics.run_report(lambda body: self.es.client.search(index=alias, **body).body,
                                    report, params, k, int(self.config.get("ANALYTICS_ROUND", 5)))

    @rpc
    def health(self):
        status = self.es.client.cluster.health(timeout="2s")["status"]
        return {"index": status in ("green", "yellow"), "index_status": status}
