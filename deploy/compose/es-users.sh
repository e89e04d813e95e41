#!/bin/sh
# compose.yaml's elasticsearch-users (deploy/k8s/elasticsearch.yaml's Job runs the same steps): the
# search service's role, the indices of the deployment only, and its user. The passwords go
# through a pipe (curl's --config -), never on a command line.
set -eu
es="${ES_URL:-http://elasticsearch:9200}"
auth() { printf 'user = "elastic:%s"\n' "$ELASTIC_PASSWORD"; }
until auth | curl -fsS -o /dev/null --config - "$es/_cluster/health?wait_for_status=yellow&timeout=5s"; do
  echo "waiting for the cluster"; sleep 5
done
auth | curl -fsS --config - -X PUT "$es/_security/role/allies_search" -H 'Content-Type: application/json' \
  -d "{\"cluster\": [\"monitor\"], \"indices\": [{\"names\": [\"$ES_INDEX_PREFIX-*\"], \"privileges\": [\"all\"]}]}"
{ auth; printf 'data = "{\\"password\\": \\"%s\\", \\"roles\\": [\\"allies_search\\"]}"\n' "$ES_PASSWORD_SEARCH"; } |
  curl -fsS --config - -X PUT "$es/_security/user/search" -H 'Content-Type: application/json'
echo; echo "user search: the $ES_INDEX_PREFIX-* indices only"
