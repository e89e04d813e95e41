"""Index definitions and the documents that go into them: plain code, no connection needed.

Each logical index is a versioned physical index (`<prefix>-requests-v1`) behind an alias
(`<prefix>-requests`), so a rebuild can fill a new version and swap the alias.
The integration-test distribution of Elasticsearch has only the standard analyzer, which
segments Persian, Arabic, Russian and English by word and Chinese by character.
"""
from elasticsearch import BadRequestError

REQUESTS_VERSION = 1
URGENCY_RANK = {"low": 0, "normal": 1, "high": 2, "critical": 3}

REQUESTS_MAPPING = {
    "dynamic": "strict",
    "properties": {
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


def requests_alias(prefix):
    return f"{prefix}-requests"


def ensure_indices(es, prefix):
    """Create the current version of each index and point its alias at it, if not there yet."""
    alias = requests_alias(prefix)
    if es.indices.exists_alias(name=alias):
        return
    try:
        es.indices.create(index=f"{alias}-v{REQUESTS_VERSION}", mappings=REQUESTS_MAPPING,
                          settings={"number_of_shards": 1, "number_of_replicas": 0},
                          aliases={alias: {"is_write_index": True}})
    except BadRequestError as exc:  # another replica created it first
        if "resource_already_exists_exception" not in str(exc):
            raise


def request_document(data):
    """The indexed form of a request event. The author is deliberately not indexed."""
    return {
        "title": data["title"],
        "body": data["body"],
        "skills": data["skills"],
        "languages": data["languages"],
        "country": data["country"],
        "urgency": data["urgency"],
        "urgency_rank": URGENCY_RANK[data["urgency"]],
        "visibility": data["visibility"],
        "status": data["status"],
        "created_at": data["created_at"].isoformat(),
    }
