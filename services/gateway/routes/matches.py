"""Matches: proposals, accept, decline."""

from services.matching.schemas import DeclineInput

from ..http import api, call, http, read_json
from ..openapi import accepts
from .base import RoutesBase


class MatchRoutes(RoutesBase):
    @http("GET", "/api/matches")
    @api
    def matches(self, request):
        """A volunteer's proposals, or the matches of an activist's requests: status, score, reasons."""
        return {"items": call(self.matching.list_matches, self._viewer(request))}

    @http("POST", "/api/matches/<string:match_id>/accept")
    @api
    def accept_match(self, request, match_id):
        """Accept a proposal (the proposed volunteer only). 409 if the request is already taken."""
        return call(self.matching.accept_match, self._viewer(request), match_id)

    @http("POST", "/api/matches/<string:match_id>/decline")
    @api
    @accepts(body=DeclineInput)
    def decline_match(self, request, match_id):
        """Decline a proposal (the proposed volunteer only); the optional reason stays private."""
        viewer = self._viewer(request)
        return call(self.matching.decline_match, viewer, match_id, read_json(request))
