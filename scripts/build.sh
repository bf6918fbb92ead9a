#!/usr/bin/env bash
# build.sh: configures (once) and builds one flavour of edgebert into build/<flavour>/.
#
#   scripts/build.sh native   Release, g++, with tests            -> build/native
#   scripts/build.sh asan     ASan + UBSan, g++, with tests       -> build/asan
#   scripts/build.sh wasm     Release, emcc, -msimd128, tests     -> build/wasm (edgebert.mjs/.wasm in build/wasm/wasm)
#   scripts/build.sh bench    Release, g++, Google Benchmark      -> build/bench
#   scripts/build.sh fuzz     clang, libFuzzer + ASan + UBSan     -> build/fuzz (<target>_fuzzer; scripts/fuzz.sh)
# Extra arguments go to CMake's configure step (they override the defaults).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
flavour="${1:-native}"
shift || true
JOBS="${EDGEBERT_JOBS:-$(nproc)}"
dir="$ROOT/build/$flavour"
mkdir -p "$ROOT/build"

case "$flavour" in
  native) args=(-DCMAKE_BUILD_TYPE=Release) ;;
  asan)   args=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DEDGEBERT_SANITIZE=ON) ;;
  wasm)   args=(-DCMAKE_BUILD_TYPE=Release) ;;
  bench)  args=(-DCMAKE_BUILD_TYPE=Release -DEDGEBERT_BUILD_TESTS=OFF -DEDGEBERT_BUILD_BENCHMARKS=ON) ;;
  fuzz)   args=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DEDGEBERT_BUILD_TESTS=OFF -DEDGEBERT_BUILD_FUZZERS=ON
                -DCMAKE_C_COMPILER="${EDGEBERT_FUZZ_CC:-clang}" -DCMAKE_CXX_COMPILER="${EDGEBERT_FUZZ_CXX:-clang++}") ;;
  *) echo "build.sh: unknown flavour '$flavour' (native | asan | wasm | bench | fuzz)" >&2; exit 2 ;;
esac

if [ ! -f "$dir/build.ninja" ]; then
  if [ "$flavour" = wasm ]; then
    # emcmake supplies Emscripten's toolchain file; the toolchain's Node is what runs the tests.
    emcmake cmake -S "$ROOT" -B "$dir" -G Ninja "${args[@]}" "$@" > "$dir.configure.log" 2>&1 \
      || { cat "$dir.configure.log"; exit 1; }
  else
    cmake -S "$ROOT" -B "$dir" -G Ninja "${args[@]}" "$@" > "$dir.configure.log" 2>&1 \
      || { cat "$dir.configure.log"; exit 1; }
  fi
fi
ninja -C "$dir" -j "$JOBS"
