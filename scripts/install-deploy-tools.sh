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
