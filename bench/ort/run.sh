#!/usr/bin/env bash
# run.sh: the full-model comparison against onnxruntime-web (see compare.mjs). Needs the fixture
# Python environment (scripts/setup.sh --fixtures) to export the ONNX model once.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
[ -d bench/ort/node_modules ] || (cd bench/ort && npm ci --no-audit --no-fund --loglevel=error)
[ -f bench/models/distilbert-base/onnx/model_quantized.onnx ] || .venv/bin/python bench/ort/make_models.py
bash scripts/build.sh native > build/native.build.log 2>&1
bash scripts/build.sh wasm > build/wasm.build.log 2>&1
[ -f bench/models/distilbert-base/model.ebm ] || build/native/edgebert convert bench/models/distilbert-base bench/models/distilbert-base/model.ebm
node bench/ort/compare.mjs "$@"
