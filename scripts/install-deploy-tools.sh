#!/usr/bin/env bash
# Tools that tests/deploy needs beyond the Python venv, installed if missing (idempotent).
#
# docker-compose validates compose.yaml offline (`docker-compose -f compose.yaml config -q`):
# it needs no Docker engine, and Debian ships it (v1.29, which reads the Compose Specification).
# A machine with Docker's own `docker compose` plugin uses that instead (see the test).
# The Kubernetes schemas come with the kubernetes-validate package of requirements-dev.txt.
set -euo pipefail

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"
  elif command -v sudo >/dev/null; then sudo "$@"
  else echo "[deploy-tools] need root for: $*" >&2; exit 1
  fi
}

if ! command -v docker-compose >/dev/null && ! docker compose version >/dev/null 2>&1; then
  echo "[deploy-tools] installing docker-compose from Debian" >&2
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends docker-compose >/dev/null
fi

# promtool (Debian's prometheus package) checks and unit-tests the alert rules (deploy/prometheus).
if ! command -v promtool >/dev/null; then
  echo "[deploy-tools] installing prometheus (for promtool) from Debian" >&2
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >/dev/null
fi

ROOT="$(cd "$(dirname "$0")/.." && pwd)"

# fetch_crds MODULE VERSION SUM FOLDER DEST FILE...: CRD schemas from a project's own Go module,
# downloaded as Go's own client does (and checked against the checksum database), its hash pinned
# here too; FILE... copied from FOLDER of the module into DEST, once.
fetch_crds() {
  local module="$1" version="$2" sum="$3" folder="$4" dest="$5"; shift 5
  [ -f "$dest/${*: -1}" ] && return
  echo "[deploy-tools] fetching $module $version's CRD schemas" >&2
  local download
  download="$(cd /tmp && GOFLAGS=-mod=mod go mod download -json "$module@v$version")"
  mkdir -p "$dest.tmp"
  CRD_DOWNLOAD="$download" python3 - "$sum" "$folder" "$dest.tmp" "$@" <<'PY'
import json, os, shutil, sys
found = json.loads(os.environ["CRD_DOWNLOAD"])
if found.get("Sum") != sys.argv[1]:
    sys.exit(f"{found.get('Path')} module hash {found.get('Sum')} is not the pinned {sys.argv[1]}")
for name in sys.argv[4:]:
    shutil.copyfile(f"{found['Dir']}/{sys.argv[2]}/{name}", f"{sys.argv[3]}/{name}")
PY
  rm -rf "$dest" && mv "$dest.tmp" "$dest"
}

# KEDA's (ScaledObject, TriggerAuthentication), to validate deploy/k8s/autoscaling offline.
fetch_crds github.com/kedacore/keda/v2 2.16.1 "h1:LfYsxfSX8DjetLW8q9qnriImH936POrQJvE+caRoScI=" \
  config/crd/bases "$ROOT/.local/keda-crds-2.16.1" keda.sh_scaledobjects.yaml keda.sh_triggerauthentications.yaml

# The Prometheus Operator's (PodMonitor, PrometheusRule), to validate deploy/k8s/monitoring offline.
fetch_crds github.com/prometheus-operator/prometheus-operator 0.80.1 "h1:jeqy9C8ku5coMThZh/cVrB5FwJHlV98jvnSeVnQKCQw=" \
  example/prometheus-operator-crd "$ROOT/.local/prometheus-operator-crds-0.80.1" \
  monitoring.coreos.com_podmonitors.yaml monitoring.coreos.com_prometheusrules.yaml
