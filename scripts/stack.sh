#!/usr/bin/env bash
# The local backing stack without Docker: RabbitMQ, FerretDB (MongoDB wire) on a PostgreSQL cluster
# of its own, Elasticsearch, and tor serving the gateway as an onion service (scripts/onion.sh),
# installed from the registries this machine reaches and run from .local/; and what the ops teams
# see of it all (docs/operations.md): Prometheus on 127.0.0.1:19090, scraping every service's
# /metrics, RabbitMQ's own plugin, FerretDB's debug endpoint and the PostgreSQL and Elasticsearch
# exporters (Debian's), each exporter signed in as a user that may read statistics and nothing else. (FerretDB's SQLite backend scans every document for every query but `_id`; on
# PostgreSQL, with the GIN indexes the services declare, equality queries are index lookups:
# docs/performance.md.)
#
#   scripts/stack.sh install   install whatever is missing (idempotent)
#   scripts/stack.sh start     install, then start whatever is not running, and wait until healthy
#   scripts/stack.sh stop      stop what start started, by the process ids it recorded
#                              (either with server names, e.g. `stop ferretdb`: only those)
#   scripts/stack.sh status    one line per server
#   scripts/stack.sh forget    stop, then delete everything the stack keeps (all local data)
#   scripts/stack.sh env       the environment variables that point the services at this stack
#
# Everything lives under $ALLIES_HOME (default: <repo>/.local), which git ignores.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/versions.sh
source "$ROOT/scripts/versions.sh"

HOME_DIR="${ALLIES_HOME:-$ROOT/.local}"
BIN="$HOME_DIR/bin"
DATA="$HOME_DIR/data"
LOGS="$HOME_DIR/log"
RUN="$HOME_DIR/run"

AMQP_PORT="${ALLIES_AMQP_PORT:-5673}"
RABBIT_MGMT_PORT="${ALLIES_RABBIT_MGMT_PORT:-15673}"
MONGO_PORT="${ALLIES_MONGO_PORT:-27018}"
ES_PORT="${ALLIES_ES_PORT:-9201}"
# What the onion service serves: the gateway of `./dev up`.
GATEWAY_ADDRESS="${GATEWAY_ADDRESS:-127.0.0.1:8080}"
PG_PORT="${ALLIES_PG_PORT:-$((MONGO_PORT + 27000))}"
# One node name per port, so a second stack (another checkout, CI beside a dev run) can coexist.
RABBIT_NODENAME="allies-$AMQP_PORT@localhost"
ES_USER="allies-es"
PG_USER="allies-pg"
# Monitoring, on loopback: RabbitMQ's rabbitmq_prometheus plugin, FerretDB's debug handler, the
# two exporters and Prometheus itself.
RABBIT_PROM_PORT="${ALLIES_RABBIT_PROM_PORT:-15693}"
FERRETDB_DEBUG_PORT="${ALLIES_FERRETDB_DEBUG_PORT:-18088}"
PG_EXPORTER_PORT="${ALLIES_PG_EXPORTER_PORT:-19187}"
ES_EXPORTER_PORT="${ALLIES_ES_EXPORTER_PORT:-19114}"
PROMETHEUS_PORT="${ALLIES_PROMETHEUS_PORT:-19090}"

# Elasticsearch and PostgreSQL refuse root, so they run as system users of their own, which must
# pass through every parent folder of their files. A clone under a 0700 home (root's, or a new
# user's on Debian 12) does not let them, so their files then live in a folder of this checkout's
# own under /var/lib instead (`stop` leaves it; `forget` removes it with the rest).
world_traversable() { # folder: every existing folder from it up to / lets others through
  local dir="$1" mode
  while [ "$dir" != "/" ]; do
    if [ -d "$dir" ]; then
      mode="$(stat -c %a "$dir")"
      [ $((0$mode & 1)) -eq 1 ] || return 1
    fi
    dir="$(dirname "$dir")"
  done
}
if [ "$(id -u)" -ne 0 ] || world_traversable "$HOME_DIR"; then
  UNPRIV="$HOME_DIR"
else
  UNPRIV="/var/lib/allies/$(printf %s "$HOME_DIR" | sha256sum | cut -c1-16)"
fi
ES_DIR="$UNPRIV/elasticsearch-$ELASTICSEARCH_VERSION"
ES_DATA="$UNPRIV/data/elasticsearch"
ES_LOGS="$UNPRIV/log/elasticsearch"
PG_DATA="$UNPRIV/data/postgresql"
PG_PASSWORD_FILE="$DATA/postgresql.password"

