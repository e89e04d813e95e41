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

# KEDA's CRD schemas (ScaledObject, TriggerAuthentication), to validate deploy/k8s/autoscaling
# offline: from KEDA's own source, as Go's own client downloads the module (and checks it against
# the checksum database); its hash is pinned here too.
KEDA_MODULE=github.com/kedacore/keda/v2
KEDA_VERSION=2.16.1
KEDA_SUM="h1:LfYsxfSX8DjetLW8q9qnriImH936POrQJvE+caRoScI="
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
KEDA_CRDS="$ROOT/.local/keda-crds-$KEDA_VERSION"
if [ ! -f "$KEDA_CRDS/keda.sh_triggerauthentications.yaml" ]; then
  echo "[deploy-tools] fetching KEDA $KEDA_VERSION's CRD schemas" >&2
  download="$(cd /tmp && GOFLAGS=-mod=mod go mod download -json "$KEDA_MODULE@v$KEDA_VERSION")"
  mkdir -p "$KEDA_CRDS.tmp"
  KEDA_DOWNLOAD="$download" python3 - "$KEDA_SUM" "$KEDA_CRDS.tmp" <<'PY'
import json, os, shutil, sys
found = json.loads(os.environ["KEDA_DOWNLOAD"])
if found.get("Sum") != sys.argv[1]:
    sys.exit(f"KEDA module hash {found.get('Sum')} is not the pinned {sys.argv[1]}")
for name in ("keda.sh_scaledobjects.yaml", "keda.sh_triggerauthentications.yaml"):
    shutil.copyfile(f"{found['Dir']}/config/crd/bases/{name}", f"{sys.argv[2]}/{name}")
PY
  rm -rf "$KEDA_CRDS" && mv "$KEDA_CRDS.tmp" "$KEDA_CRDS"
fi

# The Prometheus Operator's CRD schemas (PodMonitor, PrometheusRule), to validate deploy/k8s/monitoring
# offline, fetched the same way from the operator's own module; its hash is pinned here too.
PROM_OPERATOR_MODULE=github.com/prometheus-operator/prometheus-operator
PROM_OPERATOR_VERSION=0.80.1
PROM_OPERATOR_SUM="h1:jeqy9C8ku5coMThZh/cVrB5FwJHlV98jvnSeVnQKCQw="
PROM_CRDS="$ROOT/.local/prometheus-operator-crds-$PROM_OPERATOR_VERSION"
if [ ! -f "$PROM_CRDS/monitoring.coreos.com_prometheusrules.yaml" ]; then
  echo "[deploy-tools] fetching the Prometheus Operator $PROM_OPERATOR_VERSION's CRD schemas" >&2
  download="$(cd /tmp && GOFLAGS=-mod=mod go mod download -json "$PROM_OPERATOR_MODULE@v$PROM_OPERATOR_VERSION")"
  mkdir -p "$PROM_CRDS.tmp"
  PROM_DOWNLOAD="$download" python3 - "$PROM_OPERATOR_SUM" "$PROM_CRDS.tmp" <<'PY'
import json, os, shutil, sys
found = json.loads(os.environ["PROM_DOWNLOAD"])
if found.get("Sum") != sys.argv[1]:
    sys.exit(f"Prometheus Operator module hash {found.get('Sum')} is not the pinned {sys.argv[1]}")
for name in ("monitoring.coreos.com_podmonitors.yaml", "monitoring.coreos.com_prometheusrules.yaml"):
    shutil.copyfile(f"{found['Dir']}/example/prometheus-operator-crd/{name}", f"{sys.argv[2]}/{name}")
PY
  rm -rf "$PROM_CRDS" && mv "$PROM_CRDS.tmp" "$PROM_CRDS"
fi
