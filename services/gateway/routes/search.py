"""Search and analytics."""
import csv
import io
import logging

from nameko.web.handlers import http
from werkzeug.wrappers import Response

from services.common.errors import DomainError, Forbidden

from ..http import api, call, json_response
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
    def search_requests(self, request):
        viewer = self._viewer(request, required=False)
        return call(self.search.search_requests, viewer, request.args.to_dict())

    @http("GET", "/api/search/volunteers")
    @api
    def search_volunteers(self, request):
        viewer = self._viewer(request, required=False)
        return call(self.search.search_volunteers, viewer, request.args.to_dict())

    def _analytics_report(self, request, report):
        viewer = self._viewer(request)
        if viewer["role"] != "analyst":
            raise Forbidden("Analytics are for analysts.")
        return call(self.search.analytics_report, viewer, report, request.args.to_dict(), timeout=30)

    @http("GET", "/api/analytics/<string:report>")
    def analytics(self, request, report):
        """`GET /api/analytics/<report>?by=...&format=json|csv`: aggregates only, analysts only."""
        if request.args.get("format") != "csv":
            return api(SearchRoutes._analytics_report)(self, request, report)
        # CSV: errors still come back as the one JSON error format.
        try:
            data = self._analytics_report(request, report)
        except DomainError as exc:
            return json_response(exc.status, exc.to_dict())
        except Exception:
            log.exception("unhandled error in analytics")
            return json_response(500, {"error": {"code": "internal", "message": "Something went wrong."}})
        return Response(report_csv(data), status=200, mimetype="text/csv", headers={
            "Cache-Control": "no-store",
            "Content-Disposition": f'attachment; filename="{data["report"]}.csv"'})
