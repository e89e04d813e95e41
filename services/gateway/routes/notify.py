"""Notifications, email preferences, private messages and webhooks (served by notify)."""
from nameko.web.handlers import http

from ..http import api, call, read_json
from .base import RoutesBase


class NotifyRoutes(RoutesBase):
    # ---- inbox: GET /api/notifications?limit=&before=<id of the last item seen>

    @http("GET", "/api/notifications")
    @api
    def notifications(self, request):
        args = request.args
        return call(self.notify.list_notifications, self._viewer(request), args.get("limit", 50),
                    args.get("before"))

    @http("POST", "/api/notifications/read-all")
    @api
    def notifications_read_all(self, request):
        return call(self.notify.mark_all_read, self._viewer(request))

    @http("POST", "/api/notifications/<string:notification_id>/read")
    @api
    def notification_read(self, request, notification_id):
        return call(self.notify.mark_read, self._viewer(request), notification_id)

    @http("GET", "/api/me/notification-preferences")
    @api
    def notification_preferences(self, request):
        return call(self.notify.get_preferences, self._viewer(request))

    @http("PUT", "/api/me/notification-preferences")
    @api
    def notification_preferences_update(self, request):
        viewer = self._viewer(request)
        return call(self.notify.set_preferences, viewer, read_json(request))

    # ---- private messages: only the two matched people, once the volunteer accepted

    @http("GET", "/api/matches/<string:match_id>/messages")
    @api
    def match_messages(self, request, match_id):
        args = request.args
        return call(self.notify.list_messages, self._viewer(request), match_id, args.get("after"),
                    args.get("limit", 100))

    @http("POST", "/api/matches/<string:match_id>/messages")
    @api
    def match_message_send(self, request, match_id):
        viewer = self._viewer(request)
        return 201, call(self.notify.send_message, viewer, match_id, read_json(request))

    # ---- webhooks (moderators)

    @http("GET", "/api/webhooks")
    @api
    def webhooks_list(self, request):
        return call(self.notify.list_webhooks, self._viewer(request))

    @http("POST", "/api/webhooks")
    @api
    def webhooks_create(self, request):
        viewer = self._viewer(request)
        return 201, call(self.notify.create_webhook, viewer, read_json(request))

    @http("DELETE", "/api/webhooks/<string:webhook_id>")
    @api
    def webhooks_delete(self, request, webhook_id):
        call(self.notify.delete_webhook, self._viewer(request), webhook_id)
        return 204, None
