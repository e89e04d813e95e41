"""Rebuild an index from the owning service's data, then swap the alias. No downtime, no lost event.

    python -m services.search.rebuild requests|volunteers [--keep-old] [--page-size 500]

Steps (indices.py has the names):
1. Create the next version `<alias>-v<n+1>` and point `<alias>-rebuilding` at it. From then on
   the search service writes every event to both the live version and the new one
   (indexing.py), so nothing that happens during the rebuild is missed. A search process may go
   on believing for `indexing.NO_REBUILD_TTL_S` that no rebuild is under way, so the export
   starts only after that long.
2. Page through the owning service's export RPC (`requests.export_requests` or
   `profiles.export_profiles`, sorted by id) and bulk-load the new version. Every document
   carries its aggregate version as an external version: a newer version written by a live event
   is never overwritten by an older exported one, and the other way round. What must not be in
   the index (private, hidden, inactive) is written as a versioned delete.
3. In one atomic alias update, point `<alias>` at the new version and drop `-rebuilding`; readers
   switch from the complete old version to the complete new one. Then the old version is deleted
   (unless --keep-old).

Why no event is lost: an event's state change is stored (with the event, in the outbox) before
it is published, so an event handled before step 1 is already in the state step 2 exports; an
event handled after step 1 is written to the new version directly.

Reads the same config.yaml as the services (environment variables override it).
"""
import argparse
import logging
import sys
import time

from elasticsearch import NotFoundError
from elasticsearch.helpers import streaming_bulk
from tqdm import tqdm

from services.common.bus.events import ProfileData, RequestData

from . import indexing, indices

log = logging.getLogger(__name__)

# kind -> (service, export method, id field, indexable?, document, schema of a record)
SOURCES = {
    "requests": ("requests", "export_requests", "request_id", indices.request_indexable, indices.request_document,
                 RequestData),
    "volunteers": ("profiles", "export_profiles", "profile_id", indices.volunteer_indexable,
                   indices.volunteer_document, ProfileData),
}
MAX_PAGES = 1_000_000  # a bound on the export loop (500 per page: 500M documents)


def live_versions(es, alias):
    try:
        return sorted(es.indices.get_alias(name=alias).body)
    except NotFoundError:
        return []


def next_version(es, alias):
    existing = es.indices.get(index=f"{alias}-v*", allow_no_indices=True, ignore_unavailable=True).body
    numbers = [indices.version_of(alias, name) for name in existing]
    return max([n for n in numbers if n is not None], default=0) + 1


def start(es, alias, kind):
    """Step 1: the new version, named by the `-rebuilding` alias (consumers now dual-write)."""
    rebuilding = indices.rebuilding_alias(alias)
    if es.indices.exists_alias(name=rebuilding):
        stale = list(es.indices.get_alias(name=rebuilding).body)
        raise SystemExit(f"a rebuild of {alias} is already under way (or died) into {stale}; if none is "
                         f"running, delete that index and run again")
    new = indices.version_name(alias, next_version(es, alias))
    indices.create_version(es, alias, kind, int(new.rpartition("-v")[2]), with_alias=False)
    es.indices.update_aliases(actions=[{"add": {"index": new, "alias": rebuilding}}])
    return new


def actions(new, pages, id_field, indexable, document):
    for page in pages:
        for data in page:
            action = {"_index": new, "_id": data[id_field], "version": data["version"],
                      "version_type": "external"}
            if indexable(data):
                yield dict(action, _op_type="index", _source=document(data))
            else:
                yield dict(action, _op_type="delete")


def load(es, new, pages, id_field, indexable, document, progress=None):
    """Step 2: bulk-load; version conflicts (a newer live write got there first) are fine."""
    loaded = 0
    for ok, item in streaming_bulk(es, actions(new, pages, id_field, indexable, document), chunk_size=500,
                                   raise_on_error=False, raise_on_exception=True):
        (result,) = item.values()
        if not ok and result.get("status") not in (404, 409):
            raise RuntimeError(f"bulk load failed for {result.get('_id')}: {result.get('error')}")
        loaded += 1
        if progress is not None:
            progress.update(1)
    return loaded


