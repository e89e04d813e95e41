"""Requests: post, read, edit, close."""
from nameko.web.handlers import http

from ..http import api, call, read_json
from .base import RoutesBase


class RequestRoutes(RoutesBase):
    @http("POST", "/api/requests")
    @api
    def create_request(self, request):
        viewer = self._viewer(request)
        return 201, call(self.requests.create_request, viewer, read_json(request))

    @http("GET", "/api/requests/<string:request_id>")
    @api
    def get_request(self, request, request_id):
        return call(self.requests.get_request, self._viewer(request, required=False), request_id)
