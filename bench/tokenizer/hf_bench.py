"""hf_bench.py: Hugging Face tokenizers (Rust, one thread) on the benchmark documents, as JSON.

Usage: TOKENIZERS_PARALLELISM=false RAYON_NUM_THREADS=1 python3 hf_bench.py DOCS.json TOKENIZER.json
Prints {"encode_loop": MB/s, "encode_batch": MB/s, "qa_loop": MB/s, "tokens": n}: best of 3 passes,
in process CPU time (the machine may be shared; Google Benchmark and bench_wasm.mjs count CPU
time too).
`encode` in a Python loop pays a binding call per document; encode_batch makes one call (rayon
limited to one thread by the environment).
"""
import json
import os
import sys
import time

os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("RAYON_NUM_THREADS", "1")
os.environ.setdefault("RAYON_RS_NUM_CPUS", "1")

from tokenizers import Tokenizer  # noqa: E402


def best_of(fn, n=3):
    best = float("inf")
    for _ in range(n):
        t0 = time.process_time()
        fn()
        best = min(best, time.process_time() - t0)
    return best


def main():
    docs = json.load(open(sys.argv[1], encoding="utf-8"))
    mb = sum(len(d.encode("utf-8")) for d in docs) / 1e6
    tok = Tokenizer.from_file(sys.argv[2])
    tok.no_truncation()  # a tokenizer.json may carry settings (all-MiniLM: 128, padded); measure raw
    tok.no_padding()
    tokens = sum(len(e.ids) for e in tok.encode_batch(docs))
    loop = best_of(lambda: [tok.encode(d) for d in docs])
    batch = best_of(lambda: tok.encode_batch(docs))
    qa = Tokenizer.from_file(sys.argv[2])
    qa.no_padding()
    qa.enable_truncation(max_length=384, stride=128, strategy="only_second")
    qa.enable_padding(length=384, pad_id=qa.token_to_id("[PAD]"), pad_token="[PAD]")
    question = "What is the capital of France?"
    qa_t = best_of(lambda: [qa.encode(question, d) for d in docs])
    print(json.dumps({"encode_loop": mb / loop, "encode_batch": mb / batch, "qa_loop": mb / qa_t, "tokens": tokens}))


if __name__ == "__main__":
    main()
