"""search's use cases: plain code over its two ports, the lifecycle store (lifecycles.py) and the
search index (indexing.SearchIndex), or their twins (memory.py). service.py checks the viewer's
signature and hands each call and event here.

Every write carries its aggregate's version (an external version in the index, a newer version or
an earlier time in a lifecycle), so handling an event twice changes nothing.
"""
from services.common.schemas import holds_role, load_or_fail

from . import analytics, indices, queries

DEFAULT_MIN_BUCKET = 5
DEFAULT_ROUND = 5


class SearchWorkflow:
    def __init__(self, lifecycles, index, min_bucket=DEFAULT_MIN_BUCKET, round_to=DEFAULT_ROUND):
        self.lifecycles, self.index, self.min_bucket, self.round_to = lifecycles, index, min_bucket, round_to

    @staticmethod
    def _lifecycle_write(lifecycle):
        return "analytics", lifecycle["_id"], indices.analytics_document(lifecycle), lifecycle["rev"]

    # ---- events

    def request_changed(self, data):
        """Its public text indexed while it is shared; deleted from the index otherwise (it may have
        been shared before an edit). Its lifecycle merged. Both writes in one request."""
        document = indices.request_document(data) if indices.request_indexable(data) else None
        lifecycle = self.lifecycles.merge_request(data)
        self.index.put(("requests", data["request_id"], document, data["version"]), self._lifecycle_write(lifecycle))

    def profile_changed(self, data):
        """An active volunteer's public profile is found; nobody else, nor anything else of them."""
        document = indices.volunteer_document(data) if indices.volunteer_indexable(data) else None
        self.index.put(("volunteers", data["profile_id"], document, data["version"]))

    def profile_deleted(self, data):
        self.index.put(("volunteers", data["profile_id"], None, data["version"]))

    def first_proposed(self, request_id, proposed_at):
        """One top-up's proposals share their time: one merge, one index write for the batch."""
        self.index.put(self._lifecycle_write(self.lifecycles.merge_time(request_id, "first_proposed_at", proposed_at)))

    def need_met(self, request_id, confirmed_at):
        """A need is met when its author confirms a helper (a volunteer's yes alone is not enough)."""
        self.index.put(self._lifecycle_write(self.lifecycles.merge_time(request_id, "accepted_at", confirmed_at)))

    def campaign_changed(self, data):
        """Indexed (its text only while listed), or dropped at once when paused."""
        self.index.put(("campaigns", data["campaign_id"], indices.campaign_document(data), data["version"]))

    # ---- queries

    def search_campaigns(self, params):
        """Listed campaigns by words (title and story), country and status: anyone may ask."""
        params = load_or_fail(queries.CampaignSearch(), params)
        return queries.campaign_results(self.index.search("campaigns", queries.build_campaign_query(params)))

    def search_requests(self, viewer, params):
        """`viewer`: checked claims, or None (anonymous: public requests only)."""
        params = load_or_fail(queries.RequestSearch(), params)
        return queries.request_results(self.index.search("requests", queries.build_request_query(params, viewer)),
                                       params)

    def search_volunteers(self, params):
        params = load_or_fail(queries.VolunteerSearch(), params)
        return queries.volunteer_results(self.index.search("volunteers", queries.build_volunteer_query(params)),
                                         params)

    def analytics_report(self, viewer, report, params):
        """Aggregates only, for analysts only (the gateway checks too)."""
        holds_role(viewer, "analyst", "Analytics are for analysts.")
        params = load_or_fail(analytics.ReportParams(), params)
        kind = "campaigns" if report == "campaigns" else "analytics"
        return analytics.run_report(lambda body: self.index.search(kind, body), report, params, self.min_bucket,
                                    self.round_to)
