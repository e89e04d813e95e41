"""gateway: the public HTTP API. A thin adapter: parse, authenticate, call a service over RPC."""
from nameko.rpc import RpcProxy
from nameko.web.handlers import http

from services.common.taxonomy import SKILLS

from .http import api, bearer_token, call, read_json


class GatewayService:
    name = "gateway"

    profiles = RpcProxy("profiles")
    requests = RpcProxy("requests")
    matching = RpcProxy("matching")
    notify = RpcProxy("notify")
    search = RpcProxy("search")

    def _viewer(self, request, required=True):
        token = bearer_token(request, required)
        return call(self.profiles.resolve_session, token) if token else None

    # ---- accounts and sessions

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

    # ---- requests

    @http("POST", "/api/requests")
    @api
    def create_request(self, request):
        viewer = self._viewer(request)
        return 201, call(self.requests.create_request, viewer, read_json(request))

    @http("GET", "/api/requests/<string:request_id>")
    @api
    def get_request(self, request, request_id):
        return call(self.requests.get_request, self._viewer(request, required=False), request_id)

    @http("GET", "/api/search/requests")
    @api
    def search_requests(self, request):
        viewer = self._viewer(request, required=False)
        return call(self.search.search_requests, viewer, request.args.to_dict())

    # ---- matches and notifications

    @http("GET", "/api/matches")
    @api
    def matches(self, request):
        return {"items": call(self.matching.list_matches, self._viewer(request))}

    @http("GET", "/api/notifications")
    @api
    def notifications(self, request):
        return call(self.notify.list_notifications, self._viewer(request))

    # ---- operations

    @http("GET", "/healthz")
    @api
    def healthz(self, request):
        checks = {}
        for name in ("profiles", "requests", "matching", "notify", "search"):
            try:
                checks[name] = {"ok": True, **call(getattr(self, name).health, timeout=3)}
            except Exception as exc:  # noqa: BLE001 - any failure means "not healthy"
                checks[name] = {"ok": False, "error": type(exc).__name__}
        healthy = all(check["ok"] and all(v for k, v in check.items() if isinstance(v, bool))
                      for check in checks.values())
        return (200 if healthy else 503), {"status": "ok" if healthy else "degraded", "services": checks}
