"""Pages for moderators (the flag queue, letters of support, vetting volunteers) and analysts (charts and CSV)."""
from werkzeug.wrappers import Response

from services.common.errors import NotFound

from ..http import call, http
from ..routes.base import RoutesBase
from ..routes.search import report_csv
from . import charts, forms
from .pages import page

# Each moderation action of the page: (target type, action) -> (service, method, extra args).
MODERATION = {
    ("request", "hide"): ("requests", "set_hidden", (True, {})),
    ("request", "unhide"): ("requests", "set_hidden", (False, {})),
    ("request", "dismiss"): ("requests", "dismiss_request_flags", ()),
    ("profile", "suspend"): ("profiles", "suspend", ({},)),
    ("profile", "reinstate"): ("profiles", "reinstate", ()),
    ("profile", "dismiss"): ("profiles", "dismiss_profile_flags", ()),
    ("letter", "approve"): ("campaigns", "moderate_letter", ({"decision": "approve"},)),
    ("letter", "reject"): ("campaigns", "moderate_letter", ({"decision": "reject"},)),
    ("translation", "approve"): ("campaigns", "moderate_translation", ({"decision": "approve"},)),
    ("translation", "reject"): ("campaigns", "moderate_translation", ({"decision": "reject"},)),
    ("wall", "approve"): ("campaigns", "moderate_wall_post", ({"decision": "approve"},)),
    ("wall", "reject"): ("campaigns", "moderate_wall_post", ({"decision": "reject"},)),
}
# The charts of the dashboard: (report, by) -> the figure drawn.
CHARTS = (("requests", "skill", "requests"), ("requests", "country", "requests"),
          ("requests", "month", "requests"), ("response-times", "month", "hours_to_first_proposal_p50"),
          ("campaigns", "country", "campaigns"), ("campaigns", "status", "campaigns"))


class StaffPages(RoutesBase):
    @http("GET", "/moderation")
    @page(signed_in=True, roles=("moderator",))
    def moderation_page(self, request, page):
        flags = call(self.requests.flagged_requests, page.viewer) + call(self.profiles.flagged_profiles, page.viewer)
        verified = request.args.get("verified", "false")
        volunteers = call(self.search.search_volunteers, page.viewer,
                          {"verified": verified, "size": 50, "q": request.args.get("q", "")})
        letters = call(self.campaigns.letters_to_moderate, page.viewer, {"limit": 20})
        wall = call(self.campaigns.wall_to_moderate, page.viewer)
        translations = call(self.campaigns.translations_to_moderate, page.viewer)
        return page.render("moderation.html", flags=sorted(flags, key=lambda f: f["created_at"]),
                           volunteers=volunteers, verified=verified, q=request.args.get("q", ""), letters=letters,
                           wall=wall, translations=translations)

    @http("POST", "/moderation/<string:target_type>/<string:target_id>/<string:action>")
    @page(signed_in=True, roles=("moderator",))
    def moderate(self, request, page, target_type, target_id, action):
        if (target_type, action) not in MODERATION:
            raise NotFound("No such action.")
        service, method, extra = MODERATION[(target_type, action)]
        call(getattr(getattr(self, service), method), page.viewer, target_id, *extra)
        return page.redirect("/moderation", done="moderated")

    @http("POST", "/moderation/verify")
    @page(signed_in=True, roles=("moderator",))
    def verify_volunteer(self, request, page):
        volunteer = call(self.profiles.profile_by_handle, page.viewer, request.form.get("handle", ""))
        verified = forms.pick(request.form, checkboxes=("verified",))["verified"]
        self._change_account(self.profiles.set_verified, page.viewer, volunteer["id"], verified)
        return page.redirect("/moderation", done="moderated")

    @http("GET", "/analytics")
    @page(signed_in=True, roles=("analyst",))
    def analytics_page(self, request, page):
        figures = []
        for report, by, column in CHARTS:
            data = call(self.search.analytics_report, page.viewer, report, {"by": by}, timeout=30)
            name = {"skill": page.fmt.skill, "country": page.fmt.country,
                    "status": lambda status: page.fmt.label("prisoner_status", status)}.get(by, str)
            rows = [(name(row[by]), row.get(column)) for row in data["rows"]]
            if by != "month":
                rows.sort(key=lambda item: -(item[1] or 0))
                rows = rows[:15]
            figures.append({"report": report, "by": by, "column": column, "rows": rows,
                            "svg": charts.bars(rows, f"{report} {by}", number=page.fmt.number),
                            "csv": f"/analytics/{report}.csv?by={by}", "k": data["k"],
                            "rounded_to": data.get("rounded_to", 1)})
        return page.render("analytics.html", figures=figures)

    @http("GET", "/analytics/<string:report>.csv")
    @page(signed_in=True, roles=("analyst",))
    def analytics_csv(self, request, page, report):
        data = call(self.search.analytics_report, page.viewer, report, {"by": request.args.get("by")}, timeout=30)
        return page._finish(Response(report_csv(data), mimetype="text/csv", headers={
            "Content-Disposition": f'attachment; filename="{data["report"]}.csv"'}))
