"""Indexes PostgreSQL can use under FerretDB, mirrored from the ones each service declares.

Locally the MongoDB-wire server is FerretDB on PostgreSQL. FerretDB pushes a top-level equality
down as `_jsonb -> 'field' @> 'value'` (and `_jsonb #> '{a,b}' @> ...` for a dotted field), which
the btree indexes it makes for `createIndexes` cannot serve: every query, even by `_id`, would
scan the table. A GIN index on that very expression can (docs/performance.md has the figures), so
at start-up each service's database gets one on the leading field of each index it declared
through pymongo, and one on `_id` of every collection. (The later fields of a compound index serve
ranges and sorts, which FerretDB never pushes down: an index on them would only slow writes.)
Array fields work too: `["a", "b"] @> "a"` holds.

Production runs real MongoDB, where the declared indexes are all there is; there
`FERRETDB_POSTGRESQL_URL` is unset and this module does nothing.
"""
import hashlib
import logging
from urllib.parse import quote, urlsplit

log = logging.getLogger(__name__)

METADATA = "_ferretdb_database_metadata"


def fields_of(index_information):
    """The leading field of each of a collection's declared indexes, `_id` always among them."""
    return sorted({"_id"} | {spec["key"][0][0] for spec in index_information.values()})


def expression(field):
    """FerretDB's own SQL for reaching `field` in the document column."""
    parts = field.split(".")
    if len(parts) == 1:
        return "(_jsonb -> %s)" % quote_literal(field)
    return "(_jsonb #> %s)" % quote_literal("{" + ",".join(parts) + "}")


def quote_literal(text):
    return "'" + text.replace("'", "''") + "'"


def quote_ident(text):
    return '"' + text.replace('"', '""') + '"'


def index_name(table, field):
    digest = hashlib.sha1(field.encode()).hexdigest()[:10]
    return f"{table[:40]}_{digest}_gin"


def statements(schema, table, fields):
    """`CREATE INDEX` statements for a FerretDB table (idempotent)."""
    return [f"CREATE INDEX IF NOT EXISTS {quote_ident(index_name(table, field))} "
            f"ON {quote_ident(schema)}.{quote_ident(table)} USING gin ({expression(field)} jsonb_path_ops)"
            for field in fields]


def tables(connection, schema):
    """FerretDB's map of a database's collections to PostgreSQL tables."""
    rows = connection.execute(
        f"SELECT _jsonb->>'_id', _jsonb->>'table' FROM {quote_ident(schema)}.{quote_ident(METADATA)}").fetchall()
    return dict(rows)


def as_store_user(config):
    """FERRETDB_POSTGRESQL_URL signed in as the service's own store user, the PostgreSQL role that
    owns its schema (and may index its tables), when one is configured."""
    url = urlsplit(config["FERRETDB_POSTGRESQL_URL"])
    if not config.get("MONGO_USERNAME"):
        return url.geturl()
    host = url.netloc.rpartition("@")[2]
    credentials = f"{quote(config['MONGO_USERNAME'], safe='')}:{quote(config.get('MONGO_PASSWORD') or '', safe='')}"
    return url._replace(netloc=f"{credentials}@{host}").geturl()


def mirror(postgresql_url, db):
    """Give every collection of `db` the GIN indexes its declared indexes call for."""
    import psycopg  # only the local stack needs it
    from psycopg import errors

    with psycopg.connect(postgresql_url, autocommit=True) as connection:
        try:
            table_of = tables(connection, db.name)
        except errors.UndefinedTable:  # FerretDB has not created the database yet: nothing to index
            return 0
        made = 0
        for collection, table in sorted(table_of.items()):
            for statement in statements(db.name, table, fields_of(db[collection].index_information())):
                try:
                    connection.execute(statement)
                    made += 1
                except (errors.UniqueViolation, errors.DuplicateTable):
                    pass  # another replica made it at the same moment
        log.info("pgindex: %d GIN index(es) ensured in %s", made, db.name)
        return made
