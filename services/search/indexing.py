"""Writing to an index behind its alias, and to the version a rebuild is filling, if any.

Every write carries the aggregate's own version as an external version, so applying the same
write twice, or an older one after a newer one, is a no-op (409, ignored). That is what makes the
dual-write during a rebuild safe: the rebuild's bulk load and the live events can reach the new
version in any order and the newest version of each document wins.

Order matters. The new version is written first, by its concrete name (resolved from the
`-rebuilding` alias), then the alias. A write to the alias is never sent to a name that might not
exist (that would auto-create a stray index), and a rebuild that swaps in between only turns the
second write into a harmless duplicate.

Asking Elasticsearch on every write whether a rebuild is under way cost the search service a sixth
of its CPU, so the usual answer, "no", is remembered for `NO_REBUILD_TTL_S`; a rebuild waits that
long after announcing itself before it exports (rebuild.py), so whatever a process wrote to the
live version alone meanwhile was stored before the export began, and the export carries it. While
a rebuild runs, the targets are asked for on every write: a remembered concrete name could outlive
its index, and a write to it would create a stray one.
"""
import time

from elasticsearch import ConflictError, NotFoundError

from . import indices

NO_REBUILD_TTL_S = 5.0
_no_rebuild_until = {}  # alias -> time.monotonic() until which "no rebuild" holds


def write_targets(es, alias):
    """Concrete name of the version being rebuilt (if any), then the alias itself."""
    if _no_rebuild_until.get(alias, 0.0) > time.monotonic():
        return [alias]
    try:
        rebuilding = list(es.indices.get_alias(name=indices.rebuilding_alias(alias)).body)
    except NotFoundError:
        rebuilding = []
    if not rebuilding:
        _no_rebuild_until[alias] = time.monotonic() + NO_REBUILD_TTL_S
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
