#!/usr/bin/env python3
"""make_corpus.py: writes the fuzzers' seed corpora from the committed fixtures into
build/fuzz/corpus/<target>/ (not committed; scripts/fuzz.sh runs this when a corpus is missing).

  packed:    every fixture model packed by the converter (build/fuzz/edgebert convert): real .ebm
             files of each head and both families, which the fuzzer then mutates
  hf:        config.json + model.safetensors of small fixture models, in hf_target.cc's layout,
             once per mode (fp32, int8, convert + load, LoadHfModel)
  tokenizer: texts (fixture corpus lines, pairs, invalid UTF-8) with several option bytes on the
             fixture tokenizers, and tokenizer.json / vocab files carried in the input
  json:      the fixtures' JSON files and JSON lines, and a few edge cases
  request:   requests of every task with their options, for each of request_target.cc's models

Usage: make_corpus.py <edgebert CLI> <out dir>   (stdlib only)
"""
import hashlib
import json
import os
import struct
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIX = os.path.join(ROOT, "tests", "fixtures")
SEP = b"\x1d"  # kPartSeparator (fuzz_targets.h)


def read(*parts):
    with open(os.path.join(FIX, *parts), "rb") as f:
        return f.read()


def model_dirs():
    out = []
    for base in ("models", os.path.join("pipelines", "models")):
        for name in sorted(os.listdir(os.path.join(FIX, base))):
            d = os.path.join(FIX, base, name)
            if all(os.path.exists(os.path.join(d, f)) for f in ("config.json", "model.safetensors")):
                out.append(d)
    return out


class Corpus:
    def __init__(self, out, target):
        self.dir = os.path.join(out, target)
        os.makedirs(self.dir, exist_ok=True)
        self.count = 0

    def add(self, data: bytes):
        name = hashlib.sha1(data).hexdigest()
        with open(os.path.join(self.dir, name), "wb") as f:
            f.write(data)
        self.count += 1


def texts():
    lines = read("tokenizer", "corpus.txt").decode("utf-8").splitlines()
    out = [l.encode() for l in lines[:40] if l.strip()]
    for line in read("tokenizer", "invalid_utf8.jsonl").decode().splitlines()[:20]:
        out.append(bytes.fromhex(json.loads(line)["hex"]))
    out += [b"", b" ", b"Hello world!", b"[CLS] hello [MASK] world [SEP]", b"don't stop-believing...",
            "caf\u00e9 na\u00efve \u4e2d\u6587 \U0001f600 e\u0301".encode(), b"\xff\xfe\xc3(", b"a" * 300,
            " ".join(["word"] * 200).encode()]
    return out


def packed(cli, corpus):
    with tempfile.TemporaryDirectory() as tmp:
        for d in model_dirs():
            if not os.path.exists(os.path.join(d, "vocab.txt")) and not os.path.exists(os.path.join(d, "tokenizer.json")):
                continue
            out = os.path.join(tmp, "m.ebm")
            r = subprocess.run([cli, "convert", d, out], capture_output=True, text=True)
            if r.returncode != 0:
                sys.exit(f"make_corpus: {cli} convert {d} failed: {r.stderr}")
            with open(out, "rb") as f:
                corpus.add(f.read())
    corpus.add(b"EDGEBERT" + struct.pack("<IIQQ", 2, 0, 32, 0))


def hf(corpus):
    dirs = sorted(model_dirs(), key=lambda d: os.path.getsize(os.path.join(d, "model.safetensors")))
    for d in dirs[:6]:
        with open(os.path.join(d, "config.json"), "rb") as f:
            config = f.read()
        with open(os.path.join(d, "model.safetensors"), "rb") as f:
            weights = f.read()
        for mode in range(4):
            corpus.add(bytes([mode]) + struct.pack("<I", len(config)) + config + weights)


