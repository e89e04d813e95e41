"""Index definitions and the documents that go into them: plain code, no connection needed.

Each logical index is a versioned physical index (`<prefix>-requests-v1`) behind an alias
(`<prefix>-requests`), so a rebuild can fill a new version and swap the alias
(`services/search/rebuild.py`). While a rebuild runs, a second alias (`<alias>-rebuilding`) names
the new version, and the consumers write to both (`services/search/indexing.py`).

The integration-test distribution of Elasticsearch has only the standard analyzer (no
analysis-common, no ICU), which segments Persian, Arabic, Russian and English by word (Unicode
UAX#29) and Chinese by character; phrase and multi-character Chinese queries still match because
the query is segmented the same way.

What is indexed is decided here, and only here:
- requests: public text of `public` and `volunteers` requests; never `private` or `hidden` ones,
  never the author;
- volunteers: the public profile of active volunteers only; never contact details
  (`contact_sealed`), never the profile id as a field (it is only the document id);
- analytics: one lifecycle document per request with no text and no person's id at all;
- campaigns: every campaign but a paused one, with its public text only while it is listed; no
  owner, nothing about the prisoner but the country and the status.
"""
from elasticsearch import BadRequestError

URGENCY_RANK = {"low": 0, "normal": 1, "high": 2, "critical": 3}
# One shard (the indexes are small); a replica wherever a second node can hold it: none on a
# single node (local, compose: the index stays green), one on the multi-node cluster of
# deploy/k8s, so losing a node loses no index.
REPLICAS = "0-1"
# How long a deletion's tombstone (id and version, nothing else) holds off an older write of the
# same document: Elasticsearch's default is 60 s, after which a late event of a deleted profile
# or a withdrawn request (one held in a backlog, or replayed from the dead letters) would put it
# back in the index. A day outlasts any backlog the platform is built to ride out.
GC_DELETES = "1d"
SETTINGS = {"number_of_shards": 1, "auto_expand_replicas": REPLICAS, "gc_deletes": GC_DELETES}

REQUESTS_MAPPING = {
    "dynamic": "strict",
    "properties": {
        # The request id again as a sortable keyword: the tiebreaker of deep paging
        # (`_id` is not sortable by default in Elasticsearch 8).
        "request_id": {"type": "keyword"},
        "title": {"type": "text", "analyzer": "standard"},
        "body": {"type": "text", "analyzer": "standard"},
        "skills": {"type": "keyword"},
        "languages": {"type": "keyword"},
        "country": {"type": "keyword"},
        "urgency": {"type": "keyword"},
        "urgency_rank": {"type": "byte"},
        "visibility": {"type": "keyword"},
        "status": {"type": "keyword"},
        "created_at": {"type": "date"},
    },
}

VOLUNTEERS_MAPPING = {
    "dynamic": "strict",
    "properties": {
        # The public handle, both searchable as words and exact (and the paging tiebreaker:
        # handles are unique).
        "handle": {"type": "keyword", "fields": {"text": {"type": "text", "analyzer": "standard"}}},
        "bio": {"type": "text", "analyzer": "standard"},
        "skills": {"type": "keyword"},
        "languages": {"type": "keyword"},
        "countries": {"type": "keyword"},
        "verified": {"type": "boolean"},
        "availability_hours": {"type": "integer"},
    },
}

ANALYTICS_MAPPING = {
    "dynamic": "strict",
    "properties": {
        "created_at": {"type": "date"},
        "skills": {"type": "keyword"},
        "country": {"type": "keyword"},
        "urgency": {"type": "keyword"},
        "visibility": {"type": "keyword"},
        "status": {"type": "keyword"},
        "hidden": {"type": "boolean"},
        "first_proposed_at": {"type": "date"},
        "accepted_at": {"type": "date"},
        "hours_to_first_proposal": {"type": "float"},
        "hours_to_acceptance": {"type": "float"},
    },
}

# Campaigns for prisoners of conscience: every campaign but a paused one, for the analysts'
# counts (country, status, month); the text of listed (`public`) ones only, for search by words.
CAMPAIGNS_MAPPING = {
    "dynamic": "strict",
    "properties": {
        "campaign_id": {"type": "keyword"},
        "title": {"type": "text", "analyzer": "standard"},
        "story": {"type": "text", "analyzer": "standard"},
        "listed": {"type": "boolean"},
        "country": {"type": "keyword"},
        "status": {"type": "keyword"},
        "language": {"type": "keyword"},
        "disputed": {"type": "boolean"},
        "detained_on": {"type": "date"},
        "created_at": {"type": "date"},
    },
}

# logical name -> mapping. Version 1 of each is created at start-up when its alias is missing.
MAPPINGS = {"requests": REQUESTS_MAPPING, "volunteers": VOLUNTEERS_MAPPING, "analytics": ANALYTICS_MAPPING,
            "campaigns": CAMPAIGNS_MAPPING}


