"""Moderation: the flag queue, hiding requests, suspending accounts, vetting volunteers."""
from nameko.web.handlers import http

from ..http import api, call, read_json
from .base import RoutesBase


class ModerationRoutes(RoutesBase):
    @http("GET", "/api/moderation/flags")
    @api
    def flags(self, request):
        viewer = self._viewer(request)
        items = call(self.requests.flagged_requests, viewer) + call(self.profiles.flagged_profiles, viewer)
        return {"items": sorted(items, key=lambda flag: flag["created_at"])}

    @http("POST", "/api/moderation/requests/<string:request_id>/hide")
    @api
    def hide_request(self, request, request_id):
        return call(self.requests.set_hidden, self._viewer(request), request_id, True, read_json(request))

    @http("POST", "/api/moderation/requests/<string:request_id>/unhide")
    @api
    def unhide_request(self, request, request_id):
        return call(self.requests.set_hidden, self._viewer(request), request_id, False, read_json(request))

    @http("POST", "/api/moderation/requests/<string:request_id>/dismiss")
    @api
    def dismiss_request_flags(self, request, request_id):
        call(self.requests.dismiss_request_flags, self._viewer(request), request_id)
        return 204, None

    @http("POST", "/api/moderation/accounts/<string:account_id>/suspend")
    @api
    def suspend(self, request, account_id):
        return call(self.profiles.suspend, self._viewer(request), account_id, read_json(request))

    @http("POST", "/api/moderation/accounts/<string:account_id>/reinstate")
    @api
    def reinstate(self, request, account_id):
        return call(self.profiles.reinstate, self._viewer(request), account_id)

    @http("POST", "/api/moderation/accounts/<string:account_id>/verify")
    @api
    def verify(self, request, account_id):
        return call(self.profiles.set_verified, self._viewer(request), account_id, True)

    @http("POST", "/api/moderation/accounts/<string:account_id>/unverify")
    @api
    def unverify(self, request, account_id):
        return call(self.profiles.set_verified, self._viewer(request), account_id, False)

    @http("POST", "/api/moderation/accounts/<string:account_id>/dismiss")
    @api
    def dismiss_profile_flags(self, request, account_id):
        call(self.profiles.dismiss_profile_flags, self._viewer(request), account_id)
        return 204, None
