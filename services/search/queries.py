"""Search parameters -> Elasticsearch query, and hits -> the public response. No I/O.

Paging, two ways:
- `page` and `size`: simple, for the first pages (up to Elasticsearch's 10,000-hit window);
- `cursor`: stable deep paging. Every response carries `next_cursor` when a full page came back;
  passing it back (with the same query and sort) continues right after the last item, with
  `search_after` on the sort values of that item. Every sort ends with a unique tiebreaker (the
  request id, the volunteer's handle), so no item is skipped or repeated between pages, however
  deep, even while new documents arrive.
"""
import base64
import binascii
import json

from marshmallow import fields, validate

from services.common import detention
from services.common.errors import Unprocessable
from services.common.schemas import (REQUEST_STATUSES, URGENCIES, Country, Language, Skill,
                                     StrictSchema)

MAX_WINDOW = 10_000  # Elasticsearch's default max_result_window
REQUEST_FACETS = {"skill": "skills", "country": "country", "language": "languages",
                  "urgency": "urgency", "status": "status"}
VOLUNTEER_FACETS = {"skill": "skills", "country": "countries", "language": "languages"}

REQUEST_SORTS = {
    "relevance": ["_score", {"created_at": "desc"}, {"request_id": "asc"}],
    "newest": [{"created_at": "desc"}, {"request_id": "asc"}],
    "urgency": [{"urgency_rank": "desc"}, {"created_at": "desc"}, {"request_id": "asc"}],
}
VOLUNTEER_SORTS = {
    "relevance": ["_score", {"verified": "desc"}, {"handle": "asc"}],
    "availability": [{"availability_hours": "desc"}, {"handle": "asc"}],
}


class _Paged(StrictSchema):
    q = fields.String(load_default="", validate=validate.Length(max=200))
    page = fields.Integer(load_default=1, validate=validate.Range(min=1))
    size = fields.Integer(load_default=20, validate=validate.Range(min=1, max=50))
    cursor = fields.String(load_default=None, validate=validate.Length(max=1000))


class CampaignSearch(StrictSchema):
    q = fields.String(load_default="", validate=validate.Length(max=200))
    country = Country(load_default=None)
    prisoner_status = fields.String(load_default=None, validate=validate.Length(max=40))
    size = fields.Integer(load_default=50, validate=validate.Range(min=1, max=100))


class RequestSearch(_Paged):
    skill = Skill(load_default=None)
    country = Country(load_default=None)
    language = Language(load_default=None)
    urgency = fields.String(load_default=None, validate=validate.OneOf(URGENCIES))
    status = fields.String(load_default=None, validate=validate.OneOf(REQUEST_STATUSES))
    sort = fields.String(load_default="relevance", validate=validate.OneOf(tuple(REQUEST_SORTS)))


class VolunteerSearch(_Paged):
    skill = Skill(load_default=None)
    country = Country(load_default=None)
    language = Language(load_default=None)
    verified = fields.Boolean(load_default=None)
    sort = fields.String(load_default="relevance", validate=validate.OneOf(tuple(VOLUNTEER_SORTS)))


def visible_to(viewer):
    """Which visibilities a viewer may find. `private` is never in the index at all."""
    if viewer and (viewer["role"] == "moderator" or (viewer["role"] == "volunteer" and viewer.get("verified"))):
        return ["public", "volunteers"]
    return ["public"]


# ---- cursors

def encode_cursor(sort_name, sort_values):
    raw = json.dumps([sort_name, sort_values], separators=(",", ":"), ensure_ascii=False)
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor, sort_name, sorts):
    """The `search_after` values in `cursor`; Unprocessable (422) naming `cursor` if it is not one of
    ours or was made for another sort: any string is a cursor to the document, only ours mean a page."""
    invalid = Unprocessable("Some fields are not valid.", {"cursor": "Not a cursor from a previous page."})
    try:
        name, values = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, TypeError, binascii.Error):
        raise invalid from None
    if name not in sorts or not isinstance(values, list) or len(values) != len(sorts[name]) or any(
            not isinstance(v, (str, int, float, bool)) or v is None for v in values):
        raise invalid
    if name != sort_name:
        raise Unprocessable("Some fields are not valid.", {"cursor": "Made for another sort order."})
    return values


def _page(body, params, sorts):
    body["sort"] = sorts[params["sort"]]
    body["size"] = params["size"]
    if params.get("cursor") and params["page"] != 1:
        raise Unprocessable("Use either page or cursor, not both.", {"cursor": "Use either page or cursor, not both."})
    if params.get("cursor"):
        body["search_after"] = decode_cursor(params["cursor"], params["sort"], sorts)
    else:
        start = (params["page"] - 1) * params["size"]
        body["from"] = min(start, MAX_WINDOW - params["size"])
    return body


