"""The check-in page (DESIGN, "Reach when the web is blocked or cut"): for someone who fears
arrest, an interval, whom to tell and what; "I am fine" each time; a duress password. The rules
are profiles'; this page only shows them and sends the form."""
from services.common.errors import NotFound, Unprocessable, ValidationFailed
from services.common.refs import short_ref

from ..http import Sealed, call, http
from ..routes.base import RoutesBase
from . import forms
from .pages import page


class CheckInPages(RoutesBase):
    @http("GET", "/me/check-in")
    @page(signed_in=True)
    def check_in_page(self, request, page):
        return self._render_check_in(page)

    def _render_check_in(self, page, form=None, status=200, errors=None):
        check_in = call(self.profiles.get_check_in, page.viewer)
        form = form if form is not None else {
            "interval_hours": check_in.get("interval_hours", 24), "helpers": check_in.get("helpers", []),
            "campaigns": check_in.get("campaigns", [])}
        return page.render("check_in.html", status=status, check_in=check_in, form=form, errors=errors or {},
                           helpers=self._conversations(page), campaigns=self._campaigns(page))

    def _conversations(self, page):
        """The conversations under way, as choices: the other person's handle (an author sees it),
        or the match's short number (a helper sees no author)."""
        items = call(self.matching.list_matches, page.viewer, 50, None)["items"]
        return [(m["id"], (m.get("volunteer") or {}).get("handle") or short_ref(m["id"]))
                for m in items if m.get("id") and m["status"] == "confirmed"]

    def _campaigns(self, page):
        return [(c["id"], c["title"]) for c in call(self.campaigns.my_campaigns, page.viewer)["items"]]

    @http("POST", "/me/check-in")
    @page(signed_in=True)
    def save_check_in_page(self, request, page):
        data = forms.pick(request.form, names=("message", "duress_password"), lists=("helpers", "campaigns"),
                          integers=("interval_hours",))
        try:
            call(self.profiles.set_check_in, page.viewer, Sealed(data))
        except (ValidationFailed, Unprocessable) as exc:
            data.pop("duress_password", None)
            return self._render_check_in(page, data, status=400, errors=page.field_errors(exc))
        return page.redirect("/me/check-in", done="saved")

    @http("POST", "/me/check-in/now")
    @page(signed_in=True)
    def check_in_now_page(self, request, page):
        try:
            call(self.profiles.check_in, page.viewer)
        except NotFound:
            pass  # none set: the page says so
        return page.redirect("/me/check-in", done="checked_in")

    @http("POST", "/me/check-in/stop")
    @page(signed_in=True)
    def stop_check_in_page(self, request, page):
        call(self.profiles.stop_check_in, page.viewer)
        return page.redirect("/me/check-in", done="saved")