log() { printf '[stack] %s\n' "$*" >&2; }
die() { printf '[stack] error: %s\n' "$*" >&2; exit 1; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else die "need root for: $*"; fi
}

# ---------------------------------------------------------------- install

install_rabbitmq() {
  if [ -x /usr/lib/rabbitmq/bin/rabbitmq-server ]; then return; fi
  log "installing rabbitmq-server from Debian"
  as_root apt-get update -qq
  # The package tries to start a system-wide broker; we run our own node instead.
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends rabbitmq-server >/dev/null
  as_root sh -c 'command -v systemctl >/dev/null && systemctl disable --now rabbitmq-server 2>/dev/null || service rabbitmq-server stop 2>/dev/null || true'
}

pg_bin() { # the newest PostgreSQL server Debian installed
  local dir
  dir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
  [ -n "$dir" ] && [ -x "$dir/initdb" ] && echo "$dir"
}

install_postgresql() {
  if pg_bin >/dev/null; then return; fi
  log "installing postgresql from Debian"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql >/dev/null
  # The package may start a system-wide cluster on 5432; we run our own, on our own port.
  as_root sh -c 'command -v systemctl >/dev/null && systemctl disable --now postgresql 2>/dev/null || service postgresql stop 2>/dev/null || true'
}

# The project's patches to FerretDB, each with its reasons in its header: store users, `$in` pushdown.
FERRETDB_PATCHES=("$ROOT/scripts/ferretdb-store-users.patch" "$ROOT/scripts/ferretdb-in-pushdown.patch")

install_ferretdb() {
  # (No `| grep -q` here: under pipefail, grep quitting early fails the pipeline by SIGPIPE.)
  # Built from source with the project's patches (see each patch's own header); a binary built
  # without these very patches is built again.
  if [ -x "$BIN/ferretdb" ] && [[ "$("$BIN/ferretdb" --version 2>/dev/null)" == *"version: $FERRETDB_VERSION"* ]] &&
    cat "${FERRETDB_PATCHES[@]}" | cmp -s - "$BIN/ferretdb.patch"; then
    return
  fi
  command -v go >/dev/null || die "Go is needed to build FerretDB"
  if ! command -v patch >/dev/null; then
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends patch >/dev/null
  fi
  log "building FerretDB $FERRETDB_VERSION with Go (a few minutes, once)"
  mkdir -p "$BIN"
  # `go install ...@version` needs the proxy's version list, which is not served here; downloading the
  # exact version and building it as its own main module honours its go.mod and go.sum just the same.
  local src
  src="$(GOFLAGS=-mod=mod go mod download -json "github.com/FerretDB/FerretDB@$FERRETDB_VERSION" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["Dir"])')"
  # The module zip lacks the generated build/version/version.txt that the binary embeds; write it.
  local work="$HOME_DIR/build/ferretdb"
  rm -rf "$work" && mkdir -p "$(dirname "$work")" && cp -r "$src" "$work" && chmod -R u+w "$work"
  echo "$FERRETDB_VERSION" >"$work/build/version/version.txt"
  local patch_file
  for patch_file in "${FERRETDB_PATCHES[@]}"; do
    patch -d "$work" -p1 --forward --quiet <"$patch_file" || die "$(basename "$patch_file") does not apply to FerretDB $FERRETDB_VERSION"
  done
  (cd "$work" && GOFLAGS=-mod=mod go build -trimpath -o "$BIN/ferretdb.tmp" ./cmd/ferretdb)
  mv "$BIN/ferretdb.tmp" "$BIN/ferretdb"
  cat "${FERRETDB_PATCHES[@]}" >"$BIN/ferretdb.patch"
  rm -rf "$work"
}

