"""Search parameters -> Elasticsearch query, and hits -> the public response. No I/O."""
from marshmallow import fields, validate

from services.common.schemas import (REQUEST_STATUSES, URGENCIES, Country, Language, Skill,
                                     StrictSchema)

MAX_WINDOW = 10_000  # Elasticsearch's default max_result_window
FACETS = {"skill": "skills", "country": "country", "language": "languages",
          "urgency": "urgency", "status": "status"}


class RequestSearch(StrictSchema):
    q = fields.String(load_default="", validate=validate.Length(max=200))
    skill = Skill(load_default=None)
    country = Country(load_default=None)
    language = Language(load_default=None)
    urgency = fields.String(load_default=None, validate=validate.OneOf(URGENCIES))
    status = fields.String(load_default=None, validate=validate.OneOf(REQUEST_STATUSES))
    sort = fields.String(load_default="relevance", validate=validate.OneOf(("relevance", "newest", "urgency")))
    page = fields.Integer(load_default=1, validate=validate.Range(min=1))
    size = fields.Integer(load_default=20, validate=validate.Range(min=1, max=50))


def visible_to(viewer):
    """Which visibilities a viewer may find. `private` is never in the index at all."""
    if viewer and viewer["role"] in ("volunteer", "moderator"):
        return ["public", "volunteers"]
    return ["public"]


def build_request_query(params, viewer):
    filters = [{"terms": {"visibility": visible_to(viewer)}}]
    for param, field in FACETS.items():
        if params.get(param):
            filters.append({"term": {field: params[param]}})
    must = ([{"multi_match": {"query": params["q"], "fields": ["title^2", "body"]}}]
            if params["q"] else [{"match_all": {}}])
    sort = {
        "relevance": ["_score", {"created_at": "desc"}],
        "newest": [{"created_at": "desc"}, "_score"],
        "urgency": [{"urgency_rank": "desc"}, {"created_at": "desc"}],
    }[params["sort"]]
    start = (params["page"] - 1) * params["size"]
    return {
        "query": {"bool": {"must": must, "filter": filters}},
        "sort": sort,
        "from": min(start, MAX_WINDOW - params["size"]),
        "size": params["size"],
        "track_total_hits": True,
        "highlight": {"fields": {"title": {"number_of_fragments": 0}, "body": {"fragment_size": 160}}},
        "aggs": {param: {"terms": {"field": field, "size": 50}} for param, field in FACETS.items()},
    }


def request_results(response):
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
            "status": source["status"],
            "created_at": source["created_at"],
        })
    facets = {name: {b["key"]: b["doc_count"] for b in agg["buckets"]}
              for name, agg in response.get("aggregations", {}).items()}
    return {"total": response["hits"]["total"]["value"], "items": items, "facets": facets}
