"""Operations: health."""
from nameko.web.handlers import http

from ..http import api, call
from .base import RoutesBase

SERVICES = ("profiles", "requests", "matching", "notify", "search")


class OpsRoutes(RoutesBase):
    @http("GET", "/healthz")
    @api
    def healthz(self, request):
        checks = {}
        for name in SERVICES:
            try:
                checks[name] = {"ok": True, **call(getattr(self, name).health, timeout=3)}
            except Exception as exc:  # noqa: BLE001 - any failure means "not healthy"
                checks[name] = {"ok": False, "error": type(exc).__name__}
        healthy = all(all(v for v in check.values() if isinstance(v, bool)) for check in checks.values())
        return (200 if healthy else 503), {"status": "ok" if healthy else "degraded", "services": checks}
