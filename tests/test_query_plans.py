"""Every query the platform sent during this test run is served by an index (or by `_id`).

The services record the shape of each query they send (services/common/store/queryshapes.py: keys and
operators, never values) while the rest of the suite drives them; this test runs last (see the
root conftest.py) and explains each shape in FerretDB's PostgreSQL, on the tables and indexes the
services' own start-up creates. It fails on a full scan of a collection that grows.

FerretDB pushes down only top-level equality (`_jsonb -> 'key' @> value`); everything else is
decoded in Go, document by document. So a shape with no such key is a full scan whatever the
indexes, and one with such keys is explained with `enable_seqscan = off`: PostgreSQL then scans
only if no index can serve it (test tables are tiny, where a scan is otherwise the cheaper plan).
"""
import json
import os
import uuid

import psycopg
import pytest

from services.common.store import mongo, pgindex
from services.common.config import load_config
from services.common.store.queryshapes import shape
from services.campaigns import storage as campaigns_storage
from services.matching import store as matching_store
from services.notify import storage as notify_storage
from services.profiles import storage as profiles_storage
from services.requests import storage as requests_storage
from services.search import lifecycles

PREPARE = {"profiles": profiles_storage.prepare, "requests": requests_storage.prepare,
           "matching": matching_store.prepare, "notify": notify_storage.prepare, "search": lifecycles.prepare,
           "campaigns": campaigns_storage.prepare}

# Collections that stay small whatever the traffic, where a scan costs little and does not grow.
BOUNDED = {
    "outbox_pending": "the earlier version's outbox markers: read once at start-up, then dropped",
    "webhooks": "the few receivers moderators configure",
    "signature_intake": "signatures received and not yet counted: drained every 2 seconds, a page at a time",
    "schedule": "one document: the last period whose counts were published",
}
# Scans on purpose, on a slow timer or by an operator, never on a person's request or an event.
RARE = {
    ("profiles", "sessions", "delete", (("expires_at", "$lt"),)): "the 10-minute purge of expired sessions",
    ("profiles", "login_attempts", "delete", (("since", "$lt"),)): "the 10-minute purge of old sign-in failures",
    # The operator's rebuild of the search index reads every live record, a page at a time.
    ("profiles", "accounts", "find", (("status", "$ne"),)): "export for a rebuild: the first page",
    ("profiles", "accounts", "find", (("_id", "$gt"), ("status", "$ne"))): "export for a rebuild: next pages",
    ("requests", "requests", "find", (("deleted", "$ne"),)): "export for a rebuild: the first page",
    ("matching", "requests", "find", (("status", "eq"),)): "once per database: in_play/wants for requests stored before them",
    ("requests", "requests", "find", (("_id", "$gt"), ("deleted", "$ne"))): "export for a rebuild: next pages",
    # notify's start-up moves each preference the earlier version kept apart onto the person's
    # document, and deletes it: a collection that only shrinks, empty after the first start.
    ("notify", "preferences", "find", ()): "at start-up: preferences of the earlier version, moved",
}

# `$in` of scalars too, on FerretDB by the project's patch (scripts/ferretdb-in-pushdown.patch).
PUSHED = {"eq", "$eq", "$in"}


def recorded_shapes():
    path = os.environ.get("QUERY_SHAPES_FILE")
    if not path or not os.path.exists(path):
        return []
    with open(path) as handle:
        return [json.loads(line) for line in handle if line.strip()]


def service_of(database):
    return database.rsplit("_", 1)[-1]


def where_clause(shape):
    """FerretDB's pushed-down conditions for a shape (the value does not matter to the plan)."""
    keys = sorted({key for key, operator in shape if operator in PUSHED and not key.startswith("$")})
    return " AND ".join(f"{pgindex.expression(key)} @> '\"x\"'::jsonb" for key in keys)


def scans(plan):
    if plan.get("Node Type") == "Seq Scan":
        return True
    return any(scans(child) for child in plan.get("Plans", []))


@pytest.fixture(scope="module")
def scratch():
    """Each service's database as its start-up makes it, under a prefix of this test's own."""
    config = load_config(DB_PREFIX=f"plans_{uuid.uuid4().hex[:8]}", QUERY_SHAPES_FILE="")
    if not config.get("FERRETDB_POSTGRESQL_URL"):
        pytest.fail("FERRETDB_POSTGRESQL_URL is not set: run through ./dev test, against the local stack")
    client = mongo.connect(config)
    tables = {}
    try:
        with psycopg.connect(config["FERRETDB_POSTGRESQL_URL"], autocommit=True) as connection:
            for service, prepare in PREPARE.items():
                db = client[f"{config['DB_PREFIX']}_{service}"]
                mongo.prepare_database(db, prepare, config)
                tables[service] = (db.name, pgindex.tables(connection, db.name))
        yield config, tables
    finally:
        for name in client.list_database_names():
            if name.startswith(config["DB_PREFIX"] + "_"):
                client.drop_database(name)
        client.close()


def test_every_recorded_query_is_served_by_an_index(scratch):
    config, tables = scratch
    shapes = {(service_of(s["database"]), s["collection"], s["command"], tuple(map(tuple, s["shape"])))
              for s in recorded_shapes() if service_of(s["database"]) in PREPARE}
    assert len(shapes) >= 40, (f"only {len(shapes)} query shapes were recorded: this test checks what the rest "
                               "of the suite made the services send, so run the whole suite (./dev test)")
    problems = []
    with psycopg.connect(config["FERRETDB_POSTGRESQL_URL"], autocommit=True) as connection:
        connection.execute("SET enable_seqscan = off")
        for service, collection, command, keys in sorted(shapes):
            if collection in BOUNDED or (service, collection, command, keys) in RARE:
                continue
            what = f"{service}.{collection} {command} {dict(keys)}"
            schema, table_of = tables[service]
            if collection not in table_of:
                problems.append(f"{what}: the collection is not created (nor indexed) at start-up")
                continue
            where = where_clause(keys)
            if not where:
                problems.append(f"{what}: no top-level equality, so FerretDB decodes every document")
                continue
            sql = (f"EXPLAIN (FORMAT JSON) SELECT _jsonb FROM {pgindex.quote_ident(schema)}."
                   f"{pgindex.quote_ident(table_of[collection])} WHERE {where}")
            plan = connection.execute(sql).fetchone()[0][0]["Plan"]
            if scans(plan):
                problems.append(f"{what}: no index serves {where}")
    assert not problems, "queries that scan a growing collection:\n" + "\n".join(problems)


def test_the_rule_agrees_with_ferretdbs_own_explain(scratch):
    """What this test calls pushed down is what FerretDB pushes down."""
    config, tables = scratch
    client = mongo.connect(config)
    try:
        db = client[f"{config['DB_PREFIX']}_matching"]
        db.matches.insert_one({"_id": "m1", "request_id": "r1", "status": "proposed"})
        cases = [({"request_id": "r1"}, True), ({"request_id": {"$eq": "r1"}, "status": "proposed"}, True),
                 ({"request_id": {"$in": ["r1", "r2"]}}, True), ({"_id": {"$in": []}}, True),
                 ({"expires_at": {"$lte": 1}}, False),
                 ({"$or": [{"request_id": "r1"}]}, False), ({"taken_by": None}, False)]
        for query, pushed in cases:
            explained = db.command("explain", {"find": "matches", "filter": query})
            assert explained["filterPushdown"] is pushed, query
            assert bool(where_clause(shape(query))) is pushed, query
    finally:
        client.close()
