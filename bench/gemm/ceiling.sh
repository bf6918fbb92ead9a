#!/usr/bin/env bash
# ceiling.sh: the instruction-throughput ceiling for int8 GEMMs in wasm SIMD128 on this machine (see
# ceiling.cc), next to the core clock. Prints one JSON line per build. About 15 seconds.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
OUT="$ROOT/build/gemm-bench"
mkdir -p "$OUT"
g++ -O2 "$ROOT/bench/gemm/ceiling.cc" -o "$OUT/ceiling_native"
mkdir -p "$OUT/include" && ln -sfn /usr/include/gemmlowp "$OUT/include/gemmlowp"
NODE_PATH=/usr/share/nodejs em++ -O3 -std=c++17 -msimd128 -fno-exceptions -I"$ROOT/src" -isystem "$OUT/include" "$ROOT/bench/gemm/ceiling.cc" --no-entry \
  -sEXPORTED_FUNCTIONS=_ceiling_run,_ceiling_checksum -sINITIAL_MEMORY=8MB -o "$OUT/ceiling.wasm"
"$OUT/ceiling_native"
node "$ROOT/bench/gemm/ceiling.mjs" "$OUT/ceiling.wasm"
