"""make_text.py: the benchmark text, a JSON array of documents built from the tokenizer test corpus.

Usage: python3 make_text.py OUT.json [MEGABYTES]
Deterministic: the corpus lines (tests/fixtures/tokenizer/corpus.txt, escapes undone) are taken
in order, round after round, 16 lines to a document (about 1.6 KB, a question-answering
context), until the documents hold MEGABYTES of UTF-8 (default 4).
"""
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def unescape(line):
    out, i = [], 0
    while i < len(line):
        c = line[i]
        if c == "\\" and i + 1 < len(line):
            n = line[i + 1]
            if n == "u":
                out.append(chr(int(line[i + 2:i + 6], 16)))
                i += 6
                continue
            out.append({"n": "\n", "r": "\r", "\\": "\\"}[n])
            i += 2
            continue
        out.append(c)
        i += 1
    return "".join(out)


def main():
    out = Path(sys.argv[1])
    target = float(sys.argv[2]) if len(sys.argv) > 2 else 4.0
    lines = [unescape(l) for l in (ROOT / "tests/fixtures/tokenizer/corpus.txt").read_text(encoding="utf-8").split("\n")[:-1]]
    docs, size, i = [], 0, 0
    while size < target * 1e6:
        doc = " ".join(lines[(i + k) % len(lines)] for k in range(16))
        i += 16
        docs.append(doc)
        size += len(doc.encode("utf-8"))
    out.write_text(json.dumps(docs, ensure_ascii=False), encoding="utf-8")
    print(f"{len(docs)} documents, {size / 1e6:.2f} MB", file=sys.stderr)


if __name__ == "__main__":
    main()
