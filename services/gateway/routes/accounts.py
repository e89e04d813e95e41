"""Accounts, sessions, profiles and the skill taxonomy."""
from nameko.web.handlers import http

from services.common.taxonomy import SKILLS

from ..http import api, bearer_token, call, read_json
from ..ratelimit import RateLimiter
from .base import RoutesBase


class AccountRoutes(RoutesBase):
    rate_limit = RateLimiter()

    @http("POST", "/api/accounts")
    @api
    def create_account(self, request):
        self.rate_limit("sign_up", request.remote_addr)
        return 201, call(self.profiles.register, read_json(request))

    @http("POST", "/api/sessions")
    @api
    def create_session(self, request):
        self.rate_limit("sign_in", request.remote_addr)
        return call(self.profiles.login, read_json(request))

    @http("DELETE", "/api/sessions")
    @api
    def delete_session(self, request):
        """Sign out; `?everywhere=true` ends every session of the account."""
        everywhere = request.args.get("everywhere", "").lower() in ("1", "true", "yes")
        call(self.profiles.logout, bearer_token(request), everywhere)
        return 204, None

    @http("GET", "/api/me")
    @api
    def me(self, request):
        return call(self.profiles.get_me, self._viewer(request)["account_id"])

    @http("DELETE", "/api/me")
    @api
    def delete_me(self, request):
        """Delete the account and everything the platform holds about the person. Body: {password}."""
        call(self.profiles.delete_account, self._viewer(request)["account_id"], read_json(request))
        return 204, None

    @http("PUT", "/api/me/profile")
    @api
    def update_profile(self, request):
        return call(self.profiles.update_profile, self._viewer(request)["account_id"], read_json(request))

    @http("PUT", "/api/me/email")
    @api
    def change_email(self, request):
        return call(self.profiles.change_email, self._viewer(request)["account_id"], read_json(request))

    @http("GET", "/api/profiles/<string:account_id>")
    @api
    def get_profile(self, request, account_id):
        return call(self.profiles.get_profile, self._viewer(request, required=False), account_id)

    @http("POST", "/api/profiles/<string:account_id>/flags")
    @api
    def flag_profile(self, request, account_id):
        return 201, call(self.profiles.flag_profile, self._viewer(request), account_id, read_json(request))

    @http("GET", "/api/skills")
    @api
    def skills(self, request):
        return {"items": [{"slug": slug, "label": label} for slug, label in SKILLS.items()]}
