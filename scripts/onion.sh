#!/usr/bin/env bash
# The gateway as a Tor onion service, for those who cannot reach it otherwise (DESIGN, "Reach when
# the web is blocked or cut"): Debian's tor, with the service's keys in a folder of the caller's.
#
#   scripts/onion.sh install             install tor from Debian if it is missing
#   scripts/onion.sh run DIR TARGET      run tor in the foreground (it becomes this process: its
#                                        pid is the caller's to stop), serving TARGET (host:port,
#                                        the gateway) as an onion service whose keys live in
#                                        DIR/onion; DIR/onion/hostname holds its address
#   scripts/onion.sh address DIR         print that address (nothing if tor has not written it yet)
#
# The keys are the address: keep DIR/onion (0700) and the address stays the same across restarts;
# lose it and people must be told a new one.
set -euo pipefail

die() { printf '[onion] error: %s\n' "$*" >&2; exit 1; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else die "need root for: $*"; fi
}

cmd_install() {
  command -v tor >/dev/null && return
  printf '[onion] installing tor from Debian\n' >&2
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends tor >/dev/null
  # The package may start a system-wide tor; ours is the project's own, with its own folder.
  as_root sh -c 'command -v systemctl >/dev/null && systemctl disable --now tor 2>/dev/null || service tor stop 2>/dev/null || true'
}

cmd_run() { # DIR TARGET
  local dir="${1:?usage: onion.sh run DIR TARGET}" target="${2:?usage: onion.sh run DIR TARGET}"
  cmd_install
  mkdir -p "$dir/onion" "$dir/data"
  chmod 700 "$dir" "$dir/onion" "$dir/data"  # tor refuses keys that others may read
  cat >"$dir/torrc" <<EOF
# Written by scripts/onion.sh: an onion service only (no SOCKS port, no relay).
DataDirectory $dir/data
HiddenServiceDir $dir/onion
HiddenServicePort 80 $target
SocksPort 0
Log notice stdout
EOF
  exec tor -f "$dir/torrc"
}

cmd_address() { # DIR
  local file="${1:?usage: onion.sh address DIR}/onion/hostname"
  if [ -s "$file" ]; then cat "$file"; fi
}

case "${1:-}" in
  install) cmd_install ;;
  run) shift; cmd_run "$@" ;;
  address) shift; cmd_address "$@" ;;
  *) sed -n '2,13p' "$0" >&2; exit 2 ;;
esac