install_monitoring() {
  # Debian's Prometheus and exporters. Their packages would start system-wide copies where systemd
  # runs; the stack runs its own, on ports of its own, and never touches those.
  local missing=() package
  for package in prometheus prometheus-postgres-exporter prometheus-elasticsearch-exporter; do
    [ "$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null || true)" = "install ok installed" ] || missing+=("$package")
  done
  [ "${#missing[@]}" -eq 0 ] && return
  log "installing ${missing[*]} from Debian"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

install_elasticsearch() {
  if [ -x "$ES_DIR/bin/elasticsearch" ]; then return; fi
  command -v mvn >/dev/null || die "Maven is needed to fetch Elasticsearch"
  log "fetching Elasticsearch $ELASTICSEARCH_VERSION from Maven Central"
  local artifact="org.elasticsearch.distribution.integ-test-zip:elasticsearch:$ELASTICSEARCH_VERSION:zip"
  mvn -q -B -Dstyle.color=never dependency:copy -Dartifact="$artifact" -DoutputDirectory="$HOME_DIR/dist" -Dmdep.overWriteIfNewer=true >/dev/null
  rm -rf "$ES_DIR.tmp" && mkdir -p "$ES_DIR.tmp"
  unzip -q "$HOME_DIR/dist/elasticsearch-$ELASTICSEARCH_VERSION.zip" -d "$ES_DIR.tmp"
  mv "$ES_DIR.tmp/elasticsearch-$ELASTICSEARCH_VERSION" "$ES_DIR" && rmdir "$ES_DIR.tmp"
  rm -f "$HOME_DIR/dist/elasticsearch-$ELASTICSEARCH_VERSION.zip"
}

ensure_user() { # name: for the servers that refuse to run as root
  [ "$(id -u)" -eq 0 ] || return 0
  id "$1" >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin "$1"
}

run_as() { # user command...: as that user when we are root, as ourselves otherwise
  if [ "$(id -u)" -eq 0 ]; then exec setpriv --reuid="$1" --regid="$1" --init-groups "${@:2}"; else exec "${@:2}"; fi
}

cmd_install() {
  mkdir -p "$BIN" "$DATA" "$LOGS" "$RUN"
  mkdir -p "$UNPRIV" && chmod 755 "$UNPRIV"
  install_rabbitmq
  install_postgresql
  install_ferretdb
  install_elasticsearch
  install_monitoring
  "$ROOT/scripts/onion.sh" install
  ensure_user "$ES_USER"
  ensure_user "$PG_USER"
}

# ---------------------------------------------------------------- start / stop

pid_alive() { [ -f "$RUN/$1.pid" ] && kill -0 "$(cat "$RUN/$1.pid")" 2>/dev/null; }

wait_for() { # name, seconds, command...
  local name="$1" secs="$2"; shift 2
  local i
  for ((i = 0; i < secs * 2; i++)); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    pid_alive "$name" || die "$name exited while starting; see $LOGS/$name.log"
    sleep 0.5
  done
  die "$name did not become healthy in ${secs}s; see $LOGS/$name.log"
}

rabbit_env() {
  export RABBITMQ_NODENAME="$RABBIT_NODENAME"
  export RABBITMQ_NODE_IP_ADDRESS=127.0.0.1
  export RABBITMQ_NODE_PORT="$AMQP_PORT"
  export RABBITMQ_DIST_PORT=$((AMQP_PORT + 20000))
  # An epmd of our own, on a port of our own: `stop` ends it (and only it) by that port, never
  # another checkout's or the system's.
  export ERL_EPMD_PORT=$((AMQP_PORT + 30000))
  export ERL_EPMD_ADDRESS=127.0.0.1  # and on loopback only
  export RABBITMQ_MNESIA_BASE="$DATA/rabbitmq/mnesia"
  export RABBITMQ_LOG_BASE="$LOGS/rabbitmq"
  export RABBITMQ_LOGS="-"
  export RABBITMQ_CONFIG_FILE="$DATA/rabbitmq/rabbitmq"
  export RABBITMQ_ENABLED_PLUGINS_FILE="$DATA/rabbitmq/enabled_plugins"
  export RABBITMQ_PID_FILE="$RUN/rabbitmq.beam.pid"
  # The Erlang cookie lives in $HOME; keep ours apart from any system broker's.
  export HOME="$DATA/rabbitmq"
}

start_rabbitmq() {
  if pid_alive rabbitmq; then return; fi
  mkdir -p "$DATA/rabbitmq" "$LOGS/rabbitmq"
  cat >"$DATA/rabbitmq/rabbitmq.conf" <<EOF
listeners.tcp.default = 127.0.0.1:$AMQP_PORT
management.tcp.ip = 127.0.0.1
management.tcp.port = $RABBIT_MGMT_PORT
prometheus.tcp.ip = 127.0.0.1
prometheus.tcp.port = $RABBIT_PROM_PORT
EOF
  # rabbitmq_prometheus answers without signing in: it listens on loopback only here, and in
  # Kubernetes only Prometheus may reach its port (deploy/k8s/networkpolicy.yaml).
  echo '[rabbitmq_management,rabbitmq_prometheus].' >"$DATA/rabbitmq/enabled_plugins"
  log "starting RabbitMQ on 127.0.0.1:$AMQP_PORT (management :$RABBIT_MGMT_PORT)"
  (rabbit_env; exec setsid /usr/lib/rabbitmq/bin/rabbitmq-server >"$LOGS/rabbitmq.log" 2>&1) &
  echo $! >"$RUN/rabbitmq.pid"
  wait_for rabbitmq 90 curl -fsS -u guest:guest "http://127.0.0.1:$RABBIT_MGMT_PORT/api/overview"
}

pg_password() {
  [ -s "$PG_PASSWORD_FILE" ] || (umask 077 && head -c 24 /dev/urandom | base64 | tr -d '/+=' >"$PG_PASSWORD_FILE")
  cat "$PG_PASSWORD_FILE"
}

pg_psql() { # sql [-d database]: as the cluster's owner, over TCP (in `postgres` unless told)
  local database=postgres
  [ "${2:-}" != "-d" ] || database="$3"
  PGPASSWORD="$(pg_password)" "$(pg_bin)/psql" -h 127.0.0.1 -p "$PG_PORT" -U ferretdb -d "$database" -v ON_ERROR_STOP=1 -Atqc "$1"
}

pg_owner() { pg_password | sha256sum | cut -d' ' -f1; }

init_postgresql() { # a cluster of the project's own, if there is none
  local bin; bin="$(pg_bin)"
  if [ ! -s "$PG_DATA/PG_VERSION" ]; then
    log "creating a PostgreSQL cluster in $PG_DATA"
    rm -rf "$PG_DATA" && mkdir -p "$PG_DATA" && chmod 700 "$PG_DATA"
    local pwfile="$PG_DATA.pw"
    (umask 077 && pg_password >"$pwfile")
    [ "$(id -u)" -ne 0 ] || chown "$PG_USER" "$PG_DATA" "$pwfile"
    # FerretDB wants UTF8 with a C-like collation. One role, the project's, with a password.
    (run_as "$PG_USER" "$bin/initdb" -D "$PG_DATA" -U ferretdb --pwfile="$pwfile" --auth=scram-sha-256 \
      --encoding=UTF8 --locale=C.UTF-8) >"$LOGS/postgresql-initdb.log" 2>&1 ||
      { rm -f "$pwfile"; die "initdb failed; see $LOGS/postgresql-initdb.log"; }
    rm -f "$pwfile"
    cat >>"$PG_DATA/postgresql.conf" <<EOF

# The project's own settings (scripts/stack.sh).
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = ''
# FerretDB sends equality as the prepared "_jsonb -> \$1 @> \$2": only a plan made with the actual
# field name can use the GIN expression indexes the services declare; a generic plan scans.
plan_cache_mode = force_custom_plan
# As MongoDB's default write concern (w:1, journal flushed every 100 ms): a crashed process loses
# nothing, a power cut may lose the last fraction of a second.
synchronous_commit = off
shared_buffers = 256MB
max_connections = 300
EOF
  fi
}

launch_postgresql() {
  local bin; bin="$(pg_bin)"
  log "starting PostgreSQL on 127.0.0.1:$PG_PORT ($PG_DATA)"
  setsid bash -c "$(declare -f run_as); run_as \"\$@\"" _ "$PG_USER" "$bin/postgres" -D "$PG_DATA" >"$LOGS/postgresql.log" 2>&1 &
  echo $! >"$RUN/postgresql.pid"
}

pg_answers() { # seconds: true once the cluster answers with our password
  local i
  for ((i = 0; i < $1 * 2; i++)); do
    pg_psql 'select 1' >/dev/null 2>&1 && return 0
    pid_alive postgresql || return 1
    grep -q "password authentication failed" "$LOGS/postgresql.log" && return 1
    sleep 0.5
  done
  return 1
}

start_postgresql() {
  if pid_alive postgresql; then ensure_store_users; return; fi
  pg_bin >/dev/null || die "PostgreSQL is not installed"
  # A cluster outside .local (a clone under a 0700 home) can outlive a deleted .local; its password
  # went with .local, and its data is what deleting .local meant to forget. The cluster records a
  # hash of the password it was made with ($PG_DATA.owner; older ones are tried instead).
  local owner="$PG_DATA.owner"
  if [ -s "$PG_DATA/PG_VERSION" ] && [ -s "$owner" ] && [ "$(cat "$owner")" != "$(pg_owner)" ]; then
    log "forgetting the PostgreSQL cluster of a deleted .local in $PG_DATA"
    rm -rf "$PG_DATA"
  fi
  init_postgresql
  launch_postgresql
  if [ ! -s "$owner" ] && ! pg_answers 60 && grep -q "password authentication failed" "$LOGS/postgresql.log"; then
    log "forgetting the PostgreSQL cluster of a deleted .local in $PG_DATA"
    stop_one postgresql
    rm -rf "$PG_DATA"
    init_postgresql
    launch_postgresql
  fi
  wait_for postgresql 60 pg_psql 'select 1'
  pg_owner >"$owner"
  [ "$(pg_psql "select count(*) from pg_database where datname = 'ferretdb'")" = 1 ] ||
    pg_psql 'create database ferretdb'
  ensure_store_users
}

pg_url() { echo "postgres://ferretdb:$(pg_password)@127.0.0.1:$PG_PORT/ferretdb"; }

# ---------------------------------------------------------------- store users
# One PostgreSQL role per service that has a database, as deploy/k8s has one MongoDB user per
# service: through FerretDB a service acts as its role, which owns its own schemas (= databases,
# `<DB_PREFIX>_<service>`) and nothing else; it may create only schemas named for its service (an
# event trigger refuses the rest, so no service can take another's name first). The cluster's
# owner, `ferretdb`, is for FerretDB's own metadata and for the operator's tools and the tests.
# FerretDB (patched, scripts/ferretdb-store-users.patch) refuses a client that does not sign in.
STORE_USERS=(profiles requests matching notify search campaigns)

secret_of() { # store user: that user's password, made once
  local folder="$DATA/store-users/$1" file="$DATA/store-users/$1/$2.password"
  [ -s "$file" ] || (mkdir -p "$folder" && chmod 700 "$DATA/store-users" "$folder" &&
    umask 077 && head -c 24 /dev/urandom | base64 | tr -d '/+=' >"$file")
  cat "$file"
}

store_password() { secret_of ferretdb "$1"; } # service: its PostgreSQL role's password

ensure_store_users() {
  local service role
  pg_psql "$(cat <<'SQL'
CREATE OR REPLACE FUNCTION allies_own_schemas_only() RETURNS event_trigger LANGUAGE plpgsql AS $fn$
DECLARE
  created record;
  service text;
BEGIN
  IF current_user NOT LIKE 'allies\_%' THEN
    RETURN;  -- the owner: FerretDB's own work, the operator's tools, the tests
  END IF;
  service := substr(current_user, length('allies_') + 1);
  FOR created IN SELECT object_identity FROM pg_event_trigger_ddl_commands() WHERE command_tag = 'CREATE SCHEMA' LOOP
    IF right(created.object_identity, length(service) + 1) <> '_' || service THEN
      RAISE EXCEPTION 'the store user of % may create only its own databases (*_%), not %',
        service, service, created.object_identity USING ERRCODE = 'insufficient_privilege';
    END IF;
  END LOOP;
END
$fn$;
SQL
)" -d ferretdb
  [ "$(pg_psql "select count(*) from pg_event_trigger where evtname = 'allies_own_schemas_only'" -d ferretdb)" = 1 ] ||
    pg_psql "CREATE EVENT TRIGGER allies_own_schemas_only ON ddl_command_end WHEN TAG IN ('CREATE SCHEMA')
             EXECUTE FUNCTION allies_own_schemas_only()" -d ferretdb
  for service in "${STORE_USERS[@]}"; do
    role="allies_$service"
    [ "$(pg_psql "select count(*) from pg_roles where rolname = '$role'")" = 1 ] || pg_psql "CREATE ROLE $role"
    pg_psql "ALTER ROLE $role WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION PASSWORD '$(store_password "$service")'"
    pg_psql "GRANT CONNECT, CREATE ON DATABASE ferretdb TO $role"
  done
}

