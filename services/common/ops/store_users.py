"""One store user per service, allowed its own database and nothing else.

Without this every service connects to MongoDB (and Elasticsearch) with the same rights, and a
compromised pod can write another service's database: a session in profiles' `sessions`, and with
it the API as any activist. With it:

- deploy/k8s: MongoDB runs with authentication; the Job in mongodb.yaml makes one user per service
  with `readWrite` on that service's database only; each workload's Secret holds its own password.
- locally (scripts/stack.sh): FerretDB passes a client's user and password to PostgreSQL, so each
  service is a PostgreSQL role, `allies_<service>`, owning its own schemas (its databases) and
  nothing else, and allowed to create only schemas named for it; FerretDB is patched to refuse a
  client that does not sign in (scripts/ferretdb-store-users.patch). The cluster's owner is for
  FerretDB itself, the operator's tools and the tests.

What starts the services locally (`./dev up`, the tests' platform) gives each only its own user:
`service_env`. docs/security.md, "Store users".
"""
import base64
import os
import secrets
import sys
from urllib.parse import urlsplit

from services.common import catalog

# The services that have a database (the gateway has none).
SERVICES = catalog.BACKEND
ROLE_PREFIX = "allies_"
# The secrets of the local stack that no service process is given: the owners'.
OWNER_KEYS = ("MONGO_PASSWORD", "ES_PASSWORD")
# Elasticsearch: only search has a user (scripts/stack.sh, ensure_es_users).
ES_SERVICE = "search"
ES_PASSWORD_KEY = "STORE_PASSWORD_ES_SEARCH"


# What a deployment generates (services/common/ops/secrets.py), by where it goes:
# - MONGO_PASSWORD_<SERVICE>: the service's MongoDB user; its workload holds it as MONGO_PASSWORD,
#   the MongoDB Job (deploy/k8s) or init script (compose) that makes the users holds them all;
# - MONGO_ROOT_PASSWORD: MongoDB's administrator, for those and the operator only;
# - MONGO_KEYFILE: the replica set's members' shared key (deploy/k8s; compose runs one member);
# - ES_PASSWORD_SEARCH: the search service's Elasticsearch user (its workload's ES_PASSWORD);
# - ELASTIC_PASSWORD: Elasticsearch's built-in superuser, for the Job that makes the search user.
MONGO_PASSWORDS = tuple(f"MONGO_PASSWORD_{service.upper()}" for service in SERVICES)
DEPLOYMENT_KEYS = MONGO_PASSWORDS + ("MONGO_ROOT_PASSWORD", "MONGO_KEYFILE", "ES_PASSWORD_SEARCH", "ELASTIC_PASSWORD")
# Held by the stores and their set-up jobs, never by a service.
STORE_ONLY = ("MONGO_ROOT_PASSWORD", "MONGO_KEYFILE", "ELASTIC_PASSWORD")
# Carried to a workload under the name the service reads.
CARRIED_AS = dict({key: ("MONGO_PASSWORD", service) for key, service in zip(MONGO_PASSWORDS, SERVICES)},
                  ES_PASSWORD_SEARCH=("ES_PASSWORD", ES_SERVICE))


def new_passwords():
    """Fresh values of DEPLOYMENT_KEYS (URL-safe: they go into URIs and shell variables)."""
    values = {key: secrets.token_urlsafe(32) for key in DEPLOYMENT_KEYS}
    # mongod reads a keyfile of base64 characters, 6 to 1024 of them.
    values["MONGO_KEYFILE"] = base64.b64encode(secrets.token_bytes(512)).decode()
    return values


def role(service):
    """The local stack's PostgreSQL role (= FerretDB user) of `service`."""
    return ROLE_PREFIX + service


def password_key(service):
    return f"STORE_PASSWORD_{service.upper()}"


def without_credentials(url):
    """`url` with no user or password in it."""
    parts = urlsplit(url)
    return parts._replace(netloc=parts.netloc.rpartition("@")[2]).geturl()


def service_credentials(service, environ=None):
    """MONGO_USERNAME and MONGO_PASSWORD of one service's own store user, as the environment (where
    `scripts/stack.sh env` put every store password) holds them; none if it holds no password. For
    the benches' seeding: a database the owner created is one its service may not add to."""
    own = (os.environ if environ is None else environ).get(password_key(service), "")
    return {"MONGO_USERNAME": role(service), "MONGO_PASSWORD": own} if service in SERVICES and own else {}


def service_env(service, environ=None):
    """The environment of one service process started on the local stack: `environ` (default: this
    process's, where `scripts/stack.sh env` put every store password) with the service's own store
    user in place of the owner's, and none of the other services' passwords. A service without a
    database gets no store user at all."""
    environ = dict(os.environ if environ is None else environ)
    own = environ.get(password_key(service), "")
    own_es = environ.get(ES_PASSWORD_KEY, "") if service == ES_SERVICE else ""
    for key in OWNER_KEYS + (ES_PASSWORD_KEY,) + DEPLOYMENT_KEYS + tuple(password_key(other) for other in SERVICES):
        environ.pop(key, None)
    if service in SERVICES and own:
        environ.update(MONGO_USERNAME=role(service), MONGO_PASSWORD=own)
    else:
        environ.update(MONGO_USERNAME="", MONGO_PASSWORD="")
    if own_es:
        environ.update(ES_USERNAME=role(service), ES_PASSWORD=own_es)
    else:
        environ.update(ES_USERNAME="", ES_PASSWORD="")
    if environ.get("FERRETDB_POSTGRESQL_URL"):
        # The service reaches PostgreSQL (to index its tables) as its own role too.
        environ["FERRETDB_POSTGRESQL_URL"] = without_credentials(environ["FERRETDB_POSTGRESQL_URL"])
    return environ


def supervisor_environment(service):
    """supervisord's `environment=` line for one program of `./dev up` (KEY="value",...; `%`
    doubled, supervisord's own expansions)."""
    env = service_env(service)
    keys = ("MONGO_USERNAME", "MONGO_PASSWORD", "ES_USERNAME", "ES_PASSWORD", "FERRETDB_POSTGRESQL_URL")
    return "environment=" + ",".join(
        '%s="%s"' % (key, env.get(key, "").replace("%", "%%").replace('"', '\\"')) for key in keys)


if __name__ == "__main__":
    # `supervisor SERVICE`: the line above; `exec SERVICE COMMAND...`: run COMMAND as that service.
    usage = "usage: python -m services.common.ops.store_users supervisor SERVICE | exec SERVICE COMMAND..."
    if sys.argv[1:2] == ["supervisor"] and len(sys.argv) == 3:
        print(supervisor_environment(sys.argv[2]))
    elif sys.argv[1:2] == ["exec"] and len(sys.argv) > 3:
        os.execvpe(sys.argv[3], sys.argv[3:], service_env(sys.argv[2]))
    else:
        sys.exit(usage)
