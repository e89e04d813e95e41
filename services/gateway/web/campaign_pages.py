"""Pages about campaigns for prisoners of conscience: the list, starting one, reading and signing
one, writing a letter, what its owners change (mode, consent) and the letters they print, and the
translator's page of a letter. Forms only, no JavaScript, like every page."""
from werkzeug.wrappers import Response

from services.campaigns.letters import DELIVERY
from services.campaigns.schemas import ASK_SKILLS, LEVELS, PLEDGE_KINDS, PRISONER_FIELDS, PRISONER_STATUSES, TIMELINE_KINDS
from services.campaigns.supporters import ACTIONS as SUPPORTER_ACTIONS
from services.common.errors import NotFound, ValidationFailed

from ..http import Sealed, call, http
from ..routes.base import RoutesBase
from . import bundle, forms
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
        query = {key: request.args[key] for key in ("q", "country", "prisoner_status", "before")
                 if request.args.get(key)}
        listed = self.find_campaigns(dict(query))
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
        refused, created = page.submit(lambda: call(self.campaigns.create_campaign, page.viewer, Sealed(data)))
        if refused:
            return self._form(page, data, **refused)
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
        if campaign["mode"] == "public":
            page.public()  # a listed campaign, read by someone not signed in: mirrors may keep it
        return self._campaign(page, campaign)

    def _campaign(self, page, campaign, status=200, **context):
        pledges = call(self.campaigns.campaign_pledges, page.viewer, campaign["id"]) if campaign["is_owner"] else None
        return page.render("campaign.html", status=status, campaign=campaign, countries=page.fmt.countries(),
                           prisoner_fields=PRISONER_FIELDS, timeline_kinds=TIMELINE_KINDS, levels=LEVELS,
                           pledge_kinds=PLEDGE_KINDS, pledges=pledges, form=context.pop("form", {}),
                           ask_skills=[(skill, page.fmt.skill(skill)) for skill in ASK_SKILLS],
                           language_choices=page.fmt.language_choices(), ask_warnings=context.pop("ask_warnings", []),
                           **context)

    def _campaign_form(self, request, page, campaign_id, method, names, checkboxes=(), lists=(), done="saved",
                       seal=True):
        """One of the campaign page's forms: sent, or the page again with the fields' errors (or, for
        an ask, the identifying-text warning: the only form of the page that asks to confirm)."""
        data = forms.pick(request.form, names=names, lists=lists, checkboxes=checkboxes)
        proxy = getattr(self.campaigns, method)
        refused, _ = page.submit(lambda: call(proxy, page.viewer, campaign_id, Sealed(data) if seal else data))
        if refused:
            campaign = call(self.campaigns.get_campaign, page.viewer, campaign_id)
            return self._campaign(page, campaign, status=refused["status"], errors=refused.get("errors"),
                                  ask_warnings=refused.get("warnings", []), form=data)
        return page.redirect(f"/campaigns/{campaign_id}", done=done)

    @http("POST", "/campaigns/<string:campaign_id>/timeline")
    @page(signed_in=True)
    def timeline_add(self, request, page, campaign_id):
        return self._campaign_form(request, page, campaign_id, "add_timeline_entry",
                                   ("kind", "date", "source", "details", "visibility"))

    @http("POST", "/campaigns/<string:campaign_id>/timeline/<string:entry_id>/remove")
    @page(signed_in=True)
    def timeline_remove(self, request, page, campaign_id, entry_id):
        call(self.campaigns.remove_timeline_entry, page.viewer, campaign_id, entry_id)
        return page.redirect(f"/campaigns/{campaign_id}", done="saved")

    @http("POST", "/campaigns/<string:campaign_id>/asks")
    @page(signed_in=True)
    def ask_form(self, request, page, campaign_id):
        return self._campaign_form(request, page, campaign_id, "post_ask", ("title", "body", "urgency"),
                                   ("confirm_public",), lists=("skills", "languages"), done="asked", seal=False)

    @http("POST", "/campaigns/<string:campaign_id>/wall")
    @page(signed_in=True)
    def wall_post(self, request, page, campaign_id):
        return self._campaign_form(request, page, campaign_id, "post_to_wall", ("text",), done="wall_posted")

    @http("POST", "/campaigns/<string:campaign_id>/endorse")
    @page(signed_in=True)
    def endorse_form(self, request, page, campaign_id):
        call(self.campaigns.endorse_campaign, page.viewer, campaign_id)
        return page.redirect(f"/campaigns/{campaign_id}", done="endorsed")

    @http("POST", "/campaigns/<string:campaign_id>/pledge")
    @page(signed_in=True)
    def pledge_form(self, request, page, campaign_id):
        return self._campaign_form(request, page, campaign_id, "pledge", ("action", "kind"), ("credit",),
                                   done="pledged")

    @http("POST", "/campaigns/<string:campaign_id>/pledges/<string:pledge_id>/done")
    @page(signed_in=True)
    def pledge_done_page(self, request, page, campaign_id, pledge_id):
        call(self.campaigns.pledge_done, page.viewer, campaign_id, pledge_id)
        return page.redirect(f"/campaigns/{campaign_id}", done="saved")

    @http("POST", "/campaigns/<string:campaign_id>/invite")
    @page(signed_in=True)
    def invite_owner_page(self, request, page, campaign_id):
        """The creator's one-time code for a co-owner, shown once (only its hash is kept)."""
        invitation = call(self.campaigns.invite_owner, page.viewer, campaign_id)
        return page.render("campaign_invite.html", campaign_id=campaign_id, invitation=invitation)

    @http("GET", "/campaigns/<string:campaign_id>/join")
    @page(signed_in=True)
    def join_form(self, request, page, campaign_id):
        return page.render("campaign_join.html", campaign_id=campaign_id, code=request.args.get("code", ""))

    @http("POST", "/campaigns/<string:campaign_id>/join")
    @page(signed_in=True)
    def join(self, request, page, campaign_id):
        call(self.campaigns.join_as_owner, page.viewer, campaign_id,
             Sealed(forms.pick(request.form, names=("code",))))
        return page.redirect(f"/campaigns/{campaign_id}", done="joined")

    @http("GET", "/campaigns/<string:campaign_id>/sign")
    @page()
    def sign_form(self, request, page, campaign_id):
        """The signing form on a page of its own: the campaign's page, which caches keep, links here."""
        campaign = call(self.campaigns.get_campaign, page.viewer, campaign_id)
        return page.render("campaign_sign.html", campaign=campaign, countries=page.fmt.countries(), form={})

    @http("POST", "/campaigns/<string:campaign_id>/sign")
    @page()
    def sign(self, request, page, campaign_id):
        self.rate_limit("sign_campaign", request)
        data = forms.pick(request.form, names=("country", "email"))
        try:
            call(self.campaigns.sign_campaign, campaign_id, Sealed(data))
        except ValidationFailed as exc:
            campaign = call(self.campaigns.get_campaign, page.viewer, campaign_id)
            return page.render("campaign.html", status=400, campaign=campaign, countries=page.fmt.countries(),
                               prisoner_fields=PRISONER_FIELDS, errors=page.field_errors(exc), form=data)
        return page.redirect(f"/campaigns/{campaign_id}", done="signed")

    # ---- a supporter's links (sent by email; no account)

    @http("GET", "/supporters/<string:token>/<string:action>")
    @page()
    def supporter_form(self, request, page, token, action):
        """What the link will do, and a button: mail scanners open links, so opening one does nothing."""
        if action not in SUPPORTER_ACTIONS:
            return page.error(NotFound("No such page."))
        return page.render("supporter.html", token=token, action=action, result=None)

    @http("POST", "/supporters/<string:token>/<string:action>")
    @page()
    def supporter_done(self, request, page, token, action):
        done = call(self.campaigns.supporter_action,
                    Sealed({"token": token, "action": action}))
        return page.render("supporter.html", token=token, action=action, result=done)

    @http("POST", "/campaigns/<string:campaign_id>/owners")
    @page(signed_in=True)
    def owners_change(self, request, page, campaign_id):
        """An owner's one-click changes: the mode (pause, quiet, public), the prisoner's status (shown
        to others once confirmed), or consent confirmed again."""
        change = forms.pick(request.form, names=("mode", "prisoner_status"), checkboxes=("consent_confirmed",))
        if not change.get("consent_confirmed"):
            change.pop("consent_confirmed", None)
        call(self.campaigns.update_campaign, page.viewer, campaign_id, Sealed(change))
        return page.redirect(f"/campaigns/{campaign_id}", done="saved")

    @http("POST", "/campaigns/<string:campaign_id>/owners/<string:handle>/remove")
    @page(signed_in=True)
    def owner_remove(self, request, page, campaign_id, handle):
        """The creator removes a co-owner; a co-owner leaves (and then no longer reaches a paused campaign)."""
        call(self.campaigns.remove_owner, page.viewer, campaign_id, handle)
        return page.redirect("/campaigns" if handle == page.me["handle"] else f"/campaigns/{campaign_id}",
                             done="saved")

    @http("POST", "/campaigns/<string:campaign_id>/invitations/<string:ref>/revoke")
    @page(signed_in=True)
    def invitation_revoke(self, request, page, campaign_id, ref):
        call(self.campaigns.revoke_invitation, page.viewer, campaign_id, ref)
        return page.redirect(f"/campaigns/{campaign_id}", done="saved")

    # ---- letters of support

    @http("GET", "/campaigns/<string:campaign_id>/write")
    @page(signed_in=True)
    def letter_form(self, request, page, campaign_id):
        campaign = call(self.campaigns.get_campaign, page.viewer, campaign_id)
        return self._letter_form(page, campaign, {"language": campaign["language"]})

    @http("POST", "/campaigns/<string:campaign_id>/write")
    @page(signed_in=True)
    def send_letter(self, request, page, campaign_id):
        self.rate_limit("write_letter", request)
        data = forms.pick(request.form, names=("text", "language"), checkboxes=("confirm_sensitive",))
        refused, _ = page.submit(lambda: call(self.campaigns.write_letter, page.viewer, campaign_id, Sealed(data)))
        if refused:
            return self._letter_form(page, call(self.campaigns.get_campaign, page.viewer, campaign_id), data, **refused)
        return page.redirect(f"/campaigns/{campaign_id}", done="letter_sent")

    def _letter_form(self, page, campaign, form, status=200, errors=None, warnings=None):
        return page.render("campaign_write.html", status=status, campaign=campaign, form=form, errors=errors or {},
                           warnings=warnings or [], language_choices=page.fmt.language_choices())

    @http("GET", "/campaigns/<string:campaign_id>/letters")
    @page(signed_in=True)
    def letters_page(self, request, page, campaign_id):
        letters = call(self.campaigns.campaign_letters, page.viewer, campaign_id)
        waiting = sum(1 for letter in letters["items"] if letter["needs_translation"] and not letter["translation"])
        return page.render("campaign_letters.html", letters=letters, waiting=waiting, deliveries=DELIVERY)

    @http("POST", "/campaigns/<string:campaign_id>/letters/<string:letter_id>/translation-need")
    @page(signed_in=True)
    def ask_translation_page(self, request, page, campaign_id, letter_id):
        call(self.campaigns.ask_translation, page.viewer, campaign_id, letter_id)
        return page.redirect(f"/campaigns/{campaign_id}/letters", done="saved")

    @http("POST", "/campaigns/<string:campaign_id>/letters/<string:letter_id>/delivery")
    @page(signed_in=True)
    def mark_letter_page(self, request, page, campaign_id, letter_id):
        call(self.campaigns.mark_letter, page.viewer, campaign_id, letter_id,
             forms.pick(request.form, names=("delivery",)))
        return page.redirect(f"/campaigns/{campaign_id}/letters", done="saved")

    @http("GET", "/campaigns/<string:campaign_id>/bundle.pdf")
    @page(signed_in=True)
    def bundle_pdf(self, request, page, campaign_id):
        """The printable bundle, for the pages' signed-in owners (the API's is for bearer tokens)."""
        letters = call(self.campaigns.campaign_letters, page.viewer, campaign_id)
        plain = request.args.get("plain") in ("1", "true")
        response = Response(bundle.render(letters, plain), status=200, mimetype="application/pdf", headers={
            "Cache-Control": "no-store",
            "Content-Disposition": f'attachment; filename="{"letters" if plain else "letters-" + campaign_id[:8]}.pdf"'})
        return response

    @http("GET", "/letters/<string:letter_id>/translate")
    @page(signed_in=True, roles=("volunteer",))
    def translation_form(self, request, page, letter_id):
        letter = call(self.campaigns.letter_to_translate, page.viewer, letter_id)
        return page.render("letter_translate.html", letter=letter, form={"text": letter["translation"] or ""})

    @http("POST", "/letters/<string:letter_id>/translate")
    @page(signed_in=True, roles=("volunteer",))
    def save_translation(self, request, page, letter_id):
        data = forms.pick(request.form, names=("text",))
        try:
            call(self.campaigns.translate_letter, page.viewer, letter_id, Sealed(data))
        except ValidationFailed as exc:
            letter = call(self.campaigns.letter_to_translate, page.viewer, letter_id)
            return page.render("letter_translate.html", status=400, letter=letter, form=data,
                               errors=page.field_errors(exc))
        return page.redirect(f"/letters/{letter_id}/translate", done="saved")
