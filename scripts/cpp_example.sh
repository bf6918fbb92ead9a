#!/usr/bin/env bash
# cpp_example.sh: installs the native build into build/install, builds examples/cpp against it with
# find_package(edgebert CONFIG) (as a user's project would), runs the example on fixture models
# (checkpoint directories and packed .ebm files) and checks that it prints byte for byte the JSON
# of `edgebert run ... --offset-unit byte` (the engine's own output, as the wasm ABI gives it).
# Needs build/native (scripts/build.sh native). Last line: "cpp-example: N passed, M failed".
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PREFIX="$ROOT/build/install"
OUT="$ROOT/build/example"
M="$ROOT/tests/fixtures/models"

pass=0
fail=0
die() { echo "cpp-example: $*"; echo "cpp-example: $pass passed, $((fail + 1)) failed"; exit 1; }

rm -rf "$PREFIX" "$OUT"
cmake --install "$ROOT/build/native" --prefix "$PREFIX" > "$ROOT/build/cpp-example.install.log" 2>&1 \
  || { cat "$ROOT/build/cpp-example.install.log"; die "cmake --install failed"; }
# The installed tree holds the public headers only (no internal headers, no gemmlowp).
headers=$(cd "$PREFIX/include" && find . -type f | sort | tr '\n' ' ')
[ "$headers" = "./edgebert/edgebert.h ./edgebert/util/status.h " ] || die "unexpected installed headers: $headers"
cmake -S "$ROOT/examples/cpp" -B "$OUT" -G Ninja -DCMAKE_PREFIX_PATH="$PREFIX" > "$ROOT/build/cpp-example.configure.log" 2>&1 \
  || { cat "$ROOT/build/cpp-example.configure.log"; die "configuring examples/cpp failed"; }
cmake --build "$OUT" > "$ROOT/build/cpp-example.build.log" 2>&1 \
  || { cat "$ROOT/build/cpp-example.build.log"; die "building examples/cpp failed"; }

EX="$OUT/edgebert_example"
CLI="$PREFIX/bin/edgebert"
"$CLI" convert "$M/distilbert_qa" "$OUT/qa.ebm" > /dev/null || die "edgebert convert distilbert_qa failed"
"$CLI" convert "$M/bert_mlm" "$OUT/mlm.ebm" > /dev/null || die "edgebert convert bert_mlm failed"

TEXT="Zoë met José in São Paulo 東京 🙂"
check() {  # name, example arguments..., --, CLI arguments...
  local name="$1"; shift
  local ex=() cli=()
  while [ "$1" != -- ]; do ex+=("$1"); shift; done
  shift
  cli=("$@")
  local got want
  got=$("$EX" "${ex[@]}" 2> "$OUT/stderr.log") || { echo "FAIL $name: the example failed: $(cat "$OUT/stderr.log")"; fail=$((fail + 1)); return; }
  want=$("$CLI" run "${cli[@]}") || { echo "FAIL $name: edgebert run failed"; fail=$((fail + 1)); return; }
  if [ "$got" = "$want" ]; then
    echo "ok   $name: $(head -c 100 <<< "$got")"
    pass=$((pass + 1))
  else
    echo "FAIL $name"; echo "  example: $got"; echo "  engine:  $want"
    fail=$((fail + 1))
  fi
}

check "text-classification (checkpoint dir)" text-classification "$M/distilbert_seqcls" "$TEXT" -- \
  text-classification "$M/distilbert_seqcls" "$TEXT"
check "token-classification, first, byte offsets" token-classification "$M/distilbert_tokcls_sinusoidal" "$TEXT" -- \
  token-classification "$M/distilbert_tokcls_sinusoidal" "$TEXT" --aggregation-strategy first --offset-unit byte
check "question-answering (.ebm)" question-answering "$OUT/qa.ebm" "$TEXT" "Who met José?" -- \
  question-answering "$OUT/qa.ebm" "$TEXT" --question "Who met José?" --offset-unit byte
check "sentence-embeddings" sentence-embeddings "$M/distilbert_base" "$TEXT" -- \
  feature-extraction "$M/distilbert_base" "$TEXT" --pooling mean --normalize --truncation
check "fill-mask (.ebm), two masks" fill-mask "$OUT/mlm.ebm" "the dog of [MASK] is a [MASK]." -- \
  fill-mask "$OUT/mlm.ebm" "the dog of [MASK] is a [MASK]."

# Errors come back as a Status: a missing model is NotFound, exit code 1, no crash.
if "$EX" text-classification "$OUT/missing.ebm" "x" 2> "$OUT/stderr.log"; then
  echo "FAIL missing model: the example succeeded"; fail=$((fail + 1))
elif grep -q "NotFound: .*missing.ebm: no such file" "$OUT/stderr.log"; then
  echo "ok   missing model: $(cat "$OUT/stderr.log")"; pass=$((pass + 1))
else
  echo "FAIL missing model: $(cat "$OUT/stderr.log")"; fail=$((fail + 1))
fi

# `edgebert --help` documents `run` (and exits 0).
if help=$("$CLI" --help) && grep -q "edgebert run <task> <model> <text> \[options\]" <<< "$help"; then
  echo "ok   edgebert --help lists run"; pass=$((pass + 1))
else
  echo "FAIL edgebert --help: $help"; fail=$((fail + 1))
fi

# The docs/CPP_API.md quick start prints what the document shows.
if got=$("$OUT/quickstart" "$M/distilbert_tokcls_sinusoidal" 2>&1) \
    && grep -q 'bytes \[23, 28)  "Paulo"  word "paulo"' <<< "$got" \
    && grep -q "^InvalidArgument: this model (token classification) cannot run 'question-answering'" <<< "$got"; then
  echo "ok   quickstart"; pass=$((pass + 1))
else
  echo "FAIL quickstart: $got"; fail=$((fail + 1))
fi

echo "cpp-example: $pass passed, $fail failed"
[ "$fail" = 0 ]
