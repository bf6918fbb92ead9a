#!/usr/bin/env bash
# run.sh: the main job. Sets up, builds, and runs edgebert's command-line tool.
# Until the demo page lands this is the CLI; arguments go to it (default: `version`).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$ROOT/scripts/setup.sh"
bash "$ROOT/scripts/build.sh" native > "$ROOT/build/native.build.log" 2>&1 || { tail -40 "$ROOT/build/native.build.log"; exit 1; }
if [ "$#" -eq 0 ]; then set -- version; fi
exec "$ROOT/build/native/edgebert" "$@"
