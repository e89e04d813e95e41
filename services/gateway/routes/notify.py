"""Notifications, email preferences, private messages and webhooks (served by notify)."""

from services.notify.schemas import MessagePaging, NewMessage, NewWebhook, NotificationPaging, NotificationPreferences

from ..http import Sealed, api, call, http, read_json
from ..openapi import accepts
from .base import RoutesBase


class NotifyRoutes(RoutesBase):
    # ---- inbox

    @http("GET", "/api/notifications")
    @api
    @accepts(query=NotificationPaging)
    def notifications(self, request):
        """Your notifications, newest first, with the unread count.

        `{unread, items, next?}`: when `next` is present, pass it as `?before=` for the next page."""
        args = request.args
        return call(self.notify.list_notifications, self._viewer(request), args.get("limit", 50),
                    args.get("before"))

    @http("POST", "/api/notifications/read-all")
    @api
    def notifications_read_all(self, request):
        """Mark all your notifications read."""
        return call(self.notify.mark_all_read, self._viewer(request))

    @http("POST", "/api/notifications/<string:notification_id>/read")
    @api
    def notification_read(self, request, notification_id):
        """Mark one of your notifications read (404 if it is not yours)."""
        return call(self.notify.mark_read, self._viewer(request), notification_id)

    @http("GET", "/api/me/notification-preferences")
    @api
    def notification_preferences(self, request):
        """How you get email: `instant`, a `daily` digest, or `off` (the app inbox always has everything)."""
        return call(self.notify.get_preferences, self._viewer(request))

    @http("PUT", "/api/me/notification-preferences")
    @api
    @accepts(body=NotificationPreferences)
    def notification_preferences_update(self, request):
        """Choose how you get email: `{"email": "instant" | "daily" | "off"}`."""
        viewer = self._viewer(request)
        return call(self.notify.set_preferences, viewer, read_json(request))

    # ---- private messages: only the two matched people, once the volunteer accepted

    @http("GET", "/api/matches/<string:match_id>/messages")
    @api
    @accepts(query=MessagePaging)
    def match_messages(self, request, match_id):
        """The conversation of an accepted match, oldest first (only its two people; 409 before acceptance).

        `{items, next?}`: when `next` is present, pass it as `?after=` for the next page."""
        args = request.args
        return call(self.notify.list_messages, self._viewer(request), match_id, args.get("after"),
                    args.get("limit", 100))

    @http("POST", "/api/matches/<string:match_id>/messages")
    @api
    @accepts(body=NewMessage)
    def match_message_send(self, request, match_id):
        """Send a private message to the other person of a confirmed match (encrypted at rest)."""
        viewer = self._viewer(request)
        return 201, call(self.notify.send_message, viewer, match_id, Sealed(read_json(request)))

    # ---- webhooks (moderators)

    @http("GET", "/api/webhooks")
    @api
    def webhooks_list(self, request):
        """The organizations' webhooks (moderators; secrets are never shown)."""
        return call(self.notify.list_webhooks, self._viewer(request))

    @http("POST", "/api/webhooks")
    @api
    @accepts(body=NewWebhook)
    def webhooks_create(self, request):
        """Register a webhook (moderators): public events, signed with the shared secret (docs/notify.md)."""
        viewer = self._viewer(request)
        return 201, call(self.notify.create_webhook, viewer, Sealed(read_json(request)))

    @http("DELETE", "/api/webhooks/<string:webhook_id>")
    @api
    def webhooks_delete(self, request, webhook_id):
        """Remove a webhook (moderators): its secret is forgotten and pending deliveries dropped."""
        call(self.notify.delete_webhook, self._viewer(request), webhook_id)
        return 204, None