def _next_cursor(response, params):
    hits = response["hits"]["hits"]
    if len(hits) < params["size"] or "sort" not in hits[-1]:
        return None
    return encode_cursor(params["sort"], hits[-1]["sort"])


def _facets(response):
    return {name: {b["key_as_string"] if "key_as_string" in b else b["key"]: b["doc_count"]
                   for b in agg["buckets"]}
            for name, agg in response.get("aggregations", {}).items()}


# ---- requests

def build_request_query(params, viewer):
    filters = [{"terms": {"visibility": visible_to(viewer)}}]
    for param, field in REQUEST_FACETS.items():
        if params.get(param):
            filters.append({"term": {field: params[param]}})
    must = ([{"multi_match": {"query": params["q"], "fields": ["title^2", "body"]}}]
            if params["q"] else [{"match_all": {}}])
    body = {
        "query": {"bool": {"must": must, "filter": filters}},
        "track_total_hits": True,
        "highlight": {"fields": {"title": {"number_of_fragments": 0}, "body": {"fragment_size": 160}}},
        "aggs": {param: {"terms": {"field": field, "size": 300}} for param, field in REQUEST_FACETS.items()},
    }
    return _page(body, params, REQUEST_SORTS)


def request_results(response, params):
    items = []
    for hit in response["hits"]["hits"]:
        source = hit["_source"]
        items.append({
            "id": hit["_id"],
            "title": source["title"],
            "body": source["body"],
            "highlight": hit.get("highlight", {}),
            "skills": source["skills"],
            "languages": source["languages"],
            "country": source["country"],
            "urgency": source["urgency"],
            "visibility": source["visibility"],
            "status": source["status"],
            "created_at": source["created_at"],
        })
    return {"total": response["hits"]["total"]["value"], "items": items, "facets": _facets(response),
            "next_cursor": _next_cursor(response, params)}


# ---- campaigns

def build_campaign_query(params):
    """Listed campaigns only, best match first (the newest among equals)."""
    filters = [{"term": {"listed": True}}]
    if params.get("country"):
        filters.append({"term": {"country": params["country"]}})
    if params.get("prisoner_status"):
        filters.append({"term": {"status": params["prisoner_status"]}})
    must = ([{"multi_match": {"query": params["q"], "fields": ["title^2", "story"]}}]
            if params["q"] else [{"match_all": {}}])
    return {"query": {"bool": {"must": must, "filter": filters}}, "size": params["size"],
            "sort": ["_score", {"created_at": "desc"}, {"campaign_id": "asc"}]}


def campaign_results(response):
    items = [{"id": hit["_id"], "title": hit["_source"]["title"], "prisoner_country": hit["_source"]["country"],
              "prisoner_status": hit["_source"]["status"], "detained_on": hit["_source"]["detained_on"],
              "disputed": hit["_source"]["disputed"], "created_at": hit["_source"]["created_at"]}
             for hit in response["hits"]["hits"]]
    return {"items": [dict(item, days_detained=detention.days_detained(item)) for item in items]}


# ---- volunteers

def build_volunteer_query(params):
    filters = []
    for param, field in VOLUNTEER_FACETS.items():
        if params.get(param):
            filters.append({"term": {field: params[param]}})
    if params.get("verified") is not None:
        filters.append({"term": {"verified": params["verified"]}})
    must = ([{"multi_match": {"query": params["q"], "fields": ["handle.text^2", "bio"]}}]
            if params["q"] else [{"match_all": {}}])
    body = {
        "query": {"bool": {"must": must, "filter": filters}},
        "track_total_hits": True,
        "highlight": {"fields": {"bio": {"fragment_size": 160}, "handle.text": {"number_of_fragments": 0}}},
        "aggs": {param: {"terms": {"field": field, "size": 300}} for param, field in VOLUNTEER_FACETS.items()},
    }
    return _page(body, params, VOLUNTEER_SORTS)


def volunteer_results(response, params):
    """Public profile fields only; the profile id is not returned (the handle is the public name)."""
    items = []
    for hit in response["hits"]["hits"]:
        source = hit["_source"]
        highlight = hit.get("highlight", {})
        if "handle.text" in highlight:
            highlight["handle"] = highlight.pop("handle.text")
        items.append({key: source[key] for key in ("handle", "skills", "languages", "countries", "bio",
                                                   "verified", "availability_hours")} | {"highlight": highlight})
    return {"total": response["hits"]["total"]["value"], "items": items, "facets": _facets(response),
            "next_cursor": _next_cursor(response, params)}
