"""Matches: proposals, accept, decline."""
from nameko.web.handlers import http

from ..http import api, call, read_json
from .base import RoutesBase


class MatchRoutes(RoutesBase):
    @http("GET", "/api/matches")
    @api
    def matches(self, request):
        return {"items": call(self.matching.list_matches, self._viewer(request))}

    @http("POST", "/api/matches/<string:match_id>/accept")
    @api
    def accept_match(self, request, match_id):
        return call(self.matching.accept_match, self._viewer(request), match_id)

    @http("POST", "/api/matches/<string:match_id>/decline")
    @api
    def decline_match(self, request, match_id):
        viewer = self._viewer(request)
        return call(self.matching.decline_match, viewer, match_id, read_json(request))
