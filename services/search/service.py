"""search: owns Elasticsearch. Builds its index only from events; answers queries over RPC."""
from elasticsearch import ConflictError, NotFoundError
from nameko.rpc import rpc

from services.common.consumer import consumes
from services.common.elastic import ElasticsearchClient
from services.common.errors import DomainError
from services.common.mongo import ServiceDatabase
from services.common.schemas import Viewer, load_or_fail

from . import indices, queries


class SearchService:
    name = "search"

    es = ElasticsearchClient(prepare=indices.ensure_indices)
    db = ServiceDatabase()  # the ledger of handled events

    def _index_request(self, event):
        data = event.data
        alias = indices.requests_alias(self.es.prefix)
        try:
            if data["visibility"] == "private":
                # It may have been public before an edit: make sure it is gone.
                self.es.client.delete(index=alias, id=data["request_id"], version=data["version"],
                               version_type="external")
            else:
                # External versioning makes a duplicate or an older event a no-op (409).
                self.es.client.index(index=alias, id=data["request_id"], document=indices.request_document(data),
                              version=data["version"], version_type="external")
        except (ConflictError, NotFoundError):
            pass

    @consumes("requests", "request_created")
    def on_request_created(self, event):
        self._index_request(event)

    @consumes("requests", "request_updated")
    def on_request_updated(self, event):
        self._index_request(event)

    @consumes("requests", "request_closed")
    def on_request_closed(self, event):
        self._index_request(event)

    @rpc(expected_exceptions=DomainError)
    def search_requests(self, viewer, params):
        viewer = load_or_fail(Viewer(), viewer) if viewer else None
        params = load_or_fail(queries.RequestSearch(), params)
        body = queries.build_request_query(params, viewer)
        response = self.es.client.search(index=indices.requests_alias(self.es.prefix), **body)
        return queries.request_results(response.body)

    @rpc
    def health(self):
        status = self.es.client.cluster.health(timeout="2s")["status"]
        return {"index": status in ("green", "yellow"), "index_status": status}