def tokenizer(corpus):
    ts = texts()
    seeds = 0
    for i, t in enumerate(ts):
        second = ts[(i * 7 + 3) % len(ts)]
        # source 0 (fixture tokenizer.json, 5 of them) and 1 (fixture vocab files, 4 of them)
        for source, picks in ((0, 5), (1, 4)):
            pick = i % picks
            trunc = i % 4
            flags = source | trunc << 2 | (i % 2) << 4 | ((i // 5) % 2) << 5 | (i % 3) << 6
            opts = bytes([flags, 3 + (i * 5) % 40, i % 4, (i * 3) % 50, (i % 3) | pick << 2])
            corpus.add(opts + t + SEP + second)
            seeds += 1
    # Files carried in the input (sources 2 and 3).
    for f in ("tokenizer_uncased_added.json", "tokenizer_cased_strip.json"):
        corpus.add(bytes([2 | 1 << 2 | 1 << 4, 16, 4, 0, 0]) + read("tokenizer", f) + SEP + ts[1] + SEP + ts[2])
    for d in ("uncased", "cased"):
        files = [read("vocab", d, n) for n in ("vocab.txt", "tokenizer_config.json", "special_tokens_map.json")]
        corpus.add(bytes([3 | 3 << 2 | 1 << 4 | 1 << 6, 20, 3, 0, 1]) + SEP.join(files) + SEP + ts[3] + SEP + ts[4])
    small_vocab = b"\n".join([b"[PAD]", b"[UNK]", b"[CLS]", b"[SEP]", b"[MASK]", b"hello", b"world", b"##s", b"a"])
    corpus.add(bytes([3, 0, 0, 0, 0]) + small_vocab + SEP + SEP + SEP + b"hello worlds a")


def json_corpus(corpus):
    for dirpath, _, names in os.walk(FIX):
        for n in sorted(names):
            p = os.path.join(dirpath, n)
            if n.endswith(".json") and os.path.getsize(p) <= 8 * 1024:
                with open(p, "rb") as f:
                    corpus.add(f.read())
            elif n.endswith(".jsonl"):
                with open(p, "rb") as f:
                    for line in f.read().splitlines()[:10]:
                        if len(line) <= 8 * 1024:
                            corpus.add(line)
    for s in ('[]', '{}', '""', '0', '-0.0e-0', '1E+400', 'NaN', '-Infinity', '"\\ud83d\\ude00\\u0000\\"\\\\"',
              '[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]', '{"a":{"a":{"a":null}},"a":[true,false]}', '  \t\n 7 '):
        corpus.add(s.encode())


def request(corpus):
    samples = [t.decode("utf-8", "replace") for t in texts()[:12]] + ["Hello Paris, the [MASK] is here.", ""]
    tasks = [  # (task index in request_target.cc, request builder)
        (0, lambda t, u: {"text": t, "text_pair": u, "truncation": "only_second", "max_length": 12, "stride": 3,
                          "padding": "max_length", "offset_unit": "codepoint"}),
        (0, lambda t, u: {"text": t, "truncation": True, "padding": True, "add_special_tokens": False}),
        (1, lambda t, u: {"text": t, "text_pair": u, "top_k": 2, "function_to_apply": "softmax", "truncation": True}),
        (1, lambda t, u: {"text": t, "top_k": None, "function_to_apply": "sigmoid"}),
        (2, lambda t, u: {"text": t, "aggregation_strategy": "simple", "ignore_labels": ["O"], "stride": 4,
                          "offset_unit": "utf16"}),
        (2, lambda t, u: {"text": t, "aggregation_strategy": "max", "truncation": True}),
        (3, lambda t, u: {"question": u or "Where?", "context": t, "top_k": 3, "doc_stride": 4, "max_answer_len": 5,
                          "max_seq_len": 20, "max_question_len": 6, "handle_impossible_answer": True,
                          "align_to_words": False}),
        (4, lambda t, u: {"text": t, "text_pair": u, "pooling": "mean", "normalize": True, "truncation": True}),
        (4, lambda t, u: {"text": t, "pooling": "cls"}),
        (5, lambda t, u: {"text": t + " [MASK]", "top_k": 3, "targets": ["a", "the", "zzz"], "truncation": True}),
    ]
    for model in range(8):
        for i, (task, build) in enumerate(tasks):
            t, u = samples[(model + i) % len(samples)], samples[(model * 3 + i + 1) % len(samples)]
            corpus.add(bytes([model | task << 3]) + json.dumps(build(t, u), ensure_ascii=(i % 2 == 0)).encode())


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    cli, out = sys.argv[1], sys.argv[2]
    for name, fn in (("packed", lambda c: packed(cli, c)), ("hf", hf), ("tokenizer", tokenizer), ("json", json_corpus),
                     ("request", request)):
        c = Corpus(out, name)
        fn(c)
        print(f"make_corpus: {name}: {c.count} seeds in {c.dir}")


if __name__ == "__main__":
    main()
