"""Requests: post, read, edit, close, flag."""
from nameko.web.handlers import http

from ..http import api, call, read_json
from .base import RoutesBase


class RequestRoutes(RoutesBase):
    @http("POST", "/api/requests")
    @api
    def create_request(self, request):
        return 201, call(self.requests.create_request, self._viewer(request), read_json(request))

    @http("GET", "/api/me/requests")
    @api
    def my_requests(self, request):
        return {"items": call(self.requests.my_requests, self._viewer(request))}

    @http("GET", "/api/requests/<string:request_id>")
    @api
    def get_request(self, request, request_id):
        return call(self.requests.get_request, self._viewer(request, required=False), request_id)

    @http("PATCH", "/api/requests/<string:request_id>")
    @api
    def update_request(self, request, request_id):
        return call(self.requests.update_request, self._viewer(request), request_id, read_json(request))

    @http("POST", "/api/requests/<string:request_id>/close")
    @api
    def close_request(self, request, request_id):
        """Body: {outcome: "fulfilled" | "closed" | "withdrawn"}."""
        return call(self.requests.close_request, self._viewer(request), request_id, read_json(request))

    @http("POST", "/api/requests/<string:request_id>/flags")
    @api
    def flag_request(self, request, request_id):
        return 201, call(self.requests.flag_request, self._viewer(request), request_id, read_json(request))
