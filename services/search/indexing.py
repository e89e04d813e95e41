"""Writing to an index behind its alias, and to the version a rebuild is filling, if any.

Every write carries the aggregate's own version as an external version, so applying the same
write twice, or an older one after a newer one, is a no-op (409, ignored). That is what makes the
dual-write during a rebuild safe: the rebuild's bulk load and the live events can reach the new
version in any order and the newest version of each document wins.

Order matters. The new version is written first, by its concrete name (resolved from the
`-rebuilding` alias), then the alias. A write to the alias is never sent to a name that might not
exist (that would auto-create a stray index), and a rebuild that swaps in between only turns the
second write into a harmless duplicate.
"""
from elasticsearch import ConflictError, NotFoundError

from . import indices


def write_targets(es, alias):
    """Concrete name of the version being rebuilt (if any), then the alias itself."""
    try:
        rebuilding = list(es.indices.get_alias(name=indices.rebuilding_alias(alias)).body)
    except NotFoundError:
        rebuilding = []
    return rebuilding + [alias]


def put(es, alias, doc_id, document, version):
    """Index `document` (or delete the document when it is None) at `version`, everywhere."""
    for target in write_targets(es, alias):
        try:
            if document is None:
                # Also leaves a tombstone at `version`, so an older event arriving late cannot
                # bring the document back (within the index's gc_deletes window).
                es.delete(index=target, id=doc_id, version=version, version_type="external")
            else:
                es.index(index=target, id=doc_id, document=document, version=version, version_type="external")
        except (ConflictError, NotFoundError):
            pass  # older or repeated (409), or deleting what is not there (404)
