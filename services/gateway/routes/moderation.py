"""Moderation: the flag queue, hiding requests, suspending accounts, vetting volunteers."""

from services.campaigns.schemas import Dispute
from services.common.flags import ModerationNote
from services.common.schemas import Paging

from ..http import Sealed, api, call, http, read_json
from ..openapi import accepts
from .base import RoutesBase


class ModerationRoutes(RoutesBase):
    @http("GET", "/api/moderation/flags")
    @api
    def flags(self, request):
        """The moderation queue: open flags on requests and profiles."""
        viewer = self._viewer(request)
        items = call(self.requests.flagged_requests, viewer) + call(self.profiles.flagged_profiles, viewer)
        return {"items": sorted(items, key=lambda flag: flag["created_at"])}

    @http("GET", "/api/moderation/letters")
    @api
    @accepts(query=Paging)
    def letters_to_moderate(self, request):
        """Letters of support waiting for a moderator, oldest first, `{items, next?}` (`?before=`)."""
        query = {key: request.args[key] for key in ("limit", "before") if key in request.args}
        return call(self.campaigns.letters_to_moderate, self._viewer(request), query)

    @http("POST", "/api/moderation/letters/<string:letter_id>/approve")
    @api
    def approve_letter(self, request, letter_id):
        """Approve a letter: its campaign's owners get it (in another language than the
        prisoner's, it becomes a translation need first)."""
        return call(self.campaigns.moderate_letter, self._viewer(request), letter_id, {"decision": "approve"})

    @http("POST", "/api/moderation/letters/<string:letter_id>/reject")
    @api
    def reject_letter(self, request, letter_id):
        """Reject a letter: nobody but moderators ever reads it."""
        return call(self.campaigns.moderate_letter, self._viewer(request), letter_id, {"decision": "reject"})

    @http("GET", "/api/moderation/translations")
    @api
    def translations_to_moderate(self, request):
        """Translations of approved letters waiting for a moderator, oldest first, beside the letter:
        the owners see and print a translation only once approved."""
        return call(self.campaigns.translations_to_moderate, self._viewer(request))

    @http("POST", "/api/moderation/translations/<string:letter_id>/approve")
    @api
    def approve_translation(self, request, letter_id):
        """Approve a translation: the owners read it and the bundle prints it."""
        return call(self.campaigns.moderate_translation, self._viewer(request), letter_id, {"decision": "approve"})

    @http("POST", "/api/moderation/translations/<string:letter_id>/reject")
    @api
    def reject_translation(self, request, letter_id):
        """Reject a translation: the owners never see it; the translator may send another."""
        return call(self.campaigns.moderate_translation, self._viewer(request), letter_id, {"decision": "reject"})

    @http("GET", "/api/moderation/wall")
    @api
    def wall_to_moderate(self, request):
        """Families' wall posts waiting for a moderator, oldest first."""
        return call(self.campaigns.wall_to_moderate, self._viewer(request))

    @http("POST", "/api/moderation/wall/<string:post_id>/approve")
    @api
    def approve_wall_post(self, request, post_id):
        """Show a wall post (while its campaign is public)."""
        return call(self.campaigns.moderate_wall_post, self._viewer(request), post_id, {"decision": "approve"})

    @http("POST", "/api/moderation/wall/<string:post_id>/reject")
    @api
    def reject_wall_post(self, request, post_id):
        """Reject a wall post: it is never shown."""
        return call(self.campaigns.moderate_wall_post, self._viewer(request), post_id, {"decision": "reject"})

    @http("POST", "/api/moderation/campaigns/<string:campaign_id>/disputed")
    @api
    @accepts(body=Dispute)
    def set_disputed(self, request, campaign_id):
        """Mark a campaign as disputed (its page says so), or clear it: `{disputed, note?}`."""
        return call(self.campaigns.set_disputed, self._viewer(request), campaign_id,
                    Sealed(read_json(request)))

    @http("POST", "/api/moderation/requests/<string:request_id>/hide")
    @api
    @accepts(body=ModerationNote)
    def hide_request(self, request, request_id):
        """Hide a request from everyone but its author (it leaves search and matching)."""
        return call(self.requests.set_hidden, self._viewer(request), request_id, True, read_json(request))

    @http("POST", "/api/moderation/requests/<string:request_id>/unhide")
    @api
    @accepts(body=ModerationNote)
    def unhide_request(self, request, request_id):
        """Show a hidden request again."""
        return call(self.requests.set_hidden, self._viewer(request), request_id, False, read_json(request))

    @http("POST", "/api/moderation/requests/<string:request_id>/dismiss")
    @api
    def dismiss_request_flags(self, request, request_id):
        """Dismiss the open flags on a request."""
        call(self.requests.dismiss_request_flags, self._viewer(request), request_id)
        return 204, None

    @http("POST", "/api/moderation/accounts/<string:account_id>/suspend")
    @api
    @accepts(body=ModerationNote)
    def suspend(self, request, account_id):
        """Suspend an account: signed out, out of search and matching."""
        return self._change_account(self.profiles.suspend, self._viewer(request), account_id, read_json(request))

    @http("POST", "/api/moderation/accounts/<string:account_id>/reinstate")
    @api
    def reinstate(self, request, account_id):
        """Lift a suspension."""
        return self._change_account(self.profiles.reinstate, self._viewer(request), account_id)

    @http("POST", "/api/moderation/accounts/<string:account_id>/verify")
    @api
    def verify(self, request, account_id):
        """Mark a volunteer as verified (e.g. a lawyer who is a lawyer)."""
        return self._change_account(self.profiles.set_verified, self._viewer(request), account_id, True)

    @http("POST", "/api/moderation/accounts/<string:account_id>/unverify")
    @api
    def unverify(self, request, account_id):
        """Withdraw a volunteer's verification."""
        return self._change_account(self.profiles.set_verified, self._viewer(request), account_id, False)

    @http("POST", "/api/moderation/accounts/<string:account_id>/dismiss")
    @api
    def dismiss_profile_flags(self, request, account_id):
        """Dismiss the open flags on a profile."""
        call(self.profiles.dismiss_profile_flags, self._viewer(request), account_id)
        return 204, None
