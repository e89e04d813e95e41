"""Search and analytics."""
import csv
import io
import logging

from werkzeug.wrappers import Response

from services.common.errors import DomainError, Forbidden
from services.search.analytics import REPORTS, ReportParams
from services.search.queries import RequestSearch, VolunteerSearch

from ..http import api, call, http, json_response
from ..openapi import accepts
from .base import RoutesBase

log = logging.getLogger(__name__)


def report_csv(report):
    """A report as CSV: its columns as the header, one line per row, empty cells for blanks."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(report["columns"])
    for row in report["rows"]:
        writer.writerow(["" if row.get(column) is None else row[column] for column in report["columns"]])
    return out.getvalue()


class SearchRoutes(RoutesBase):
    @http("GET", "/api/search/requests")
    @api
    @accepts(query=RequestSearch)
    def search_requests(self, request):
        """Search shared requests: full text, filters, facets, sorting, paging (docs/search.md).

        Anonymous callers find public requests; volunteers and moderators also volunteers-only ones.
        """
        viewer = self._viewer(request, required=False)
        return call(self.search.search_requests, viewer, request.args.to_dict())

    @http("GET", "/api/search/volunteers")
    @api
    @accepts(query=VolunteerSearch)
    def search_volunteers(self, request):
        """Search the public profiles of active volunteers (public fields only)."""
        viewer = self._viewer(request, required=False)
        return call(self.search.search_volunteers, viewer, request.args.to_dict())

    @http("GET", "/api/analytics/<string:report>")
    @accepts(query=ReportParams, path={"report": {"type": "string", "enum": list(REPORTS)}})
    def analytics(self, request, report):
        """Aggregate report for analysts: requests, response-times, fulfilment or unmet-needs.

        `by` groups by skill, country, month, urgency; buckets under k requests are suppressed;
        `format=csv` exports CSV (errors stay JSON).
        """
        try:
            viewer = self._viewer(request)
            if viewer["claims"]["role"] != "analyst":
                raise Forbidden("Analytics are for analysts.")
            data = call(self.search.analytics_report, viewer, report, request.args.to_dict(), timeout=30)
        except DomainError as exc:
            return json_response(exc.status, exc.to_dict())
        except Exception:
            log.exception("unhandled error in analytics")
            return json_response(500, {"error": {"code": "internal", "message": "Something went wrong."}})
        if data.get("report") and request.args.get("format") == "csv":
            return Response(report_csv(data), status=200, mimetype="text/csv", headers={
                "Cache-Control": "no-store",
                "Content-Disposition": f'attachment; filename="{data["report"]}.csv"'})
        return json_response(200, data)