start_ferretdb() {
  if pid_alive ferretdb; then return; fi
  mkdir -p "$DATA/ferretdb"
  if compgen -G "$DATA/ferretdb/*.sqlite" >/dev/null; then
    log "note: $DATA/ferretdb holds data of the old SQLite backend, which is no longer read;"
    log "      delete those *.sqlite files to start afresh (README: set-up)"
  fi
  log "starting FerretDB on 127.0.0.1:$MONGO_PORT (PostgreSQL on :$PG_PORT)"
  setsid "$BIN/ferretdb" --handler=postgresql --postgresql-url="$(pg_url)" \
    --listen-addr="127.0.0.1:$MONGO_PORT" --telemetry=disable --debug-addr="127.0.0.1:$FERRETDB_DEBUG_PORT" \
    --state-dir="$DATA/ferretdb" --log-level=WARN >"$LOGS/ferretdb.log" 2>&1 &
  echo $! >"$RUN/ferretdb.pid"
  wait_for ferretdb 30 bash -c "exec 3<>/dev/tcp/127.0.0.1/$MONGO_PORT"
}

start_elasticsearch() {
  if pid_alive elasticsearch; then return; fi
  mkdir -p "$ES_DATA" "$ES_LOGS"
  cat >"$ES_DIR/config/elasticsearch.yml" <<EOF
cluster.name: allies-local
node.name: local
path.data: $ES_DATA
path.logs: $ES_LOGS
network.host: 127.0.0.1
http.port: $ES_PORT
transport.port: $((ES_PORT + 100))
discovery.type: single-node
# Users and roles (ensure_es_users): only the search service and the operator's tools sign in;
# nothing answers anyone else. Plain HTTP on loopback here; deploy/k8s adds TLS.
xpack.security.enabled: true
xpack.security.http.ssl.enabled: false
xpack.security.transport.ssl.enabled: false
xpack.security.authc.realms.file.local.order: 0
xpack.security.authc.realms.native.native.enabled: false
action.destructive_requires_name: false
# A laptop or CI disk is often fuller than a server's; do not go read-only at 90%.
cluster.routing.allocation.disk.threshold_enabled: false
EOF
  ensure_es_users
  [ "$(id -u)" -ne 0 ] || chown -R "$ES_USER" "$ES_DIR" "$ES_DATA" "$ES_LOGS"
  log "starting Elasticsearch $ELASTICSEARCH_VERSION on 127.0.0.1:$ES_PORT"
  ES_JAVA_HOME="$(es_java_home)" \
    ES_JAVA_OPTS="${ES_JAVA_OPTS:--Xms512m -Xmx512m}" \
    setsid bash -c "$(declare -f run_as); run_as \"\$@\"" _ "$ES_USER" "$ES_DIR/bin/elasticsearch" >"$LOGS/elasticsearch.log" 2>&1 &
  echo $! >"$RUN/elasticsearch.pid"
  wait_for elasticsearch 180 curl -fsS -u "$ES_ADMIN:$(secret_of elasticsearch "$ES_ADMIN")" \
    "http://127.0.0.1:$ES_PORT/_cluster/health?wait_for_status=yellow&timeout=1s"
}

