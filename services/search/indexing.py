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

from elasticsearch import NotFoundError

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


def operations(target, doc_id, document, version):
    """The `_bulk` operations that index `document` at `version` in `target`, or delete the
    document there when it is None."""
    meta = {"_index": target, "_id": doc_id, "version": version, "version_type": "external"}
    if document is None:
        # Also leaves a tombstone at `version`, so an older event arriving late cannot bring the
        # document back (within the index's gc_deletes window).
        return [({"delete": meta}, None)]
    return [({"index": meta}, document)]


def put(es, writer, *writes):
    """Apply `writes` [(alias, doc_id, document or None, version)] everywhere, through the bulk
    `writer` (bulk.py): as one request when no rebuild is under way (older or repeated writes
    are 409s, deleting what is not there a 404: both ignored). While one is, each write goes
    first to the version being filled, then to the alias, each only once the one before is done."""
    targets = [(write, write_targets(es, write[0])) for write in writes]
    if all(found == [write[0]] for write, found in targets):
        writer.write([op for alias, doc_id, document, version in writes
                      for op in operations(alias, doc_id, document, version)])
        return
    for (alias, doc_id, document, version), found in targets:
        for target in found:
            writer.write(operations(target, doc_id, document, version))


class SearchIndex:
    """search's indices by kind ("requests", "volunteers", "analytics", "campaigns"), each behind
    its alias: what the workflow writes to and asks. memory.py holds its twin (writes only: the
    queries themselves are Elasticsearch's, tested against it)."""

    def __init__(self, es, writer, prefix):
        self.es, self.writer, self.prefix = es, writer, prefix

    def put(self, *writes):
        """`writes`: (kind, doc_id, document or None to delete, version), applied only where
        `version` is newer than what the index holds, in one bulk request (`put` above)."""
        put(self.es, self.writer, *[(indices.alias_name(self.prefix, kind), doc_id, document, version)
                                    for kind, doc_id, document, version in writes])

    def get(self, kind, doc_id):
        """The document as indexed, or None (never indexed, or deleted)."""
        try:
            return self.es.get(index=indices.alias_name(self.prefix, kind), id=doc_id).body["_source"]
        except NotFoundError:
            return None

    def search(self, kind, body):
        return self.es.search(index=indices.alias_name(self.prefix, kind), **body).body

    def status(self):
        return self.es.cluster.health(timeout="2s")["status"]
