"""`$in` against the real MongoDB-wire server: the same documents whether or not the server pushes it
down. On the local FerretDB the project's patch (scripts/ferretdb-in-pushdown.patch) turns an `$in`
of scalars into an OR of equalities its GIN indexes serve; these cases hold it to MongoDB's
semantics, with values of every kind a service sends, and check it is pushed down."""
import datetime

import pytest

from services.common.store import pgindex

DOCUMENTS = [
    {"_id": "a", "n": 1, "tags": ["x", "y"], "flag": True},
    {"_id": "b", "n": 2, "tags": ["y"], "flag": False},
    {"_id": "c", "n": 2.5, "tags": [], "at": datetime.datetime(2026, 12, 3, tzinfo=datetime.timezone.utc)},
    {"_id": 7, "n": 7, "tags": "x"},
    {"_id": "d", "n": None},
]


@pytest.fixture
def things(db_for, config):
    collection = db_for("inpushdown").things
    collection.insert_many(DOCUMENTS)
    collection.create_index("tags")
    collection.create_index("n")
    if config.get("FERRETDB_POSTGRESQL_URL"):
        pgindex.mirror(config["FERRETDB_POSTGRESQL_URL"], collection.database)
    return collection


@pytest.mark.parametrize("query, expected", [
    ({"_id": {"$in": ["a", "c", "zzz"]}}, {"a", "c"}),
    ({"_id": {"$in": ["a", "a", 7]}}, {"a", 7}),
    ({"_id": {"$in": []}}, set()),
    ({"tags": {"$in": ["x"]}}, {"a", 7}),  # an array field holding the value, or the value itself
    ({"n": {"$in": [2, 7]}}, {"b", 7}),
    ({"n": {"$in": [2.5]}}, {"c"}),
    ({"flag": {"$in": [True]}}, {"a"}),
    ({"at": {"$in": [datetime.datetime(2026, 12, 3, tzinfo=datetime.timezone.utc)]}}, {"c"}),
    ({"_id": {"$in": ["a", "b"]}, "n": 2}, {"b"}),  # with an equality beside it
    ({"n": {"$in": [None]}}, {"d"}),  # null: not pushed down, matched in Go as before
])
def test_in_finds_what_mongodb_finds(things, query, expected):
    assert {d["_id"] for d in things.find(query)} == expected
    assert things.count_documents(query) == len(expected)


def test_in_of_scalars_is_pushed_down(things, config):
    if not config.get("FERRETDB_POSTGRESQL_URL"):
        pytest.skip("MongoDB serves $in from its indexes; the pushdown is FerretDB's")
    explained = things.database.command("explain", {"find": "things", "filter": {"_id": {"$in": ["a", "b"]}}})
    assert explained["filterPushdown"] is True
    unpushed = things.database.command("explain", {"find": "things", "filter": {"_id": {"$in": [{"k": 1}]}}})
    assert unpushed["filterPushdown"] is False  # a document in the list: matched in Go, as before
