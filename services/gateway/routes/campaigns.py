"""Campaigns for prisoners of conscience: start, read, change, pause, sign, write letters, print
them (DESIGN, "Campaigns")."""

import logging

from werkzeug.wrappers import Response

from services.campaigns.schemas import (Ask, CampaignEdit, CampaignListQuery, LetterDelivery, LetterTranslation,
                                        NewCampaign, NewLetter, OwnerInvitation, Pledge, Signature, TimelineEntry,
                                        WallPost)
from services.campaigns.supporters import ACTIONS as SUPPORTER_ACTIONS
from services.common.errors import DomainError

from ..http import Sealed, api, call, http, json_response, read_json
from ..openapi import accepts
from ..web import bundle
from .base import RoutesBase

log = logging.getLogger(__name__)


class CampaignRoutes(RoutesBase):
    @http("POST", "/api/campaigns")
    @api
    @accepts(body=NewCampaign)
    def create_campaign(self, request):
        """Start a campaign (activists). Each detail about the prisoner has its own consent:
        `public`, `verified` (moderator-verified volunteers) or `owners`; a detail without one is for
        the owners only. A title or story that may identify someone needs `confirm_public: true`."""
        return 201, call(self.campaigns.create_campaign, self._viewer(request),
                         Sealed(read_json(request)))

    @http("GET", "/api/campaigns")
    @api
    @accepts(query=CampaignListQuery)
    def list_campaigns(self, request):
        """Listed (`public`) campaigns, newest first, `{items, next?}`: pass `next` as `?before=`.
        With `q`, the ones whose title or story have those words, best match first (search: no
        paging, at most `limit`, and no support counts)."""
        return self.find_campaigns({key: request.args[key] for key in ("limit", "before", "country",
                                                                      "prisoner_status", "q") if key in request.args})

    @http("GET", "/api/me/campaigns")
    @api
    def my_campaigns(self, request):
        """The campaigns one owns, whatever their mode."""
        return call(self.campaigns.my_campaigns, self._viewer(request))

    @http("GET", "/api/campaigns/<string:campaign_id>")
    @api
    def get_campaign(self, request, campaign_id):
        """A campaign, with what the caller may see of the prisoner and `support: {total,
        by_country}` (rounded; a country only from CAMPAIGN_COUNT_THRESHOLD supporters; never the
        prisoner's own). A paused or unknown campaign is 404 to everyone but its owners."""
        return call(self.campaigns.get_campaign, self._viewer(request, required=False), campaign_id)

    @http("PATCH", "/api/campaigns/<string:campaign_id>")
    @api
    @accepts(body=CampaignEdit)
    def update_campaign(self, request, campaign_id):
        """Change a campaign (owners). `{"mode": "paused"}` hides it, its counts and its support
        from everyone but the owners at once; nothing is deleted. A new `prisoner_status` asks
        consent again: every detail is for the owners only until `consent_confirmed: true`."""
        return call(self.campaigns.update_campaign, self._viewer(request), campaign_id,
                    Sealed(read_json(request)))

    @http("POST", "/api/campaigns/<string:campaign_id>/signatures")
    @api
    @accepts(body=Signature)
    def sign_campaign(self, request, campaign_id):
        """Sign, without an account: a country, and optionally an email, which only makes it sign
        once (a keyed hash is kept, never the address). The answer is the same whether this
        signature counted or the email had signed before."""
        self.rate_limit("sign_campaign", request)
        return 202, call(self.campaigns.sign_campaign, campaign_id,
                         Sealed(read_json(request)))

    @http("POST", "/api/supporters/<string:token>/<string:action>")
    @api
    @accepts(path={"action": {"enum": list(SUPPORTER_ACTIONS)}})
    def supporter_action(self, request, token, action):
        """What a supporter's emailed link does, without an account: `confirm` the address (news
        from now on), `stop` the news (the address is forgotten), `withdraw` the signature (it no
        longer counts; the address is forgotten). 404 for a link that is not valid, or no longer."""
        return call(self.campaigns.supporter_action,
                    Sealed({"token": token, "action": action}))

    # ---- letters of support

    @http("POST", "/api/campaigns/<string:campaign_id>/letters")
    @api
    @accepts(body=NewLetter)
    def write_letter(self, request, campaign_id):
        """Write to the person held (signed in). Pending until a moderator approves it; its owners
        never learn who wrote it. Text that may endanger someone (a name, a plan) needs
        `confirm_sensitive: true`."""
        viewer = self._viewer(request)
        self.rate_limit("write_letter", request)
        return 201, call(self.campaigns.write_letter, viewer, campaign_id,
                         Sealed(read_json(request)))

    @http("GET", "/api/campaigns/<string:campaign_id>/letters")
    @api
    def campaign_letters(self, request, campaign_id):
        """The approved letters (owners): text, translation, `delivery`; never who wrote them."""
        return call(self.campaigns.campaign_letters, self._viewer(request), campaign_id)

    @http("POST", "/api/campaigns/<string:campaign_id>/letters/<string:letter_id>/delivery")
    @api
    @accepts(body=LetterDelivery)
    def mark_letter(self, request, campaign_id, letter_id):
        """What became of a printed letter (owners): handed_over, delivered, returned, confiscated."""
        return call(self.campaigns.mark_letter, self._viewer(request), campaign_id, letter_id, read_json(request))

    @http("GET", "/api/campaigns/<string:campaign_id>/bundle.pdf")
    def letters_bundle(self, request, campaign_id):
        """The approved letters as a printable PDF in the prisoner's language (owners). `?plain=1`:
        nothing on the paper names the platform, its address or any code."""
        try:
            letters = call(self.campaigns.campaign_letters, self._viewer(request), campaign_id)
            plain = request.args.get("plain") in ("1", "true")
            pdf = bundle.render(letters, plain)
        except DomainError as exc:
            return json_response(exc.status, exc.to_dict())
        except Exception:
            log.exception("unhandled error in letters_bundle")
            return json_response(500, {"error": {"code": "internal", "message": "Something went wrong."}})
        name = "letters.pdf" if plain else f"letters-{campaign_id[:8]}.pdf"
        return Response(pdf, status=200, mimetype="application/pdf", headers={
            "Cache-Control": "no-store", "Content-Disposition": f'attachment; filename="{name}"'})

    @http("POST", "/api/campaigns/<string:campaign_id>/letters/<string:letter_id>/translation-need")
    @api
    def ask_translation(self, request, campaign_id, letter_id):
        """Ask the platform's translators for a letter (owners): in a quiet campaign, or for a
        letter approved while the campaign was paused, no translation need is posted until an owner
        asks (a need is read by every verified translator)."""
        return 201, call(self.campaigns.ask_translation, self._viewer(request), campaign_id, letter_id)

    @http("GET", "/api/letters/<string:letter_id>/translation")
    @api
    def letter_to_translate(self, request, letter_id):
        """The letter, for the translator the campaign's owner confirmed on its translation need."""
        return call(self.campaigns.letter_to_translate, self._viewer(request), letter_id)

    @http("POST", "/api/letters/<string:letter_id>/translation")
    @api
    @accepts(body=LetterTranslation)
    def translate_letter(self, request, letter_id):
        """The confirmed translator's translation into the prisoner's language: pending until a
        moderator approves it; then the owners read it and the bundle prints it."""
        return call(self.campaigns.translate_letter, self._viewer(request), letter_id,
                    Sealed(read_json(request)))

    # ---- the timeline, the wall, pledges, co-owners

    @http("POST", "/api/campaigns/<string:campaign_id>/timeline")
    @api
    @accepts(body=TimelineEntry)
    def add_timeline_entry(self, request, campaign_id):
        """Add a moment of the prisoner's story (owners): `kind`, `date`, `source`, `details`, and
        `visibility` (`public`, `verified`, `owners`: the default). Returns the campaign."""
        return 201, call(self.campaigns.add_timeline_entry, self._viewer(request), campaign_id,
                         Sealed(read_json(request)))

    @http("DELETE", "/api/campaigns/<string:campaign_id>/timeline/<string:entry_id>")
    @api
    def remove_timeline_entry(self, request, campaign_id, entry_id):
        """Take a moment off the timeline (owners)."""
        call(self.campaigns.remove_timeline_entry, self._viewer(request), campaign_id, entry_id)
        return 204, None

    @http("POST", "/api/campaigns/<string:campaign_id>/asks")
    @api
    @accepts(body=Ask)
    def post_ask(self, request, campaign_id):
        """Ask journalists, policy-makers or lawyers for something (owners): a need linked to the
        campaign (`campaign_id`), for moderator-verified helpers, matched and notified as any need.
        Returns the campaign, whose `asks` name the need's `request_id`."""
        viewer = self._viewer(request)
        call(self.requests.check_room, viewer)  # an ask is a need: it counts against the author's open needs
        return 201, call(self.campaigns.post_ask, viewer, campaign_id, read_json(request))

    @http("POST", "/api/campaigns/<string:campaign_id>/wall")
    @api
    @accepts(body=WallPost)
    def post_to_wall(self, request, campaign_id):
        """A message from the family to the person held (owners). Shown once a moderator approved
        it, and only while the campaign is public."""
        return 201, call(self.campaigns.post_to_wall, self._viewer(request), campaign_id,
                         Sealed(read_json(request)))

    @http("POST", "/api/campaigns/<string:campaign_id>/endorsements")
    @api
    def endorse_campaign(self, request, campaign_id):
        """Support as a moderator-verified journalist, lawyer or policy-maker (from one's skills):
        counted apart in `support.professionals`, never who; once per person. 403 for anyone else."""
        return 201, call(self.campaigns.endorse_campaign, self._viewer(request), campaign_id)

    @http("POST", "/api/campaigns/<string:campaign_id>/pledges")
    @api
    @accepts(body=Pledge)
    def pledge(self, request, campaign_id):
        """Promise an action (signed in): `action`, `kind`, `credit` (show my handle once it is done)."""
        return 201, call(self.campaigns.pledge, self._viewer(request), campaign_id,
                         Sealed(read_json(request)))

    @http("GET", "/api/campaigns/<string:campaign_id>/pledges")
    @api
    def campaign_pledges(self, request, campaign_id):
        """Every pledge (owners); a handle only where its supporter asked to be credited."""
        return call(self.campaigns.campaign_pledges, self._viewer(request), campaign_id)

    @http("POST", "/api/campaigns/<string:campaign_id>/pledges/<string:pledge_id>/done")
    @api
    def pledge_done(self, request, campaign_id, pledge_id):
        """Mark a pledged action done (owners): the campaign's page shows it."""
        return call(self.campaigns.pledge_done, self._viewer(request), campaign_id, pledge_id)

    @http("POST", "/api/campaigns/<string:campaign_id>/owner-invitations")
    @api
    def invite_owner(self, request, campaign_id):
        """A one-time code for a co-owner (the creator), to give them privately; valid 7 days."""
        return 201, call(self.campaigns.invite_owner, self._viewer(request), campaign_id)

    @http("POST", "/api/campaigns/<string:campaign_id>/owners")
    @api
    @accepts(body=OwnerInvitation)
    def join_as_owner(self, request, campaign_id):
        """Become a co-owner with the creator's code (signed in)."""
        return call(self.campaigns.join_as_owner, self._viewer(request), campaign_id,
                    Sealed(read_json(request)))

    @http("DELETE", "/api/campaigns/<string:campaign_id>/owners/<string:handle>")
    @api
    def remove_owner(self, request, campaign_id, handle):
        """The creator removes a co-owner, named by their handle (the campaign's `co_owners`); a
        co-owner leaves. Nobody removes the creator."""
        call(self.campaigns.remove_owner, self._viewer(request), campaign_id, handle)
        return 204, None

    @http("DELETE", "/api/campaigns/<string:campaign_id>/owner-invitations/<string:ref>")
    @api
    def revoke_invitation(self, request, campaign_id, ref):
        """The creator revokes a co-owner's code not used yet (its `ref`, from the campaign's
        `invitations`)."""
        call(self.campaigns.revoke_invitation, self._viewer(request), campaign_id, ref)
        return 204, None
