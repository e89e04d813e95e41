"""Pages about campaigns for prisoners of conscience: the list, starting one, reading and signing
one, and what its owners change (mode, consent). Forms only, no JavaScript, like every page."""
from services.campaigns.schemas import LEVELS, PRISONER_FIELDS, PRISONER_STATUSES
from services.common.errors import ConfirmationRequired, ValidationFailed

from ..http import call, http, sealed
from ..routes.base import RoutesBase
from . import forms
from .pages import page

CAMPAIGN_FIELDS = dict(names=("title", "story", "prisoner_country", "language", "prisoner_status", "detained_on",
                              "mode"), checkboxes=("confirm_public",))


def campaign_form_data(form):
    """The form's flat fields -> the nested body the campaigns service validates."""
    data = forms.pick(form, **CAMPAIGN_FIELDS)
    prisoner = {field: forms.text(form, f"prisoner_{field}") for field in PRISONER_FIELDS
                if forms.text(form, f"prisoner_{field}")}
    consent = {field: form.get(f"consent_{field}") for field in PRISONER_FIELDS if form.get(f"consent_{field}")}
    return dict(data, prisoner=prisoner, consent=consent)


class CampaignPages(RoutesBase):
    @http("GET", "/campaigns")
    @page()
    def campaigns_page(self, request, page):
        query = {key: request.args[key] for key in ("country", "prisoner_status", "before")
                 if request.args.get(key)}
        listed = call(self.campaigns.list_campaigns, query)
        return page.render("campaigns.html", listed=listed, query=query, statuses=PRISONER_STATUSES,
                           countries=page.fmt.countries())

    @http("GET", "/campaigns/new")
    @page(signed_in=True, roles=("activist",))
    def new_campaign_form(self, request, page):
        return self._form(page, {"mode": "public", "prisoner_status": "detained", "consent": {}, "prisoner": {}})

    @http("POST", "/campaigns/new")
    @page(signed_in=True, roles=("activist",))
    def new_campaign(self, request, page):
        data = campaign_form_data(request.form)
        try:
            created = call(self.campaigns.create_campaign, page.viewer, sealed(self.campaigns.create_campaign, data))
        except ValidationFailed as exc:
            return self._form(page, data, status=400, errors=page.field_errors(exc))
        except ConfirmationRequired as exc:
            return self._form(page, data, status=422, warnings=sorted(exc.fields or {}))
        return page.redirect(f"/campaigns/{created['id']}", done="campaign_started")

    def _form(self, page, form, status=200, errors=None, warnings=None):
        return page.render("campaign_new.html", status=status, form=form, errors=errors or {},
                           warnings=warnings or [], statuses=PRISONER_STATUSES, levels=LEVELS,
                           prisoner_fields=PRISONER_FIELDS, language_choices=page.fmt.language_choices(),
                           countries=page.fmt.countries())

    @http("GET", "/campaigns/<string:campaign_id>")
    @page()
    def campaign_page(self, request, page, campaign_id):
        campaign = call(self.campaigns.get_campaign, page.viewer, campaign_id)
        return page.render("campaign.html", campaign=campaign, countries=page.fmt.countries(),
                           prisoner_fields=PRISONER_FIELDS, form={})

    @http("POST", "/campaigns/<string:campaign_id>/sign")
    @page()
    def sign(self, request, page, campaign_id):
        self.rate_limit("sign_campaign", request)
        data = forms.pick(request.form, names=("country", "email"))
        try:
            call(self.campaigns.sign_campaign, campaign_id, sealed(self.campaigns.sign_campaign, data))
        except ValidationFailed as exc:
            campaign = call(self.campaigns.get_campaign, page.viewer, campaign_id)
            return page.render("campaign.html", status=400, campaign=campaign, countries=page.fmt.countries(),
                               prisoner_fields=PRISONER_FIELDS, errors=page.field_errors(exc), form=data)
        return page.redirect(f"/campaigns/{campaign_id}", done="signed")

    @http("POST", "/campaigns/<string:campaign_id>/owners")
    @page(signed_in=True, roles=("activist",))
    def owners_change(self, request, page, campaign_id):
        """An owner's one-click changes: the mode (pause, quiet, public), or consent confirmed again."""
        change = forms.pick(request.form, names=("mode",), checkboxes=("consent_confirmed",))
        if not change.get("consent_confirmed"):
            change.pop("consent_confirmed", None)
        call(self.campaigns.update_campaign, page.viewer, campaign_id, sealed(self.campaigns.update_campaign, change))
        return page.redirect(f"/campaigns/{campaign_id}", done="saved")
