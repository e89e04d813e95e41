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
