"""Pages about matches: proposals and offers, the author's choice, the private conversation, and
notifications."""
from services.common.errors import NotFound, ValidationFailed

from ..http import Sealed, call, http
from ..routes.base import RoutesBase
from . import forms
from .pages import page
from .request_pages import PAGE_LIMIT

# Each answer a person may give on /matches, who may give it, and what it does.
ANSWERS = {
    "accept": ("volunteer", "accept_match", "accepted"),
    "decline": ("volunteer", "decline_match", "declined"),
    "confirm": ("activist", "confirm_match", "confirmed"),
    "reject": ("activist", "reject_match", "rejected"),
    "end": ("activist", "end_match", "ended"),
}
OPEN = ("proposed", "accepted")


class MatchPages(RoutesBase):
    @http("GET", "/matches")
    @page(signed_in=True, roles=("volunteer", "activist"))
    def matches_page(self, request, page):
        # A page at a time, newest first; `older` is the cursor of the next page (none at the end).
        listed = call(self.matching.list_matches, page.viewer, PAGE_LIMIT, request.args.get("before") or None)
        matches, older = listed["items"], listed.get("next")
        if page.me["role"] == "volunteer":
            return page.render("matches_volunteer.html", open=[m for m in matches if m["status"] in OPEN],
                               confirmed=[m for m in matches if m["status"] == "confirmed"],
                               past=[m for m in matches if m["status"] not in OPEN + ("confirmed",)], older=older)
        # The author: each of their requests with the people who said yes, awaiting their choice.
        by_request = {}
        for match in matches:
            by_request.setdefault(match["request_id"], []).append(match)
        requests = call(self.requests.my_requests, page.viewer, PAGE_LIMIT)["items"]
        return page.render("matches_author.html", requests=requests, by_request=by_request, older=older)

    @http("POST", "/matches/<string:match_id>/<string:answer>")
    @page(signed_in=True)
    def answer(self, request, page, match_id, answer):
        if answer not in ANSWERS or ANSWERS[answer][0] != page.me["role"]:
            raise NotFound("No such action.")
        _, method, done = ANSWERS[answer]
        args = (Sealed(forms.pick(request.form, names=("reason",))),) \
            if answer == "decline" else ()
        if answer == "confirm":
            self._confirm(page.viewer, match_id)
        else:
            call(getattr(self.matching, method), page.viewer, match_id, *args)
        return page.redirect(f"/matches/{match_id}" if answer == "confirm" else "/matches", done=done)

    @http("GET", "/matches/<string:match_id>")
    @page(signed_in=True, roles=("volunteer", "activist"))
    def conversation(self, request, page, match_id):
        return self._conversation(page, match_id)

    def _conversation(self, page, match_id, status=200, errors=None, draft=""):
        match = call(self.matching.get_match, page.viewer, match_id)
        # The author still reads a conversation whose helper's access ended; the helper does not.
        readable = match["status"] == "confirmed" or (match["status"] == "ended" and page.me["role"] == "activist")
        messages = call(self.notify.list_messages, page.viewer, match_id, None, 100)["items"] if readable else []
        return page.render("conversation.html", status=status, match=match, messages=messages,
                           errors=errors or {}, draft=draft)

    @http("POST", "/matches/<string:match_id>/messages")
    @page(signed_in=True, roles=("volunteer", "activist"))
    def send_message(self, request, page, match_id):
        text = request.form.get("text", "")
        try:
            call(self.notify.send_message, page.viewer, match_id, Sealed({"text": text}))
        except ValidationFailed as exc:
            return self._conversation(page, match_id, status=400, errors=page.field_errors(exc), draft=text)
        return page.redirect(f"/matches/{match_id}", done="sent")

    @http("GET", "/notifications")
    @page(signed_in=True)
    def notifications_page(self, request, page):
        inbox = call(self.notify.list_notifications, page.viewer, 50, request.args.get("before") or None)
        return page.render("notifications.html", inbox=inbox)

    @http("POST", "/notifications/read-all")
    @page(signed_in=True)
    def notifications_read(self, request, page):
        call(self.notify.mark_all_read, page.viewer)
        return page.redirect("/notifications", done="read")
