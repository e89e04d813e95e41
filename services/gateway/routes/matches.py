"""Matches: proposals, accept, decline."""
from nameko.web.handlers import http

from ..http import api, call
from .base import RoutesBase


class MatchRoutes(RoutesBase):
    @http("GET", "/api/matches")
    @api
    def matches(self, request):
        return {"items": call(self.matching.list_matches, self._viewer(request))}