def swap(es, alias, new, keep_old=False):
    """Step 3: atomically, readers and writers move to the new version; then drop the old one."""
    old = [name for name in live_versions(es, alias) if name != new]
    es.indices.refresh(index=new)
    actions_ = [{"remove": {"index": name, "alias": alias}} for name in old]
    actions_ += [{"add": {"index": new, "alias": alias, "is_write_index": True}},
                 {"remove": {"index": new, "alias": indices.rebuilding_alias(alias)}}]
    es.indices.update_aliases(actions=actions_)
    if old and not keep_old:
        es.indices.delete(index=",".join(old))
    return old


def export_pages(export, page_size, schema, id_field):
    """Pages of the owner's export, following ids (bounded), each record validated against the
    event contract: the export is shaped exactly like the events' data."""
    after_id = None
    for _ in range(MAX_PAGES):
        raw = export(after_id=after_id, limit=page_size)
        if not raw:
            return
        yield [schema.load(record) for record in raw]
        if len(raw) < page_size:
            return
        after_id = raw[-1][id_field]
    raise RuntimeError("export did not end within the page bound")


def rebuild(es, prefix, kind, export, page_size=500, keep_old=False, progress=True, after_page=None,
            notice_s=indexing.NO_REBUILD_TTL_S):
    """Rebuild `kind` from `export(after_id=, limit=)`. `after_page(n)` is called after each page
    is loaded (tests use it to deliver events mid-rebuild). Returns (new index, documents loaded)."""
    _, _, id_field, indexable, document, schema = SOURCES[kind]
    alias = indices.alias_name(prefix, kind)
    if not es.indices.exists_alias(name=alias):
        indices.ensure_indices(es, prefix)
    new = start(es, alias, kind)
    time.sleep(notice_s)  # every search process now writes to the new version too
    bar = tqdm(desc=f"rebuilding {alias} into {new}", unit="doc", disable=not progress, file=sys.stderr)
    try:
        loaded = 0
        for number, page in enumerate(export_pages(export, page_size, schema(), id_field), start=1):
            loaded += load(es, new, [page], id_field, indexable, document, bar)
            if after_page:
                after_page(number)
    except BaseException:
        # Leave the live version untouched, stop the dual-write, drop the half-built version.
        es.indices.delete(index=new, ignore_unavailable=True)
        raise
    finally:
        bar.close()
    swap(es, alias, new, keep_old)
    return new, loaded


def signed_export(method, action, keys=None):
    """`export(after_id=, limit=)` over an export RPC, each page asked for with a command signed by
    the operator's key (held in the operator's environment only: services/common/trust/keyring.py)."""
    from services.common.trust.keyring import keyring

    def export(after_id=None, limit=500):
        return method((keys or keyring()).sign_command({"action": action, "after_id": after_id, "limit": limit}))
    return export


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m services.search.rebuild", description=__doc__.split("\n")[0])
    parser.add_argument("kind", choices=sorted(SOURCES))
    parser.add_argument("--page-size", type=int, default=500)
    parser.add_argument("--keep-old", action="store_true", help="keep the previous version (for a rollback)")
    args = parser.parse_args(argv)

    from nameko.standalone.rpc import ClusterRpcProxy

    from services.common.store import elastic
    from services.common.config import load_config

    config = load_config()
    logging.basicConfig(level=logging.WARNING)
    service, method = SOURCES[args.kind][:2]
    es = elastic.connect(config)
    try:
        with ClusterRpcProxy(config, timeout=120) as cluster:
            export = signed_export(getattr(getattr(cluster, service), method), method)
            new, loaded = rebuild(es, config["ES_INDEX_PREFIX"], args.kind, export, args.page_size, args.keep_old)
    finally:
        es.close()
    print(f"{indices.alias_name(config['ES_INDEX_PREFIX'], args.kind)} -> {new} ({loaded} exported records)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
