"""Campaigns for prisoners of conscience: start, read, change, pause, sign (DESIGN, "Campaigns")."""

from services.campaigns.schemas import CampaignEdit, CampaignListQuery, NewCampaign, Signature

from ..http import api, call, http, read_json, sealed
from ..openapi import accepts
from .base import RoutesBase


class CampaignRoutes(RoutesBase):
    @http("POST", "/api/campaigns")
    @api
    @accepts(body=NewCampaign)
    def create_campaign(self, request):
        """Start a campaign (activists). Each detail about the prisoner has its own consent:
        `public`, `verified` (moderator-verified volunteers) or `owners`; a detail without one is for
        the owners only. A title or story that may identify someone needs `confirm_public: true`."""
        return 201, call(self.campaigns.create_campaign, self._viewer(request),
                         sealed(self.campaigns.create_campaign, read_json(request)))

    @http("GET", "/api/campaigns")
    @api
    @accepts(query=CampaignListQuery)
    def list_campaigns(self, request):
        """Listed (`public`) campaigns, newest first, `{items, next?}`: pass `next` as `?before=`."""
        query = {key: request.args[key] for key in ("limit", "before", "country", "prisoner_status")
                 if key in request.args}
        return call(self.campaigns.list_campaigns, query)

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
                    sealed(self.campaigns.update_campaign, read_json(request)))

    @http("POST", "/api/campaigns/<string:campaign_id>/signatures")
    @api
    @accepts(body=Signature)
    def sign_campaign(self, request, campaign_id):
        """Sign, without an account: a country, and optionally an email, which only makes it sign
        once (a keyed hash is kept, never the address). The answer is the same whether this
        signature counted or the email had signed before."""
        self.rate_limit("sign_campaign", request)
        return 202, call(self.campaigns.sign_campaign, campaign_id,
                         sealed(self.campaigns.sign_campaign, read_json(request)))