es_java_home() { echo "${ES_JAVA_HOME:-$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")}"; }

# The onion service's keys are its address: they live in $DATA/tor/onion and outlast restarts.
start_tor() {
  if pid_alive tor; then return; fi
  log "starting tor: the gateway ($GATEWAY_ADDRESS) as an onion service"
  setsid "$ROOT/scripts/onion.sh" run "$DATA/tor" "$GATEWAY_ADDRESS" >"$LOGS/tor.log" 2>&1 &
  echo $! >"$RUN/tor.pid"
  # tor writes the address from its keys at once; no Tor network is needed for that.
  wait_for tor 60 test -s "$DATA/tor/onion/hostname"
}

onion_address() { "$ROOT/scripts/onion.sh" address "$DATA/tor"; }

# Elasticsearch's users (its file realm): the search service's, which may do anything to indices
# but nothing to the cluster's security, and the operator's (tools, tests). deploy/k8s makes the
# same two, the search service's limited to the deployment's index prefix.
ES_ADMIN=allies_admin
ES_SEARCH=allies_search
ES_MONITOR=allies_monitor

ensure_es_users() {
  cat >"$ES_DIR/config/roles.yml" <<EOF
# Written by scripts/stack.sh.
$ES_SEARCH:
  cluster: [monitor, manage_index_templates]
  indices:
    - names: ["*"]
      privileges: [all]
# The exporter's: statistics of the cluster and its indices, no document, no setting to change.
$ES_MONITOR:
  cluster: [monitor]
  indices:
    - names: ["*"]
      privileges: [monitor]
EOF
  # The users file outlives a deleted .local when Elasticsearch lives under /var/lib (a clone under a
  # 0700 home): a user is made again whenever its password is not the one it was made with (a
  # hash of it is kept beside the file).
  local user role password marker
  for user in "$ES_ADMIN" "$ES_SEARCH" "$ES_MONITOR"; do
    case "$user" in "$ES_ADMIN") role=superuser ;; *) role="$user" ;; esac
    password="$(secret_of elasticsearch "$user")"
    marker="$ES_DIR/config/allies-$user.sha256"
    if ! grep -qs "^$user:" "$ES_DIR/config/users" || [ "$(cat "$marker" 2>/dev/null)" != "$(printf %s "$password" | sha256sum)" ]; then
      if grep -qs "^$user:" "$ES_DIR/config/users"; then
        ES_JAVA_HOME="$(es_java_home)" "$ES_DIR/bin/elasticsearch-users" userdel "$user" >/dev/null
      fi
      ES_JAVA_HOME="$(es_java_home)" "$ES_DIR/bin/elasticsearch-users" useradd "$user" -p "$password" -r "$role" >/dev/null
      printf %s "$password" | sha256sum >"$marker"
    fi
  done
}

