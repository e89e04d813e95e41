#!/usr/bin/env bash
# What the tests need beyond the services' venv, installed if missing (idempotent):
# - for tests/browser: Debian's chromium and its driver (no browser can be downloaded on these
#   machines; Selenium drives this one headless), the Noto fonts that draw Persian, Arabic and
#   Chinese, and axe-core from npm;
# - for the campaigns' letters bundle (tests/e2e/test_campaigns.py): Pango, which WeasyPrint sets
#   text with, and poppler-utils, whose pdftotext and pdftoppm read and render the PDF;
# - for tests/e2e/test_api_contract.py: Schemathesis in a venv of its own.
set -euo pipefail

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"
  elif command -v sudo >/dev/null; then sudo "$@"
  else echo "[browser] need root for: $*" >&2; exit 1
  fi
}

PACKAGES=(chromium chromium-driver fonts-noto-core fonts-noto-cjk poppler-utils libpango-1.0-0 libpangoft2-1.0-0)
missing=()
for package in "${PACKAGES[@]}"; do
  [ "$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null || true)" = "install ok installed" ] || missing+=("$package")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "[test-tools] installing ${missing[*]} from Debian" >&2
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# axe-core checks the pages' accessibility inside the browser tests; served into the page by the
# test itself (never from a CDN). Pinned; kept beside the venv.
AXE_DIR="${ALLIES_HOME:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/.local}/axe"
AXE_VERSION=4.10.2
if [ ! -f "$AXE_DIR/node_modules/axe-core/package.json" ] \
   || ! grep -q "\"version\": \"$AXE_VERSION\"" "$AXE_DIR/node_modules/axe-core/package.json"; then
  echo "[test-tools] installing axe-core $AXE_VERSION from npm" >&2
  mkdir -p "$AXE_DIR"
  (cd "$AXE_DIR" && npm install --silent --no-audit --no-fund --no-save "axe-core@$AXE_VERSION" >/dev/null)
fi

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ST_VENV="${ALLIES_HOME:-$ROOT/.local}/schemathesis"
ST_STAMP="$ST_VENV/.requirements.sha256"
want="$(sha256sum "$ROOT/requirements-schemathesis.txt" | cut -d' ' -f1)"
if [ ! -f "$ST_STAMP" ] || [ "$(cat "$ST_STAMP")" != "$want" ]; then
  echo "[test-tools] installing Schemathesis into $ST_VENV" >&2
  [ -x "$ST_VENV/bin/python" ] || python3 -m venv "$ST_VENV"
  "$ST_VENV/bin/pip" install -q --upgrade pip==24.3.1
  "$ST_VENV/bin/pip" install -q -r "$ROOT/requirements-schemathesis.txt"
  echo "$want" >"$ST_STAMP"
fi
