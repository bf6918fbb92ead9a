#!/usr/bin/env bash
# run.sh: the main job: the demo page. Sets up, builds the wasm engine and the native converter,
# packs the demo models and serves the page on http://127.0.0.1:8080/web/ (see scripts/demo.sh;
# arguments go to it: --port N, --single-thread, --models-only).
# The command-line tool stays available as build/native/edgebert (version, convert).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
exec bash "$ROOT/scripts/demo.sh" "$@"
