#!/usr/bin/env bash
# make_fixtures.sh: regenerates tests/fixtures/ from Hugging Face's own code (see README).
#   scripts/make_fixtures.sh [--retrain-vocab]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PY="$ROOT/.venv/bin/python"
[ -x "$PY" ] || { echo "make_fixtures: run scripts/setup.sh --fixtures first" >&2; exit 1; }
cd "$ROOT/scripts/fixtures"
if [ "${1:-}" = "--retrain-vocab" ] || [ ! -f "$ROOT/tests/fixtures/vocab/uncased/vocab.txt" ]; then
  "$PY" make_vocab.py
fi
# Each generator is deterministic given the vocabularies; order matters only where noted.
# make_edge_fixtures.py reuses the checkpoints make_pipeline_fixtures.py saves, so it runs after it.
for script in make_tokenizer_fixtures.py make_model_fixtures.py make_pipeline_fixtures.py make_edge_fixtures.py; do
  if [ -f "$script" ]; then
    echo "== $script"
    "$PY" "$script"
  fi
done
