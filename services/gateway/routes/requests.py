"""Requests: post, read, edit, close, flag."""

from services.common.flags import Flag
from services.common.schemas import Paging
from services.requests.schemas import CloseRequest, NewRequest, RequestEdit

from ..http import IDEMPOTENCY_HEADER, IDEMPOTENCY_SCHEMA, Sealed, api, call, call_key, http, read_json
from ..openapi import accepts
from .base import RoutesBase


class RequestRoutes(RoutesBase):
    @http("POST", "/api/requests")
    @api
    @accepts(body=NewRequest, headers={IDEMPOTENCY_HEADER: IDEMPOTENCY_SCHEMA})
    def create_request(self, request):
        """Post a need (activists). Text that may identify someone needs `confirm_public: true`.
        With an `Idempotency-Key` header (a UUID the client makes per need), a retry after a
        timeout returns the need the first try posted instead of posting it twice."""
        key = call_key(request.headers.get(IDEMPOTENCY_HEADER))
        return 201, call(self.requests.create_request, self._viewer(request),
                         Sealed(read_json(request)), key)

    @http("GET", "/api/me/requests")
    @api
    @accepts(query=Paging)
    def my_requests(self, request):
        """One's own requests, newest first, `{items, next?}`: pass `next` as `?before=` for the next page."""
        args = request.args
        return call(self.requests.my_requests, self._viewer(request), args.get("limit", 50), args.get("before"))

    @http("GET", "/api/requests/<string:request_id>")
    @api
    def get_request(self, request, request_id):
        """A request, if the caller may see it (else 404)."""
        return call(self.requests.get_request, self._viewer(request, required=False), request_id)

    @http("PATCH", "/api/requests/<string:request_id>")
    @api
    @accepts(body=RequestEdit)
    def update_request(self, request, request_id):
        """Edit one's open request."""
        return call(self.requests.update_request, self._viewer(request), request_id,
                    Sealed(read_json(request)))

    @http("POST", "/api/requests/<string:request_id>/close")
    @api
    @accepts(body=CloseRequest)
    def close_request(self, request, request_id):
        """Close one's request: no body closes it as `closed`; `{outcome}` may say `fulfilled` or `withdrawn`."""
        return call(self.requests.close_request, self._viewer(request), request_id, read_json(request))

    @http("POST", "/api/requests/<string:request_id>/flags")
    @api
    @accepts(body=Flag)
    def flag_request(self, request, request_id):
        """Report a request to the moderators."""
        return 201, call(self.requests.flag_request, self._viewer(request), request_id,
                         Sealed(read_json(request)))
