"""Matches: proposals and offers; the volunteer accepts or declines, the author confirms or rejects."""

from services.common.schemas import Paging
from services.matching.schemas import DeclineInput, Invitation

from ..http import Sealed, api, call, http, read_json
from ..openapi import accepts
from .base import RoutesBase


class MatchRoutes(RoutesBase):
    @http("GET", "/api/matches")
    @api
    @accepts(query=Paging)
    def matches(self, request):
        """A volunteer's proposals and offers (with each request's skills, languages, country and
        urgency, never a private request's text); or the matches of an activist's requests, with
        handle, verification, skills, languages, countries, bio and history of each volunteer who
        said yes, and the reasons of the score; and the questions still waiting, without anyone's
        identity. Newest first, `{items, next?}`: pass `next` as `?before=` for the next page."""
        args = request.args
        return call(self.matching.list_matches, self._viewer(request), args.get("limit", 50), args.get("before"))

    @http("POST", "/api/matches/<string:match_id>/accept")
    @api
    def accept_match(self, request, match_id):
        """Say yes to a proposal (the proposed volunteer only). The author then confirms or rejects;
        409 if the author already chose a helper."""
        return call(self.matching.accept_match, self._viewer(request), match_id)

    @http("POST", "/api/matches/<string:match_id>/decline")
    @api
    @accepts(body=DeclineInput)
    def decline_match(self, request, match_id):
        """Decline a proposal (the proposed volunteer only); the optional reason stays private."""
        viewer = self._viewer(request)
        return call(self.matching.decline_match, viewer, match_id, Sealed(read_json(request)))

    @http("POST", "/api/matches/<string:match_id>/confirm")
    @api
    def confirm_match(self, request, match_id):
        """The author chooses this volunteer (who said yes): the request is matched, the private
        conversation opens, the other proposals and offers are withdrawn."""
        return self._confirm(self._viewer(request), match_id)

    @http("POST", "/api/matches/<string:match_id>/end")
    @api
    def end_match(self, request, match_id):
        """The author ends a confirmed helper's access: they no longer read a private request's text
        or the conversation (the author still reads it), nobody sends to it, and the request is open
        again for other volunteers."""
        return call(self.matching.end_match, self._viewer(request), match_id)

    @http("POST", "/api/matches/<string:match_id>/reject")
    @api
    def reject_match(self, request, match_id):
        """The author declines this volunteer's offer; the next candidate is asked."""
        return call(self.matching.reject_match, self._viewer(request), match_id)

    @http("POST", "/api/requests/<string:request_id>/offers")
    @api
    def offer_help(self, request, request_id):
        """A volunteer offers help with a request they can read; it reaches the author to confirm.
        Requests that are not public need a moderator-verified volunteer."""
        return 201, call(self.matching.offer_help, self._viewer(request), request_id)

    @http("POST", "/api/requests/<string:request_id>/invitations")
    @api
    @accepts(body=Invitation)
    def invite_volunteer(self, request, request_id):
        """The author invites a volunteer from the directory; it reaches them as a proposal."""
        return 201, call(self.matching.invite_volunteer, self._viewer(request), request_id, read_json(request))
