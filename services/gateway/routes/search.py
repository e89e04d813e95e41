"""Search and analytics."""
from nameko.web.handlers import http

from ..http import api, call
from .base import RoutesBase


class SearchRoutes(RoutesBase):
    @http("GET", "/api/search/requests")
    @api
    def search_requests(self, request):
        viewer = self._viewer(request, required=False)
        return call(self.search.search_requests, viewer, request.args.to_dict())
