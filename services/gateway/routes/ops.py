"""Operations: health."""
from nameko.web.handlers import http

from .. import openapi
from ..http import api, call
from .base import RoutesBase

SERVICES = ("profiles", "requests", "matching", "notify", "search")


class OpsRoutes(RoutesBase):
    @http("GET", "/healthz")
    @api
    def healthz(self, request):
        """Health of the gateway and, through it, of each service, its database and the index."""
        checks = {}
        for name in SERVICES:
            try:
                checks[name] = {"ok": True, **call(getattr(self, name).health, timeout=3)}
            except Exception as exc:  # noqa: BLE001 - any failure means "not healthy"
                checks[name] = {"ok": False, "error": type(exc).__name__}
        healthy = all(all(v for v in check.values() if isinstance(v, bool)) for check in checks.values())
        return (200 if healthy else 503), {"status": "ok" if healthy else "degraded", "services": checks}

    @http("GET", "/api/openapi.json")
    @api
    def openapi_document(self, request):
        """This document."""
        return openapi.document(type(self))
