"""Notifications and private messages."""
from nameko.web.handlers import http

from ..http import api, call
from .base import RoutesBase


class NotifyRoutes(RoutesBase):
    @http("GET", "/api/notifications")
    @api
    def notifications(self, request):
        return call(self.notify.list_notifications, self._viewer(request))
