"""Pages about people: the volunteer directory (invite), one's own profile, email and account."""
from services.common.errors import Unauthorized, ValidationFailed

from ..http import Sealed, call, http
from ..routes.base import RoutesBase
from . import forms
from .pages import page
from .request_pages import PAGE_LIMIT, PAGE_SIZE

DIRECTORY_PARAMS = ("q", "skill", "country", "language", "page")
EMAIL_CHOICES = ("instant", "daily", "off")


class PeoplePages(RoutesBase):
    @http("GET", "/volunteers")
    @page()
    def directory(self, request, page):
        params = {name: request.args[name] for name in DIRECTORY_PARAMS if request.args.get(name)}
        try:
            results = call(self.search.search_volunteers, page.viewer, dict(params, size=PAGE_SIZE))
        except ValidationFailed as exc:
            return page.render("volunteers.html", status=400, params=params, results=None, open_requests=[],
                               errors=page.field_errors(exc))
        open_requests = []
        if page.me and page.me["role"] == "activist":
            open_requests = [r for r in call(self.requests.my_requests, page.viewer, PAGE_LIMIT)["items"]
                             if r["status"] == "open"]
        return page.render("volunteers.html", params=params, results=results, open_requests=open_requests)

    @http("POST", "/volunteers/invite")
    @page(signed_in=True, roles=("activist",))
    def invite(self, request, page):
        volunteer = call(self.profiles.profile_by_handle, page.viewer, request.form.get("handle", ""))
        request_id = request.form.get("request_id", "")
        call(self.matching.invite_volunteer, page.viewer, request_id, {"volunteer_id": volunteer["id"]})
        return page.redirect("/matches", done="invited")

    @http("GET", "/me/profile")
    @page(signed_in=True)
    def profile_page(self, request, page):
        return self._profile(page)

    def _profile(self, page, form=None, status=200, errors=None, link_code=None):
        """The profile page: the form as sent (`form`), or else as stored."""
        me = call(self.profiles.get_me, page.viewer)
        if form is None:
            form = dict(me.get("profile") or {})
            form["languages"] = [entry["code"] for entry in form.get("languages", [])]
        preferences = call(self.notify.get_preferences, page.viewer)
        return page.render("profile.html", status=status, account=me, form=form, errors=errors or {},
                           preferences=preferences, email_choices=EMAIL_CHOICES, link_code=link_code,
                           language_choices=page.fmt.language_choices(), countries=page.fmt.countries())

    @http("POST", "/me/profile")
    @page(signed_in=True)
    def save_profile(self, request, page):
        data = forms.pick(request.form, names=("bio",), lists=("skills", "languages", "countries"),
                          integers=("availability_hours", "max_active_matches"))
        data.setdefault("bio", "")
        try:
            call(self.profiles.update_profile, page.viewer, data)
        except ValidationFailed as exc:
            return self._profile(page, data, status=400, errors=page.field_errors(exc))
        return page.redirect("/me/profile", done="saved")

    @http("POST", "/me/sms-code")
    @page(signed_in=True)
    def sms_code(self, request, page):
        """The code shown once, on this answer only (never in a URL a history keeps)."""
        return self._profile(page, link_code=call(self.profiles.link_code, page.viewer)["code"])

    @http("POST", "/me/email")
    @page(signed_in=True)
    def save_email(self, request, page):
        email = request.form.get("email", "").strip() or None
        try:
            call(self.profiles.change_email, page.viewer, Sealed({"email": email}))
            call(self.notify.set_preferences, page.viewer, {"email": request.form.get("delivery", "off")})
        except ValidationFailed as exc:
            return self._profile(page, status=400, errors=page.field_errors(exc))
        return page.redirect("/me/profile", done="saved")

    @http("POST", "/me/password")
    @page(signed_in=True)
    def save_password(self, request, page):
        data = forms.pick(request.form, names=("current_password", "new_password"))
        if data.get("new_password") != request.form.get("new_password2"):
            return self._profile(page, status=400, errors={"new_password2": page.gettext("The two passwords differ.")})
        try:
            source = self.rate_limit("sign_in", request)
            session = call(self.profiles.change_password, page.viewer,
                           Sealed(data), source)
        except (ValidationFailed, Unauthorized) as exc:
            return self._profile(page, status=exc.status, errors=page.field_errors(exc))
        self._revoked(page.viewer["claims"]["account_id"], page.token)
        page.sign_in(session["token"])  # every other session has ended; this browser keeps a new one
        return page.redirect("/me/profile", done="password_changed")

    @http("POST", "/me/delete")
    @page(signed_in=True)
    def delete_account(self, request, page):
        try:
            source = self.rate_limit("sign_in", request)
            call(self.profiles.delete_account, page.viewer,
                 Sealed({"password": request.form.get("password", "")}), source)
            self._revoked(page.viewer["claims"]["account_id"])
        except (ValidationFailed, Unauthorized) as exc:
            return self._profile(page, status=exc.status, errors=page.field_errors(exc))
        page.sign_out()
        return page.redirect("/", done="deleted")
