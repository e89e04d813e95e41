#!/usr/bin/env bash
# What the browser tests (tests/browser) need, installed if missing (idempotent): Debian's
# chromium and its driver (no browser can be downloaded on these machines; Selenium drives this
# one headless), and the Noto fonts that draw Persian, Arabic and Chinese.
set -euo pipefail

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"
  elif command -v sudo >/dev/null; then sudo "$@"
  else echo "[browser] need root for: $*" >&2; exit 1
  fi
}

PACKAGES=(chromium chromium-driver fonts-noto-core fonts-noto-cjk)
missing=()
for package in "${PACKAGES[@]}"; do
  [ "$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null || true)" = "install ok installed" ] || missing+=("$package")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "[browser] installing ${missing[*]} from Debian" >&2
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# axe-core checks the pages' accessibility inside the browser tests; served into the page by the
# test itself (never from a CDN). Pinned; kept beside the venv.
AXE_DIR="${ALLIES_HOME:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/.local}/axe"
AXE_VERSION=4.10.2
if [ ! -f "$AXE_DIR/node_modules/axe-core/package.json" ] \
   || ! grep -q "\"version\": \"$AXE_VERSION\"" "$AXE_DIR/node_modules/axe-core/package.json"; then
  echo "[browser] installing axe-core $AXE_VERSION from npm" >&2
  mkdir -p "$AXE_DIR"
  (cd "$AXE_DIR" && npm install --silent --no-audit --no-fund --no-save "axe-core@$AXE_VERSION" >/dev/null)
fi
