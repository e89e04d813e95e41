"""Pages about needs: post one, read one (offer help, flag, close), search them."""
import uuid

from services.common.errors import ValidationFailed
from services.common.schemas import URGENCIES, VISIBILITIES

from ..http import Sealed, call, call_key, http
from ..routes.base import RoutesBase
from . import forms
from .pages import page

REQUEST_FIELDS = dict(names=("title", "body", "country", "urgency", "visibility"), lists=("skills", "languages"),
                      checkboxes=("verified_only", "confirm_public"))
SEARCH_PARAMS = ("q", "skill", "country", "language", "urgency", "status", "page", "sort")
PAGE_SIZE = 20
# What a page lists of one's own requests and matches: the newest, as many as one page may hold.
PAGE_LIMIT = 200


class RequestPages(RoutesBase):
    @http("GET", "/requests/new")
    @page(signed_in=True, roles=("activist",))
    def new_request_form(self, request, page):
        return self._request_form(page, {"urgency": "normal", "visibility": "public", "skills": [], "languages": []})

    @http("POST", "/requests/new")
    @page(signed_in=True, roles=("activist",))
    def new_request(self, request, page):
        data = forms.pick(request.form, **REQUEST_FIELDS)
        # The form's own key (made when it was shown): a second click, or a resend after a
        # timeout, finds the need the first one posted.
        key = request.form.get("idempotency_key") or None
        refused, created = page.submit(lambda: call(self.requests.create_request, page.viewer, Sealed(data),
                                                    call_key(key)))
        if refused:
            return self._request_form(page, dict(data, idempotency_key=key), **refused)
        return page.redirect(f"/requests/{created['id']}", done="posted")

    def _request_form(self, page, form, status=200, errors=None, warnings=None):
        # A form shown again after a mistake keeps its key: nothing was posted with it yet.
        if not form.get("idempotency_key"):
            form["idempotency_key"] = uuid.uuid4().hex
        return page.render("request_new.html", status=status, form=form, errors=errors or {},
                           warnings=warnings or [], urgencies=URGENCIES, visibilities=VISIBILITIES,
                           language_choices=page.fmt.language_choices(), countries=page.fmt.countries())

    @http("GET", "/requests/<string:request_id>")
    @page()
    def request_page(self, request, page, request_id):
        need = call(self.requests.get_request, page.viewer, request_id)
        # Only its author and moderators see a request's moderation state; an activist is no moderator.
        mine = bool(page.me and page.me["role"] == "activist" and "hidden" in need)
        if need["visibility"] == "public" and not need.get("text_withheld"):
            page.public()  # anyone may read it: mirrors may keep it for someone not signed in
        return page.render("request.html", need=need, mine=mine)

    @http("POST", "/requests/<string:request_id>/offer")
    @page(signed_in=True, roles=("volunteer",))
    def offer(self, request, page, request_id):
        call(self.matching.offer_help, page.viewer, request_id)
        return page.redirect("/matches", done="offered")

    @http("POST", "/requests/<string:request_id>/flag")
    @page(signed_in=True)
    def flag(self, request, page, request_id):
        call(self.requests.flag_request, page.viewer, request_id,
             Sealed(forms.pick(request.form, names=("reason",))))
        return page.redirect(f"/requests/{request_id}", done="flagged")

    @http("POST", "/requests/<string:request_id>/close")
    @page(signed_in=True, roles=("activist",))
    def close(self, request, page, request_id):
        call(self.requests.close_request, page.viewer, request_id, forms.pick(request.form, names=("outcome",)))
        return page.redirect(f"/requests/{request_id}", done="closed")

    @http("GET", "/search")
    @page()
    def search_page(self, request, page):
        params = {name: request.args[name] for name in SEARCH_PARAMS if request.args.get(name)}
        params["size"] = PAGE_SIZE
        try:
            results = call(self.search.search_requests, page.viewer, params)
        except ValidationFailed as exc:
            return page.render("search.html", status=400, params=params, results=None,
                               errors=page.field_errors(exc))
        number = int(params.get("page", 1))
        return page.render("search.html", params=params, results=results, number=number,
                           pages=min(-(-results["total"] // PAGE_SIZE), 10_000 // PAGE_SIZE))

