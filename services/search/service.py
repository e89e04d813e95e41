"""search: owns Elasticsearch. Builds its indices only from events; answers queries over RPC.

Four indices, each a version behind an alias (indices.py): requests (public text of shared
requests), volunteers (public profiles of active volunteers), analytics (request lifecycles, no
text, no person's id), campaigns (every campaign but a paused one; text only while listed).

A thin adapter, as matching's: the use cases are plain code in workflow.py over the lifecycle
store (lifecycles.py) and the search index (indexing.SearchIndex). Every write is conditioned on
the aggregate's version, so handling an event twice changes nothing, and the handlers keep no
ledger of handled events (`ledger=False`). If Elasticsearch is down, `@consumes` holds each event
and tries again until it is back (services/common/outage.py); the rest wait in the durable queue.
"""
from nameko.dependency_providers import Config

from services.common.bus.consumer import consumes
from services.common.bus.rpc import rpc
from services.common.errors import DomainError
from services.common.schemas import trusted_viewer
from services.common.store.elastic import ElasticsearchClient
from services.common.store.mongo import ServiceDatabase
from services.common.trust.keyring import ViewerAudience
from services.common.observed import Observed

from . import indices, lifecycles
from .bulk import IndexWriter
from .indexing import SearchIndex
from .workflow import DEFAULT_MIN_BUCKET, DEFAULT_ROUND, SearchWorkflow


class SearchService(Observed):
    name = "search"

    es = ElasticsearchClient(prepare=indices.ensure_indices)
    writer = IndexWriter()  # every index write, in bulk (bulk.py)
    db = ServiceDatabase(prepare=lifecycles.prepare)
    config = Config()
    viewer_audience = ViewerAudience()  # a signed viewer counts only in the call it was signed for

    @property
    def index(self):
        return SearchIndex(self.es.client, self.writer, self.es.prefix)

    @property
    def work(self):
        return SearchWorkflow(lifecycles.LifecycleStore(self.db), self.index,
                              int(self.config.get("ANALYTICS_MIN_BUCKET", DEFAULT_MIN_BUCKET)),
                              int(self.config.get("ANALYTICS_ROUND", DEFAULT_ROUND)))

    # ---- requests

    @consumes("requests", "request_created", ledger=False)
    def on_request_created(self, event):
        self.work.request_changed(event.data)

    @consumes("requests", "request_updated", ledger=False)
    def on_request_updated(self, event):
        self.work.request_changed(event.data)

    @consumes("requests", "request_closed", ledger=False)
    def on_request_closed(self, event):
        self.work.request_changed(event.data)

    # ---- volunteers

    @consumes("profiles", "profile_registered", ledger=False)
    def on_profile_registered(self, event):
        self.work.profile_changed(event.data)

    @consumes("profiles", "profile_updated", ledger=False)
    def on_profile_updated(self, event):
        self.work.profile_changed(event.data)

    @consumes("profiles", "profile_deactivated", ledger=False)
    def on_profile_deactivated(self, event):
        self.work.profile_changed(event.data)

    @consumes("profiles", "profile_deleted", ledger=False)
    def on_profile_deleted(self, event):
        self.work.profile_deleted(event.data)

    # ---- analytics: request lifecycles

    @consumes("matching", "matches_proposed", ledger=False)
    def on_matches_proposed(self, event):
        self.work.first_proposed(event.data["request_id"], event.data["proposed_at"])

    @consumes("matching", "match_proposed", ledger=False)
    def on_match_proposed(self, event):
        """The form before `matches_proposed`, still accepted while what was written before drains."""
        self.work.first_proposed(event.data["request_id"], event.data["proposed_at"])

    @consumes("matching", "match_confirmed", ledger=False)
    def on_match_confirmed(self, event):
        self.work.need_met(event.data["request_id"], event.occurred_at)

    # ---- campaigns

    @consumes("campaigns", "campaign_changed", ledger=False)
    def on_campaign_changed(self, event):
        self.work.campaign_changed(event.data)

    # ---- queries

    @rpc(expected_exceptions=DomainError)
    def search_campaigns(self, params):
        return self.work.search_campaigns(params)

    @rpc(expected_exceptions=DomainError)
    def search_requests(self, viewer, params):
        return self.work.search_requests(trusted_viewer(viewer) if viewer else None, params)

    @rpc(expected_exceptions=DomainError)
    def search_volunteers(self, viewer, params):
        return self.work.search_volunteers(params)

    @rpc(expected_exceptions=DomainError)
    def analytics_report(self, viewer, report, params):
        return self.work.analytics_report(trusted_viewer(viewer) if viewer else None, report, params)

    @rpc
    def health(self):
        status = self.index.status()
        return {"index": status in ("green", "yellow"), "index_status": status}
