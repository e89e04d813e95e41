"""Pages anyone may open: the landing page, signing up, in and out; and the one stylesheet."""
from pathlib import Path

from werkzeug.wrappers import Response

from services.common.errors import Conflict, Unauthorized, ValidationFailed

from ..http import Sealed, call, http
from ..routes.base import RoutesBase
from . import forms
from .pages import page, safe_next

STATIC = Path(__file__).parent / "static"
# Read once: the stylesheet and the quick exit's script are the only assets (no fonts, scripts or
# images from anywhere else).
TYPES = {".css": "text/css", ".js": "text/javascript"}
ASSETS = {path.name: (path.read_bytes(), TYPES[path.suffix]) for path in STATIC.iterdir() if path.suffix in TYPES}
# What the quick exit leaves behind in this browser: nothing of ours (the cookies, this site's
# storage and what it cached).
CLEAR_SITE_DATA = '"cache", "cookies", "storage"'


class PublicPages(RoutesBase):
    @http("GET", "/")
    @page()
    def landing_page(self, request, page):
        return page.render("index.html")

    @http("GET", "/static/<string:name>")
    def static_asset(self, request, name):
        if name not in ASSETS:
            return Response("Not found", status=404, mimetype="text/plain")
        body, mimetype = ASSETS[name]
        return Response(body, mimetype=mimetype, headers={"Cache-Control": "public, max-age=3600"})

    @http("GET", "/leave")
    @page()
    def leave(self, request, page):
        """The quick exit: the session ends here (on every gateway, as signing out does), the browser
        is told to forget this site, and what shows is a blank page that names nothing. A GET, so a
        link is enough: no form, no JavaScript, one tap."""
        if page.token:
            try:
                call(self.profiles.logout, Sealed(page.token), False)
            except Unauthorized:
                pass  # over already (a second tap, or it expired): leaving must never fail
            self._revoked(token=page.token)
        page.forget_everything()
        response = page.render("leave.html")
        response.headers["Clear-Site-Data"] = CLEAR_SITE_DATA
        return response

    @http("GET", "/signup")
    @page()
    def signup_form(self, request, page):
        return page.render("signup.html", form={"role": request.args.get("role", "activist")})

    @http("POST", "/signup")
    @page()
    def signup(self, request, page):
        data = forms.pick(request.form, names=("handle", "password", "role", "email"))
        form = {k: v for k, v in data.items() if k != "password"}
        if data.get("password") != request.form.get("password2"):
            return page.render("signup.html", status=400, form=form,
                               errors={"password2": page.gettext("The two passwords differ.")})
        try:
            source = self.rate_limit("sign_up", request)
            call(self.profiles.register, Sealed(data), source)
            session = call(self.profiles.login, Sealed({"handle": data["handle"], "password": data["password"]}))
        except (ValidationFailed, Conflict) as exc:
            return page.render("signup.html", status=400, form=form, errors=page.field_errors(exc))
        page.sign_in(session["token"])
        return page.redirect("/me/profile" if data["role"] == "volunteer" else "/requests/new", done="signed_up")

    @http("GET", "/login")
    @page()
    def login_form(self, request, page):
        return page.render("login.html", form={}, next=safe_next(request.args.get("next")))

    @http("POST", "/login")
    @page()
    def login(self, request, page):
        data = forms.pick(request.form, names=("handle", "password"))
        target = safe_next(request.form.get("next"))
        try:
            source = self.rate_limit("sign_in", request)
            session = call(self.profiles.login, Sealed(data), source)
        except ValidationFailed as exc:
            return page.render("login.html", status=400, form={"handle": data.get("handle", "")}, next=target,
                               errors=page.field_errors(exc))
        except Unauthorized:
            return page.render("login.html", status=401, form={"handle": data.get("handle", "")}, next=target,
                               errors={"password": page.gettext("That handle and password do not match.")})
        page.sign_in(session["token"])
        return page.redirect(target, done="signed_in")

    @http("POST", "/logout")
    @page()
    def logout(self, request, page):
        if page.token:
            call(self.profiles.logout, Sealed(page.token), False)
            self._revoked(token=page.token)
        page.sign_out()
        return page.redirect("/", done="signed_out")
