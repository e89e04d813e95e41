"""Each service's store user reaches its own database and nothing else; the stores answer no one
who does not sign in (services/common/ops/store_users.py, scripts/stack.sh, docs/security.md).

On the real local servers: FerretDB (patched: scripts/ferretdb-store-users.patch) on PostgreSQL,
where each service is a PostgreSQL role owning its own schemas, and Elasticsearch with security on.
`./dev test` exports every store user's password (scripts/stack.sh env), as the launchers need them.
"""
import os
import uuid
from urllib.parse import urlsplit

import pymongo
import pymongo.errors
import pytest
import requests

from services.common.ops import store_users
from services.common.config import load_config

CONFIG = load_config()


def client(username=None, password=None):
    uri = CONFIG["MONGO_URI"]
    if username is None:  # no user at all: the URI without its authentication mechanism either
        uri = urlsplit(uri)._replace(query="").geturl()
    return pymongo.MongoClient(uri, username=username, password=password, serverSelectionTimeoutMS=3000)


def as_service(service):
    return client(store_users.role(service), os.environ[store_users.password_key(service)])


@pytest.fixture
def prefix():
    name = f"users_{uuid.uuid4().hex[:8]}"
    yield name
    owner = client(CONFIG["MONGO_USERNAME"], CONFIG["MONGO_PASSWORD"])
    for database in owner.list_database_names():
        if database.startswith(name + "_"):
            owner.drop_database(database)
    owner.close()


def refused(action):
    with pytest.raises(pymongo.errors.OperationFailure) as refusal:
        action()
    return str(refusal.value)


def test_the_store_refuses_a_client_that_does_not_sign_in(prefix):
    profiles = as_service("profiles")
    profiles[f"{prefix}_profiles"].sessions.insert_one({"_id": "token-hash", "account_id": "activist"})

    anonymous = client()
    assert "authentication required" in refused(lambda: anonymous[f"{prefix}_profiles"].sessions.find_one())
    refused(lambda: anonymous[f"{prefix}_profiles"].sessions.insert_one({"_id": "forged"}))
    refused(lambda: anonymous.admin.command("ping"))
    wrong = client(store_users.role("profiles"), "not-the-password")
    refused(lambda: wrong[f"{prefix}_profiles"].sessions.find_one())
    assert [d["_id"] for d in profiles[f"{prefix}_profiles"].sessions.find()] == ["token-hash"]


def test_a_services_store_user_reaches_its_own_database_and_nothing_else(prefix):
    profiles, matching = as_service("profiles"), as_service("matching")
    sessions = profiles[f"{prefix}_profiles"].sessions
    sessions.insert_one({"_id": "token-hash", "account_id": "activist"})
    matching[f"{prefix}_matching"].matches.insert_one({"_id": "m1"})  # its own: fine

    # The attack of issue 20: a compromised matching pod plants a session for an activist.
    theirs = matching[f"{prefix}_profiles"]
    assert "permission denied" in refused(lambda: theirs.sessions.insert_one({"_id": "planted", "account_id": "activist"}))
    assert "permission denied" in refused(lambda: theirs.sessions.find_one())
    refused(lambda: theirs.sessions.update_one({"_id": "token-hash"}, {"$set": {"account_id": "agent"}}))
    refused(lambda: theirs.accounts.insert_one({"_id": "agent", "role": "moderator"}))  # a new collection there
    refused(lambda: matching.drop_database(f"{prefix}_profiles"))
    # Nor can it take a name first: a database named for another service, before that one exists.
    assert "may create only its own databases" in refused(
        lambda: matching[f"{prefix}_requests"].requests.insert_one({"_id": "r1"}))

    assert list(sessions.find()) == [{"_id": "token-hash", "account_id": "activist"}]
    requests_db = as_service("requests")[f"{prefix}_requests"]
    requests_db.requests.insert_one({"_id": "r1"})  # requests' own name is still free for it
    assert requests_db.requests.count_documents({}) == 1


def test_elasticsearch_answers_only_those_who_sign_in():
    url = CONFIG["ES_URL"]
    index = f"users-{uuid.uuid4().hex[:8]}"
    search = (store_users.role("search"), os.environ[store_users.ES_PASSWORD_KEY])
    owner = (CONFIG["ES_USERNAME"], CONFIG["ES_PASSWORD"])
    try:
        assert requests.put(f"{url}/{index}/_doc/1", json={"title": "x"}, auth=search, timeout=10).status_code == 201
        assert requests.get(f"{url}/{index}/_doc/1", timeout=10).status_code == 401
        assert requests.put(f"{url}/{index}/_doc/2", json={"title": "forged"}, timeout=10).status_code == 401
        assert requests.get(f"{url}/{index}/_doc/1", auth=(search[0], "wrong"), timeout=10).status_code == 401
        # The search service's user manages indices, never who may reach them.
        assert requests.get(f"{url}/_security/user", auth=search, timeout=10).status_code == 403
    finally:
        requests.delete(f"{url}/{index}", auth=owner, timeout=10)


def test_a_service_process_is_given_its_own_store_user_only():
    environ = {"MONGO_USERNAME": "ferretdb", "MONGO_PASSWORD": "owner", "ES_USERNAME": "allies_admin",
               "ES_PASSWORD": "es-owner", "STORE_PASSWORD_ES_SEARCH": "es-search",
               "FERRETDB_POSTGRESQL_URL": "postgres://ferretdb:owner@127.0.0.1:5432/ferretdb",
               **{store_users.password_key(s): f"pw-{s}" for s in store_users.SERVICES}}
    matching = store_users.service_env("matching", environ)
    assert (matching["MONGO_USERNAME"], matching["MONGO_PASSWORD"]) == ("allies_matching", "pw-matching")
    assert (matching["ES_USERNAME"], matching["ES_PASSWORD"]) == ("", "")
    assert matching["FERRETDB_POSTGRESQL_URL"] == "postgres://127.0.0.1:5432/ferretdb"
    assert not {"owner", "es-owner", "es-search", "pw-profiles", "pw-search"} & set(matching.values())
    search = store_users.service_env("search", environ)
    assert (search["ES_USERNAME"], search["ES_PASSWORD"]) == ("allies_search", "es-search")
    gateway = store_users.service_env("gateway", environ)
    assert gateway["MONGO_USERNAME"] == gateway["MONGO_PASSWORD"] == gateway["ES_PASSWORD"] == ""
    assert not any(value.startswith("pw-") for value in gateway.values())
