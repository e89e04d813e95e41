#!/usr/bin/env bash
# The web pages' catalogs: extract every string of the pages into messages.pot, then update each
# language's .po from it (new strings arrive empty; services/gateway/tests/test_catalogs.py fails
# until they are translated). `./dev` compiles them.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${ALLIES_HOME:-$ROOT/.local}/venv"
DIR="$ROOT/services/gateway/web/translations"
cd "$ROOT"
"$VENV/bin/pybabel" extract -F babel.cfg -k N_ --no-location --sort-output --project=allies \
  -o "$DIR/messages.pot" . >/dev/null 2>&1
"$VENV/bin/pybabel" update -i "$DIR/messages.pot" -d "$DIR" --no-fuzzy-matching --ignore-obsolete --width 100 \
  --ignore-pot-creation-date >/dev/null
