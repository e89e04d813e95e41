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

# KEDA's CRD schemas (ScaledObject, TriggerAuthentication), to validate deploy/k8s/autoscaling
# offline: from KEDA's own source as the Go module proxy serves it, pinned and checked.
KEDA_VERSION=2.16.1
KEDA_ZIP_SHA256=ccb104c6e2cf35d16c9ceac520fa8d92afd9377b58ff62a668e5946eb4f18e2c
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
KEDA_CRDS="$ROOT/.local/keda-crds-$KEDA_VERSION"
if [ ! -f "$KEDA_CRDS/keda.sh_triggerauthentications.yaml" ]; then
  echo "[deploy-tools] fetching KEDA $KEDA_VERSION's CRD schemas" >&2
  zip="$(mktemp)"
  trap 'rm -f "$zip"' EXIT
  proxy="${GOPROXY:-https://proxy.golang.org}"; proxy="${proxy%%,*}"
  case "$proxy" in http*) ;; *) proxy=https://proxy.golang.org ;; esac
  curl -fsSL --retry 3 -o "$zip" "$proxy/github.com/kedacore/keda/v2/@v/v$KEDA_VERSION.zip"
  echo "$KEDA_ZIP_SHA256  $zip" | sha256sum -c --quiet -
  mkdir -p "$KEDA_CRDS.tmp"
  python3 - "$zip" "$KEDA_CRDS.tmp" "$KEDA_VERSION" <<'PY'
import sys, zipfile
archive, folder, version = sys.argv[1:]
with zipfile.ZipFile(archive) as z:
    for name in ("keda.sh_scaledobjects.yaml", "keda.sh_triggerauthentications.yaml"):
        with open(f"{folder}/{name}", "wb") as out:
            out.write(z.read(f"github.com/kedacore/keda/v2@v{version}/config/crd/bases/{name}"))
PY
  rm -rf "$KEDA_CRDS" && mv "$KEDA_CRDS.tmp" "$KEDA_CRDS"
fi