# ---------------------------------------------------------------- monitoring
# PostgreSQL's statistics reader: pg_monitor (the statistics views and settings), no table, no schema.
PG_MONITOR=allies_monitor

ensure_pg_monitor() {
  [ "$(pg_psql "select count(*) from pg_roles where rolname = '$PG_MONITOR'")" = 1 ] || pg_psql "CREATE ROLE $PG_MONITOR"
  pg_psql "ALTER ROLE $PG_MONITOR WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION PASSWORD '$(secret_of postgresql "$PG_MONITOR")'"
  pg_psql "GRANT pg_monitor TO $PG_MONITOR"
}

start_pg_exporter() {
  if pid_alive pg_exporter; then return; fi
  pid_alive postgresql || start_postgresql
  ensure_pg_monitor
  log "starting the PostgreSQL exporter on 127.0.0.1:$PG_EXPORTER_PORT (as $PG_MONITOR)"
  # The password reaches the exporter in its environment, never on a command line others can read.
  DATA_SOURCE_NAME="postgresql://$PG_MONITOR:$(secret_of postgresql "$PG_MONITOR")@127.0.0.1:$PG_PORT/postgres?sslmode=disable" \
    setsid prometheus-postgres-exporter --web.listen-address="127.0.0.1:$PG_EXPORTER_PORT" \
    --log.level=warn >"$LOGS/pg_exporter.log" 2>&1 &
  echo $! >"$RUN/pg_exporter.pid"
  wait_for pg_exporter 30 bash -c "curl -fsS http://127.0.0.1:$PG_EXPORTER_PORT/metrics | grep -q '^pg_up 1'"
}

