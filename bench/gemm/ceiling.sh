#!/usr/bin/env bash
# ceiling.sh: the instruction-throughput ceiling for int8 GEMMs in wasm SIMD128 on this machine (see
# ceiling.c), next to the core clock. Prints one JSON line per build. About 15 seconds.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
OUT="$ROOT/build/gemm-bench"
mkdir -p "$OUT"
gcc -O2 "$ROOT/bench/gemm/ceiling.c" -o "$OUT/ceiling_native"
NODE_PATH=/usr/share/nodejs emcc -O3 -msimd128 "$ROOT/bench/gemm/ceiling.c" --no-entry \
  -sEXPORTED_FUNCTIONS=_ceiling_run,_ceiling_checksum -sINITIAL_MEMORY=8MB -o "$OUT/ceiling.wasm"
"$OUT/ceiling_native"
node "$ROOT/bench/gemm/ceiling.mjs" "$OUT/ceiling.wasm"
