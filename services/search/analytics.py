"""Analytics: request lifecycles from events, and aggregate reports with small buckets suppressed.

A request's lifecycle is assembled in the search service's own database (lifecycles.py) from
`request_*` events (what was asked, where, when, its status) and from
`match_proposed` / `match_confirmed` (the first proposal, and when the author confirmed a helper:
`accepted_at`, the need met; a volunteer's yes alone is not). Events of one
request arrive on different exchanges and in any order, so each is merged idempotently:
request fields only from a newer request version, times only if earlier than what is held.
Every change bumps `rev`, which is the external version of the analytics document, so the newest
state wins in Elasticsearch whatever order the writes land in.

Nothing in a lifecycle names a person: no author, no volunteer, no text. Private requests are
kept (their lifecycle has no more than any other) but left out of every report.

Reports are Elasticsearch aggregations over that index (composite for the groupings, the core
`percentiles` for response times; no scripts: this distribution has no painless, so durations are
computed here when the document is written). Only audited groupings are given (`AUDITED`); any
bucket counting fewer than `k` requests is left out without a trace, counts are published rounded
(`ANALYTICS_ROUND`, default 5), and private requests are not counted at all, so no individual
request can be singled out by comparing reports.
"""
import itertools

from marshmallow import fields, validate

from services.common.errors import NotFound, Unprocessable
from services.common.schemas import StrictSchema

# ---- reports (pure: parameters -> aggregation body, response -> rows)

DIMENSIONS = {
    "skill": {"terms": {"field": "skills"}},
    "country": {"terms": {"field": "country"}},
    "month": {"date_histogram": {"field": "created_at", "calendar_interval": "month", "format": "yyyy-MM"}},
    "urgency": {"terms": {"field": "urgency"}},
    # The prisoner's status (campaigns): detained, sentenced, released...
    "status": {"terms": {"field": "status"}},
}
REPORTS = ("requests", "response-times", "fulfilment", "unmet-needs", "campaigns")
DEFAULT_BY = {"requests": "skill", "response-times": "", "fulfilment": "", "unmet-needs": "skill,country",
              "campaigns": "country"}
# The only groupings each report gives: audited, fixed sets (any order of their names). Free
# combinations let a reader single out a request by comparing two of them (one more key turned a
# bucket of 7 into 6 and a suppressed 1: found in review).
AUDITED = {
    "requests": ({"skill"}, {"country"}, {"month"}, {"urgency"}, {"skill", "country"}, {"country", "month"}),
    "response-times": (set(), {"country"}, {"skill"}, {"month"}),
    "fulfilment": (set(), {"country"}, {"skill"}),
    "unmet-needs": ({"skill", "country"}, {"skill"}, {"country"}),
    # Campaigns by the prisoner's country, their status (the outcome: released, sentenced...), or
    # month; the same threshold and rounding as requests.
    "campaigns": ({"country"}, {"status"}, {"month"}, {"country", "status"}),
}
COMPOSITE_PAGE = 500
MAX_PAGES = 40  # at most 20,000 buckets per report: a bound, far above any real grouping


# Every way of writing an audited grouping of any report ("skill,country" or "country,skill"...):
# what the document lists for `by`; which of them a given report gives is checked with the report.
GROUPINGS = sorted({",".join(order) for groups in AUDITED.values() for group in groups
                    for order in itertools.permutations(sorted(group))})


class ReportParams(StrictSchema):
    by = fields.String(load_default=None, validate=validate.OneOf(GROUPINGS))
    format = fields.String(load_default="json", validate=validate.OneOf(("json", "csv")))


def parse_by(report, params):
    if report not in REPORTS:  # a path that names no report: there is nothing there
        raise NotFound("There is no such report.", {"report": f"Must be one of: {', '.join(REPORTS)}."})
    raw = DEFAULT_BY[report] if params.get("by") is None else params["by"]
    by = [part.strip() for part in raw.split(",") if part.strip()]
    if len(set(by)) != len(by) or set(by) not in AUDITED[report]:
        allowed = "; ".join(",".join(sorted(group)) or "(none)" for group in AUDITED[report])
        # Every grouping is some report's; whether it is this report's, no schema of a query can say.
        raise Unprocessable("Some fields are not valid.", {"by": f"One of the groupings of this report: {allowed}."})
    return by


def base_filter(report):
    """Requests whose creation we know of, that no moderator hid, and that are not private (a
    private request is its author's and helper's business: it is not counted at all)."""
    if report == "campaigns":  # the index holds no paused campaign
        return {"bool": {"filter": [{"exists": {"field": "created_at"}}]}}
    clauses = [{"exists": {"field": "created_at"}}, {"term": {"hidden": False}},
               {"bool": {"must_not": {"term": {"visibility": "private"}}}}]
    if report == "unmet-needs":
        clauses.append({"term": {"status": "open"}})
        clauses.append({"bool": {"must_not": {"exists": {"field": "accepted_at"}}}})
    return {"bool": {"filter": clauses}}


