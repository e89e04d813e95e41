"""Operations: health."""

from services.common import catalog

from .. import openapi
from ..http import api, call, http
from .base import RoutesBase

SERVICES = catalog.BACKEND


class OpsRoutes(RoutesBase):
    @http("GET", "/healthz")
    @api
    def healthz(self, request):
        """Health of the gateway and, through it, of each service, its database and the index."""
        # Ask every service at once, so a slow one costs its own timeout, not the sum of them.
        replies = {name: getattr(self, name).health.call_async() for name in SERVICES}
        checks = {}
        for name, reply in replies.items():
            try:
                checks[name] = {"ok": True, **call(reply.result, timeout=3)}
            except Exception as exc:  # noqa: BLE001 - any failure means "not healthy"
                checks[name] = {"ok": False, "error": type(exc).__name__}
        healthy = all(all(v for v in check.values() if isinstance(v, bool)) for check in checks.values())
        return (200 if healthy else 503), {"status": "ok" if healthy else "degraded", "services": checks}

    @http("GET", "/api/openapi.json")
    @api
    def openapi_document(self, request):
        """This document."""
        return openapi.document(type(self))