def alias_name(prefix, kind):
    return f"{prefix}-{kind}"


def requests_alias(prefix):
    return alias_name(prefix, "requests")


def volunteers_alias(prefix):
    return alias_name(prefix, "volunteers")


def analytics_alias(prefix):
    return alias_name(prefix, "analytics")


def campaigns_alias(prefix):
    return alias_name(prefix, "campaigns")


def rebuilding_alias(alias):
    """Names the new version while a rebuild fills it; consumers write there too."""
    return f"{alias}-rebuilding"


def version_name(alias, version):
    return f"{alias}-v{version}"


def version_of(alias, index):
    """`<alias>-v7` -> 7; None for a name that is not a version of this alias."""
    head, _, tail = index.rpartition("-v")
    return int(tail) if head == alias and tail.isdigit() else None


def create_version(es, alias, kind, version, with_alias):
    es.indices.create(index=version_name(alias, version), mappings=MAPPINGS[kind], settings=SETTINGS,
                      aliases={alias: {"is_write_index": True}} if with_alias else None)


def ensure_indices(es, prefix):
    """Create version 1 of each index behind its alias if the alias is missing; otherwise bring
    the live version's mapping up to date (additive changes only: a field this code writes and an
    older version lacks is added; anything else needs `python -m services.search.rebuild`)."""
    for kind, mapping in MAPPINGS.items():
        alias = alias_name(prefix, kind)
        if es.indices.exists_alias(name=alias):
            es.indices.put_mapping(index=alias, properties=mapping["properties"])
            # Indexes made before these settings (number_of_replicas 0, gc_deletes 60 s) get them too.
            es.indices.put_settings(index=alias, settings={"index": {"auto_expand_replicas": REPLICAS,
                                                                     "gc_deletes": GC_DELETES}})
            continue
        try:
            create_version(es, alias, kind, 1, with_alias=True)
        except BadRequestError as exc:  # another replica created it first
            if "resource_already_exists_exception" not in str(exc):
                raise


# ---- requests

def request_indexable(data):
    """Only what anyone (or any volunteer) may read goes into the shared index."""
    return data["visibility"] != "private" and not data["hidden"]


def request_document(data):
    """The indexed form of a request event. The author is deliberately not indexed."""
    return {
        "request_id": data["request_id"],
        "title": data["title"],
        "body": data["body"],
        "skills": data["skills"],
        "languages": data["languages"],
        "country": data["country"],
        "urgency": data["urgency"],
        "urgency_rank": URGENCY_RANK[data["urgency"]],
        "visibility": data["visibility"],
        "status": data["status"],
        "created_at": _iso(data["created_at"]),
    }


# ---- volunteers

VOLUNTEER_PUBLIC_FIELDS = ("handle", "skills", "languages", "countries", "bio", "verified", "availability_hours")


def volunteer_indexable(data):
    return data["role"] == "volunteer" and data["status"] == "active"


def volunteer_document(data):
    """Public profile fields only: an explicit allow-list, so a new private field of the profile
    (like `contact_sealed`) can never reach the index by being added upstream."""
    return {key: data[key] for key in VOLUNTEER_PUBLIC_FIELDS}


# ---- campaigns

def campaign_document(data):
    """A `campaign_changed` event as indexed, or None (a paused campaign is dropped at once). The
    text only while listed; never an owner, never a detail about the prisoner but country and status."""
    if data["mode"] == "paused":
        return None
    listed = data["mode"] == "public"
    return {"campaign_id": data["campaign_id"], "title": data["title"] if listed else None,
            "story": data["story"] if listed else None, "listed": listed, "country": data["prisoner_country"],
            "status": data["prisoner_status"], "language": data["language"], "disputed": data["disputed"],
            "detained_on": data["detained_on"], "created_at": _iso(data["created_at"])}


# ---- analytics

def analytics_document(lifecycle):
    """A request's lifecycle (see analytics.py) as indexed: no text, no person's id."""
    doc = {key: lifecycle.get(key) for key in ("skills", "country", "urgency", "visibility", "status", "hidden")}
    created, proposed, accepted = (lifecycle.get(k) for k in ("created_at", "first_proposed_at", "accepted_at"))
    doc.update(created_at=_iso(created), first_proposed_at=_iso(proposed), accepted_at=_iso(accepted),
               hours_to_first_proposal=_hours(created, proposed), hours_to_acceptance=_hours(created, accepted))
    return doc


def _hours(start, end):
    if start is None or end is None:
        return None
    return max(0.0, (end - start).total_seconds() / 3600.0)


def _iso(moment):
    if moment is None:
        return None
    return moment if isinstance(moment, str) else moment.isoformat()