start_es_exporter() {
  if pid_alive es_exporter; then return; fi
  log "starting the Elasticsearch exporter on 127.0.0.1:$ES_EXPORTER_PORT (as $ES_MONITOR)"
  # Debian's exporter (1.5) takes its credentials in the URI only, so `ps` on this machine shows
  # them on its command line: they are the monitor user's, which reads statistics and no document.
  ES_MONITOR_URI="http://$ES_MONITOR:$(secret_of elasticsearch "$ES_MONITOR")@127.0.0.1:$ES_PORT" \
    setsid bash -c 'exec prometheus-elasticsearch-exporter --es.uri="$ES_MONITOR_URI" --es.indices \
      --web.listen-address="$0" --log.level=warn' "127.0.0.1:$ES_EXPORTER_PORT" >"$LOGS/es_exporter.log" 2>&1 &
  echo $! >"$RUN/es_exporter.pid"
  wait_for es_exporter 30 bash -c "curl -fsS http://127.0.0.1:$ES_EXPORTER_PORT/metrics | grep -q '^elasticsearch_cluster_health_up 1'"
}

prometheus_config() { # the scrape configuration, from the catalog of services (one truth)
  ALLIES_RABBIT_PROM_PORT="$RABBIT_PROM_PORT" ALLIES_FERRETDB_DEBUG_PORT="$FERRETDB_DEBUG_PORT" \
    ALLIES_PG_EXPORTER_PORT="$PG_EXPORTER_PORT" ALLIES_ES_EXPORTER_PORT="$ES_EXPORTER_PORT" \
    ALLIES_PROMETHEUS_PORT="$PROMETHEUS_PORT" PYTHONPATH="$ROOT" \
    python3 -m services.common.ops.monitoring local-config "$ROOT/deploy/prometheus/alerts.yml"
}

start_prometheus() {
  if pid_alive prometheus; then return; fi
  mkdir -p "$DATA/prometheus"
  prometheus_config >"$DATA/prometheus/prometheus.yml"
  log "starting Prometheus on http://127.0.0.1:$PROMETHEUS_PORT"
  setsid prometheus --config.file="$DATA/prometheus/prometheus.yml" --storage.tsdb.path="$DATA/prometheus/tsdb" \
    --storage.tsdb.retention.time=2d --web.listen-address="127.0.0.1:$PROMETHEUS_PORT" \
    --web.enable-lifecycle --log.level=warn >"$LOGS/prometheus.log" 2>&1 &
  echo $! >"$RUN/prometheus.pid"
  wait_for prometheus 60 curl -fsS "http://127.0.0.1:$PROMETHEUS_PORT/-/ready"
}

