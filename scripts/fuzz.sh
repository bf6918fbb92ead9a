#!/usr/bin/env bash
# fuzz.sh: builds the libFuzzer targets (scripts/build.sh fuzz), writes their seed corpora from the
# fixtures when missing (tests/fuzz/make_corpus.py), replays tests/fuzz/regressions/, then fuzzes
# each target in turn (one process at a time). Prints the executions per target; a crash, timeout,
# leak or memory blowup is written to build/fuzz/<target>/ and makes the exit code 1. Then, when the
# wasm build exists, a sample of the corpora goes through the JS API (tests/fuzz/wasm_corpus.mjs).
#
#   scripts/fuzz.sh --ci                       every target for EDGEBERT_FUZZ_SECONDS (default 50) seconds
#   scripts/fuzz.sh --long [--runs N] [--seconds S] [target...]
#                                              a long local run: N executions per target, or S seconds
#                                              (default 3600) when --runs is not given
#   scripts/fuzz.sh --replay                   only the regression inputs
# Targets: packed hf tokenizer json request (tests/fuzz/fuzz_targets.h). Needs clang with libFuzzer
# (Debian: clang, libclang-rt-14-dev); exit code 77 when they are missing.
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

mode="${1:-}"
shift || true
runs=""
seconds=""
targets=()
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs="$2"; shift 2 ;;
    --seconds) seconds="$2"; shift 2 ;;
    packed|hf|tokenizer|json|request) targets+=("$1"); shift ;;
    *) echo "fuzz.sh: unknown argument '$1'" >&2; exit 2 ;;
  esac
done
[ ${#targets[@]} -eq 0 ] && targets=(packed hf tokenizer json request)
case "$mode" in
  --ci) seconds="${EDGEBERT_FUZZ_SECONDS:-50}"; runs="" ;;
  --long) [ -z "$runs" ] && [ -z "$seconds" ] && seconds=3600 ;;
  --replay) ;;
  *) echo "usage: scripts/fuzz.sh --ci | --long [--runs N] [--seconds S] [target...] | --replay" >&2; exit 2 ;;
esac

# libFuzzer comes with clang's runtime (libclang_rt.fuzzer); without it there is nothing to run.
if ! command -v "${EDGEBERT_FUZZ_CXX:-clang++}" > /dev/null ||
   ! echo 'extern "C" int LLVMFuzzerTestOneInput(const char*, unsigned long) { return 0; }' |
     "${EDGEBERT_FUZZ_CXX:-clang++}" -x c++ -fsanitize=fuzzer -o /dev/null - 2> /dev/null; then
  echo "fuzz.sh: clang with libFuzzer is not available (apt-get install clang libclang-rt-14-dev)"
  exit 77
fi

echo "=== [fuzz] build"
if ! "$ROOT/scripts/build.sh" fuzz > "$ROOT/build/fuzz.build.log" 2>&1; then
  tail -50 "$ROOT/build/fuzz.build.log"
  echo "fuzz.sh: BUILD FAILED (full log: build/fuzz.build.log)"
  exit 1
fi
dir="$ROOT/build/fuzz"

declare -A max_len=([packed]=131072 [hf]=262144 [tokenizer]=65536 [json]=16384 [request]=8192)
declare -A dict=([packed]=json.dict [hf]=json.dict [tokenizer]=tokenizer.dict [json]=json.dict [request]=json.dict)
# Sanitizers: abort on the first report so that libFuzzer writes the input; leaks are findings.
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}:abort_on_error=1:symbolize=1"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1}:halt_on_error=1"

status=0
total_runs=0
for t in "${targets[@]}"; do
  bin="$dir/tests/fuzz/${t}_fuzzer"
  out="$dir/$t"
  regress="$ROOT/tests/fuzz/regressions/$t"
  mkdir -p "$out" "$regress"
  # Replay: every committed regression input once.
  n_reg=$(find "$regress" -type f ! -name README.md | wc -l)
  if [ "$n_reg" -gt 0 ]; then
    if ! "$bin" -runs=0 -timeout=10 -rss_limit_mb=2048 -artifact_prefix="$out/" "$regress" > "$out/replay.log" 2>&1; then
      tail -40 "$out/replay.log"
      echo "fuzz: $t: a regression input fails again (log: build/fuzz/$t/replay.log)"
      status=1
      continue
    fi
  fi
  echo "fuzz: $t: $n_reg regression inputs pass"
  [ "$mode" = --replay ] && continue

  if [ ! -d "$dir/corpus/$t" ] || [ -z "$(ls -A "$dir/corpus/$t" 2>/dev/null)" ]; then
    python3 "$ROOT/tests/fuzz/make_corpus.py" "$dir/edgebert" "$dir/corpus" > "$dir/corpus.log" 2>&1 ||
      { cat "$dir/corpus.log"; echo "fuzz.sh: make_corpus.py failed"; exit 1; }
  fi
  args=(-max_len="${max_len[$t]}" -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=2048 -dict="$ROOT/tests/fuzz/${dict[$t]}"
        -print_final_stats=1 -artifact_prefix="$out/")
  [ -n "$runs" ] && args+=(-runs="$runs")
  [ -n "$seconds" ] && args+=(-max_total_time="$seconds")
  echo "=== [fuzz] $t: $bin ${args[*]} build/fuzz/corpus/$t"
  start=$(date +%s)
  "$bin" "${args[@]}" "$dir/corpus/$t" "$regress" > "$out/fuzz.log" 2>&1
  rc=$?
  secs=$(( $(date +%s) - start ))
  execs=$(grep -oE '^stat::number_of_executed_units: [0-9]+' "$out/fuzz.log" | grep -oE '[0-9]+$' | tail -1)
  execs=${execs:-0}
  total_runs=$((total_runs + execs))
  if [ "$rc" != 0 ]; then
    grep -E 'ERROR|SUMMARY|invariant|Test unit written|==[0-9]+==' "$out/fuzz.log" | head -20
    echo "fuzz: $t: FOUND A BUG after $execs executions in ${secs}s (input and log in build/fuzz/$t/)"
    status=1
  else
    echo "fuzz: $t: $execs executions in ${secs}s, no crash (corpus: build/fuzz/corpus/$t)"
  fi
done
[ "$mode" = --replay ] || echo "fuzz: $total_runs executions in total"

# The wasm side: a sample of the corpora through the JS API (worker/index.mjs, inline), checking
# that the runtime keeps serving; when the wasm build is there (scripts/test.sh builds it first).
if [ "$mode" != --replay ] && [ -f "$ROOT/build/wasm/wasm/edgebert.wasm" ] && [ -d "$dir/corpus" ]; then
  echo "=== [fuzz] wasm-js: node tests/fuzz/wasm_corpus.mjs --sample ${EDGEBERT_FUZZ_JS_SAMPLE:-40}"
  if node "$ROOT/tests/fuzz/wasm_corpus.mjs" --sample "${EDGEBERT_FUZZ_JS_SAMPLE:-40}" > "$dir/wasm_corpus.log" 2>&1; then
    echo "fuzz: wasm-js: $(grep -oE '[0-9]+ inputs through the JS API' "$dir/wasm_corpus.log" | head -1), no crash"
  else
    tail -20 "$dir/wasm_corpus.log"
    echo "fuzz: wasm-js: FOUND A BUG (log: build/fuzz/wasm_corpus.log)"
    status=1
  fi
fi
exit $status