def _metrics(report):
    if report == "response-times":
        return {
            "proposed": {"filter": {"exists": {"field": "hours_to_first_proposal"}}, "aggs": {
                "p": {"percentiles": {"field": "hours_to_first_proposal", "percents": [50, 90]}}}},
            "accepted": {"filter": {"exists": {"field": "hours_to_acceptance"}}, "aggs": {
                "p": {"percentiles": {"field": "hours_to_acceptance", "percents": [50, 90]}}}},
        }
    if report == "fulfilment":
        return {"fulfilled": {"filter": {"term": {"status": "fulfilled"}}},
                "accepted": {"filter": {"exists": {"field": "accepted_at"}}}}
    return {}


def build_report_query(report, by, after=None):
    """One page of the report's aggregation. Without dimensions: one overall bucket."""
    body = {"size": 0, "track_total_hits": True, "query": base_filter(report)}
    if by:
        composite = {"size": COMPOSITE_PAGE, "sources": [{name: DIMENSIONS[name]} for name in by]}
        if after:
            composite["after"] = after
        body["aggs"] = {"groups": {"composite": composite, "aggs": _metrics(report)}}
    else:
        body["aggs"] = _metrics(report)
    return body


def columns(report, by):
    return by + {
        "requests": ["requests"],
        "campaigns": ["campaigns"],
        "unmet-needs": ["open_requests"],
        "response-times": ["requests", "proposed", "hours_to_first_proposal_p50", "hours_to_first_proposal_p90",
                           "accepted", "hours_to_acceptance_p50", "hours_to_acceptance_p90"],
        "fulfilment": ["requests", "accepted", "fulfilled", "acceptance_rate", "fulfilment_rate"],
    }[report]


def _percentile(agg, which):
    value = agg["p"]["values"].get(which)
    return None if value is None else round(value, 2)


def rounded(count, base):
    """A published count (of a bucket shown, so at least k): to the nearest multiple of `base`
    (half up, and never below `base`), so that the difference of two overlapping figures does not
    give away one person's request."""
    return count if base <= 1 else max(base, int((count + base // 2) // base * base))


def bucket_row(report, by, key, count, aggs, k, base=1):
    """A row for one bucket, or None when it must be suppressed (fewer than k requests). Inner
    figures over fewer than k requests (e.g. times of only 3 accepted requests) are blanked.
    Counts are published rounded to `base`; rates come from the published counts."""
    if count < k:
        return None
    row = {name: key[name] for name in by}
    shown_count = rounded(count, base)
    if report == "requests":
        row["requests"] = shown_count
    elif report == "campaigns":
        row["campaigns"] = shown_count
    elif report == "unmet-needs":
        row["open_requests"] = shown_count
    elif report == "response-times":
        row["requests"] = shown_count
        for part, prefix in (("proposed", "hours_to_first_proposal"), ("accepted", "hours_to_acceptance")):
            n = aggs[part]["doc_count"]
            shown = n >= k
            row[part] = rounded(n, base) if shown else None
            row[f"{prefix}_p50"] = _percentile(aggs[part], "50.0") if shown else None
            row[f"{prefix}_p90"] = _percentile(aggs[part], "90.0") if shown else None
    elif report == "fulfilment":
        row["requests"] = shown_count
        for part in ("accepted", "fulfilled"):
            n = aggs[part]["doc_count"]
            shown = n >= k or n == 0
            row[part] = rounded(n, base) if shown else None
            row[f"{'acceptance' if part == 'accepted' else 'fulfilment'}_rate"] = (
                round(min(rounded(n, base) / shown_count, 1.0), 4) if shown and shown_count else None)
    return row


def report_rows(report, by, pages, k, base=1):
    """All pages of aggregation responses -> rows. Suppressed buckets are left out without a
    trace: even their number, compared across groupings, would single a request out."""
    rows = []
    for response in pages:
        aggs = response["aggregations"]
        if by:
            buckets = [(b["key"], b["doc_count"], b) for b in aggs["groups"]["buckets"]]
        else:
            buckets = [({}, response["hits"]["total"]["value"], aggs)]
        for key, count, bucket_aggs in buckets:
            row = bucket_row(report, by, key, count, bucket_aggs, k, base)
            if row is not None:
                rows.append(row)
    return rows


def run_report(search, report, params, k, base=1):
    """`search(body) -> response dict`: pages through the composite aggregation (bounded)."""
    by = parse_by(report, params)
    pages, after = [], None
    for _ in range(MAX_PAGES):
        response = search(build_report_query(report, by, after))
        pages.append(response)
        after = response["aggregations"]["groups"].get("after_key") if by else None
        if not after or len(response["aggregations"]["groups"]["buckets"]) < COMPOSITE_PAGE:
            break
    return {"report": report, "by": by, "k": k, "rounded_to": base, "columns": columns(report, by),
            "rows": report_rows(report, by, pages, k, base)}