stop_one() { # name
  local name="$1"
  pid_alive "$name" || { rm -f "$RUN/$name.pid"; return 0; }
  local pid; pid="$(cat "$RUN/$name.pid")"
  log "stopping $name (pid $pid)"
  # setsid made each server the leader of its own process group: end the whole group.
  kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
  local i
  for ((i = 0; i < 60; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
  kill -KILL -- "-$pid" 2>/dev/null || true
  rm -f "$RUN/$name.pid"
}

SERVERS=(rabbitmq postgresql ferretdb elasticsearch tor pg_exporter es_exporter prometheus)

servers() { # names...: the servers named (all of them if none), checked
  local name
  [ $# -gt 0 ] || set -- "${SERVERS[@]}"
  for name; do [[ " ${SERVERS[*]} " == *" $name "* ]] || die "no server called $name (${SERVERS[*]})"; done
  echo "$@"
}

cmd_start() { # [server...]: a fault test restarts one server at a time
  local name
  cmd_install
  for name in $(servers "$@"); do "start_$name"; done
  cmd_status
}

cmd_stop() { # [server...]
  local name
  if [ $# -gt 0 ]; then
    for name in $(servers "$@"); do stop_one "$name"; done
    return
  fi
  stop_one prometheus
  stop_one es_exporter
  stop_one pg_exporter
  stop_one tor
  stop_one elasticsearch
  stop_one ferretdb
  stop_one postgresql
  stop_one rabbitmq
  # epmd is started on demand by the Erlang VM and outlives it; it holds no data. Ours listens on
  # ERL_EPMD_PORT alone, so this asks that one to stop (another checkout's epmd, on its own
  # port, and the system's on 4369 are left alone).
  rabbit_env
  if command -v epmd >/dev/null; then epmd -port "$ERL_EPMD_PORT" -kill >/dev/null 2>&1 || true; fi
}

cmd_forget() {
  cmd_stop
  if [ "$UNPRIV" != "$HOME_DIR" ]; then
    log "deleting $UNPRIV"
    rm -rf "$UNPRIV"
  fi
  log "deleting $HOME_DIR"
  rm -rf "$HOME_DIR"
}

cmd_status() {
  local name
  for name in "${SERVERS[@]}"; do
    if pid_alive "$name"; then echo "$name: running (pid $(cat "$RUN/$name.pid"))"; else echo "$name: stopped"; fi
  done
  if pid_alive tor; then echo "onion service: http://$(onion_address)"; fi
  if pid_alive prometheus; then echo "metrics and alerts: http://127.0.0.1:$PROMETHEUS_PORT/targets"; fi
}

cmd_env() {
  # Values already in the environment win (a test pointing a command at its own vhost).
  cat <<EOF
export AMQP_URI=\${AMQP_URI:-amqp://guest:guest@127.0.0.1:$AMQP_PORT/}
export RABBIT_MGMT_URI=\${RABBIT_MGMT_URI:-http://guest:guest@127.0.0.1:$RABBIT_MGMT_PORT/}
export MONGO_URI=\${MONGO_URI:-mongodb://127.0.0.1:$MONGO_PORT/?authMechanism=PLAIN}
export MONGO_USERNAME=\${MONGO_USERNAME:-ferretdb}
export MONGO_PASSWORD=\${MONGO_PASSWORD:-$(pg_password)}
export ES_URL=\${ES_URL:-http://127.0.0.1:$ES_PORT}
export ES_USERNAME=\${ES_USERNAME:-$ES_ADMIN}
export ES_PASSWORD=\${ES_PASSWORD:-$(secret_of elasticsearch "$ES_ADMIN")}
export STORE_PASSWORD_ES_SEARCH=\${STORE_PASSWORD_ES_SEARCH:-$(secret_of elasticsearch "$ES_SEARCH")}
export FERRETDB_POSTGRESQL_URL=\${FERRETDB_POSTGRESQL_URL:-$(pg_url)}
export ONION_ADDRESS=\${ONION_ADDRESS:-$(onion_address)}
export PROMETHEUS_URL=\${PROMETHEUS_URL:-http://127.0.0.1:$PROMETHEUS_PORT}
export MONITOR_PASSWORD_PG=\${MONITOR_PASSWORD_PG:-$(secret_of postgresql "$PG_MONITOR")}
export MONITOR_PASSWORD_ES=\${MONITOR_PASSWORD_ES:-$(secret_of elasticsearch "$ES_MONITOR")}
EOF
  # Each service's own store user (MONGO_USERNAME allies_<service>), for what starts the services
  # (`./dev up`, the tests' platform), which gives each only its own.
  local service
  for service in "${STORE_USERS[@]}"; do
    echo "export STORE_PASSWORD_${service^^}=\${STORE_PASSWORD_${service^^}:-$(store_password "$service")}"
  done
}

case "${1:-}" in
  install) cmd_install ;;
  start) shift; cmd_start "$@" ;;
  stop) shift; cmd_stop "$@" ;;
  status) cmd_status ;;
  forget) cmd_forget ;;
  env) cmd_env ;;
  *) echo "usage: $0 install|start|stop|status|env|forget" >&2; exit 2 ;;
esac
