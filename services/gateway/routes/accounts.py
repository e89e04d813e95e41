"""Accounts, sessions, profiles and the skill taxonomy."""
from nameko.web.handlers import http

from services.common.taxonomy import SKILLS

from ..http import api, bearer_token, call, read_json
from .base import RoutesBase


class AccountRoutes(RoutesBase):
    @http("POST", "/api/accounts")
    @api
    def create_account(self, request):
        return 201, call(self.profiles.register, read_json(request))

    @http("POST", "/api/sessions")
    @api
    def create_session(self, request):
        return call(self.profiles.login, read_json(request))

    @http("DELETE", "/api/sessions")
    @api
    def delete_session(self, request):
        call(self.profiles.logout, bearer_token(request))
        return 204, None

    @http("GET", "/api/me")
    @api
    def me(self, request):
        viewer = self._viewer(request)
        return call(self.profiles.get_me, viewer["account_id"])

    @http("PUT", "/api/me/profile")
    @api
    def update_profile(self, request):
        viewer = self._viewer(request)
        return call(self.profiles.update_profile, viewer["account_id"], read_json(request))

    @http("GET", "/api/skills")
    @api
    def skills(self, request):
        return {"items": [{"slug": slug, "label": label} for slug, label in SKILLS.items()]}
