#!/usr/bin/env python3
"""gen_unicode_tables.py: writes src/util/unicode_tables.{h,cc} from the Unicode Character Database.

Source data: Debian's unicode-data package (/usr/share/unicode, Unicode 15.0). The tables encode
exactly the character predicates Hugging Face `tokenizers` (Rust) uses for BERT, each at the
Unicode version of the crate that implements it (found by testing every code point against the
installed tokenizers 0.22.2, see scripts/fixtures/make_tokenizer_fixtures.py):

  other (Cc|Cf|Co)   unicode_categories 0.1.1  -> Unicode 8.0 general categories (BertNormalizer
                                                  clean_text `is_control`; note: Cn is NOT other)
  punctuation (P*)   unicode_categories 0.1.1  -> Unicode 8.0 (BertPreTokenizer, plus ASCII
                                                  punctuation as Rust's char::is_ascii_punctuation)
  Mn                 unicode_categories 0.1.1  -> Unicode 8.0 (strip_accents filter)
  NFD + ccc          unicode-normalization-alignments 0.1.12 -> Unicode 9.0
  White_Space        Rust std char::is_whitespace (property unchanged since 6.3)
  lowercase          Rust std char::to_lowercase: UnicodeData simple mapping + unconditional
                     SpecialCasing (only U+0130 -> "i\u0307" has more than one char). Rust's std is
                     at Unicode 16.0; Debian ships 15.0, so the 16.0 additions are missing here.

"Version V" is emulated with DerivedAge.txt: a code point assigned after V has no category,
decomposition or combining class. Categories that CHANGED between V and 15.0 cannot be recovered
from 15.0 data; the exhaustive code-point test lists those few code points explicitly.

Usage: python3 scripts/gen_unicode_tables.py [--ucd /usr/share/unicode] [--out src/util]
Deterministic: rerunning gives identical files.
"""
import argparse
import os
from pathlib import Path

CATEGORY_VERSION = (8, 0)  # unicode_categories 0.1.1 (see module docstring)
NFD_VERSION = (9, 0)       # unicode-normalization-alignments 0.1.12 (its tables.rs UNICODE_VERSION)
MAX_CP = 0x110000
BLOCK = 128

# Flags of the per-code-point property byte (keep in sync with the generated header).
F_OTHER, F_PUNCT, F_MN, F_WS, F_LOWER, F_DECOMP, F_CHINESE, F_CCC = 1, 2, 4, 8, 16, 32, 64, 128

# BERT's "Chinese character" blocks, as tokenizers/src/normalizers/bert.rs `is_chinese_char`.
CHINESE_RANGES = [(0x4E00, 0x9FFF), (0x3400, 0x4DBF), (0x20000, 0x2A6DF), (0x2A700, 0x2B73F),
                  (0x2B740, 0x2B81F), (0x2B920, 0x2CEAF), (0xF900, 0xFAFF), (0x2F800, 0x2FA1F)]


def parse_ranges(path, want=None):
    """Yields (first, last, fields) for each data line of a UCD 'range ; value' file."""
    for line in open(path, encoding="utf-8"):
        line = line.split("#")[0].strip()
        if not line:
            continue
        fields = [f.strip() for f in line.split(";")]
        a, _, b = fields[0].partition("..")
        first = int(a, 16)
        last = int(b, 16) if b else first
        if want is None or fields[1] == want:
            yield first, last, fields


def load(ucd):
    age = [None] * MAX_CP
    for first, last, f in parse_ranges(ucd / "DerivedAge.txt"):
        v = tuple(int(x) for x in f[1].split("."))
        for c in range(first, last + 1):
            age[c] = v
    cat = ["Cn"] * MAX_CP
    ccc = [0] * MAX_CP
    decomp = {}
    lower = {}
    first = None
    for line in open(ucd / "UnicodeData.txt", encoding="utf-8"):
        f = line.rstrip("\n").split(";")
        cp = int(f[0], 16)
        if f[1].endswith("First>"):
            first = cp
            continue
        cps = range(first, cp + 1) if f[1].endswith("Last>") else [cp]
        for c in cps:
            cat[c] = f[2]
            ccc[c] = int(f[3])
            if f[5] and not f[5].startswith("<"):
                decomp[c] = [int(x, 16) for x in f[5].split()]
            if f[13]:
                lower[c] = [int(f[13], 16)]
    for first_cp, last_cp, f in parse_ranges(ucd / "SpecialCasing.txt"):
        if len(f) >= 5 and f[4]:
            continue  # conditional mappings (final sigma, tr/az/lt) are not in char::to_lowercase
        mapping = [int(x, 16) for x in f[1].split()]
        if mapping != [first_cp]:
            lower[first_cp] = mapping
    ws = set()
    for a, b, _ in parse_ranges(ucd / "PropList.txt", "White_Space"):
        ws.update(range(a, b + 1))
    return age, cat, ccc, decomp, lower, ws


def assigned_by(age, c, version):
    return age[c] is not None and age[c] <= version


def full_decomposition(c, decomp, age):
    if 0xAC00 <= c <= 0xD7A3:  # Hangul syllables: algorithmic, handled in C++
        return None
    if c not in decomp or not assigned_by(age, c, NFD_VERSION):
        return None
    out = []
    for d in decomp[c]:
        sub = full_decomposition(d, decomp, age)
        out.extend(sub if sub else [d])
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ucd", default="/usr/share/unicode")
    ap.add_argument("--out", default=str(Path(__file__).resolve().parents[1] / "src" / "util"))
    args = ap.parse_args()
    ucd = Path(args.ucd)
    age, cat, ccc, decomp, lower, ws = load(ucd)
    ucd_version = open(ucd / "ReadMe.txt", encoding="utf-8").read()
    ucd_version = next((l.split("Version ")[1].split()[0] for l in ucd_version.splitlines()
                        if "Version " in l), "unknown")

    flags = [0] * MAX_CP
    ascii_punct = set(range(0x21, 0x30)) | set(range(0x3A, 0x41)) | set(range(0x5B, 0x61)) | \
        set(range(0x7B, 0x7F))
    decomps = {}
    cccs = {}
    for c in range(MAX_CP):
        v = 0
        old = assigned_by(age, c, CATEGORY_VERSION)
        gc = cat[c] if old else "Cn"
        if gc in ("Cc", "Cf", "Co"):
            v |= F_OTHER
        if gc.startswith("P") or c in ascii_punct:
            v |= F_PUNCT
        if gc == "Mn":
            v |= F_MN
        if c in ws:
            v |= F_WS
        if c in lower and lower[c] != [c]:
            v |= F_LOWER
        d = full_decomposition(c, decomp, age)
        if d or 0xAC00 <= c <= 0xD7A3:
            v |= F_DECOMP
            if d:
                decomps[c] = d
        if any(a <= c <= b for a, b in CHINESE_RANGES):
            v |= F_CHINESE
        if assigned_by(age, c, NFD_VERSION) and ccc[c] != 0:
            v |= F_CCC
            cccs[c] = ccc[c]
        flags[c] = v

    # Two-stage table: stage1[cp / BLOCK] -> block index; stage2[block * BLOCK + cp % BLOCK].
    blocks, index, stage1 = [], {}, []
    for b in range(MAX_CP // BLOCK):
        blk = tuple(flags[b * BLOCK:(b + 1) * BLOCK])
        if blk not in index:
            index[blk] = len(blocks)
            blocks.append(blk)
        stage1.append(index[blk])
    assert len(blocks) < 65536

    # Combining classes: the same two-stage layout with one byte per code point (uint8 stage 1).
    ccc_blocks, ccc_index, ccc_stage1 = [], {}, []
    for b in range(MAX_CP // BLOCK):
        blk = tuple(cccs.get(c, 0) for c in range(b * BLOCK, (b + 1) * BLOCK))
        if blk not in ccc_index:
            ccc_index[blk] = len(ccc_blocks)
            ccc_blocks.append(blk)
        ccc_stage1.append(ccc_index[blk])
    assert len(ccc_blocks) < 256

    pool, decomp_rows = [], []
    for c in sorted(decomps):
        decomp_rows.append((c, len(pool), len(decomps[c])))
        pool.extend(decomps[c])
    assert max(r[2] for r in decomp_rows) <= 4

    lower_rows, lower_pool = [], []
    for c in sorted(lower):
        if lower[c] == [c]:
            continue
        lower_rows.append((c, len(lower_pool), len(lower[c])))
        lower_pool.extend(lower[c])

    header = ("// generated by scripts/gen_unicode_tables.py, do not edit.\n"
              f"// Source: UCD {ucd_version} ({ucd}); categories at Unicode "
              f"{CATEGORY_VERSION[0]}.{CATEGORY_VERSION[1]}, NFD at "
              f"{NFD_VERSION[0]}.{NFD_VERSION[1]} (see the script for why).\n")
    out = Path(args.out)
    h = header + """#pragma once

#include <cstddef>
#include <cstdint>

namespace edgebert::unicode {

// Bits of Flags(cp).
enum : uint8_t {
  kOther = 1,       // general category Cc, Cf or Co (HF clean_text's is_control, minus \\t\\n\\r)
  kBertPunct = 2,   // general category P* or ASCII punctuation (BertPreTokenizer)
  kMn = 4,          // general category Mn (strip_accents drops these after NFD)
  kWhiteSpace = 8,  // White_Space property (Rust char::is_whitespace)
  kHasLower = 16,   // char::to_lowercase differs from the char
  kDecomposes = 32, // has a canonical decomposition (Hangul syllables included)
  kChinese = 64,    // BERT's CJK ideograph blocks
  kNonStarter = 128 // canonical combining class != 0
};

""" + f"constexpr int kBlockShift = {BLOCK.bit_length() - 1};\n" + """extern const uint16_t kStage1[];
extern const uint8_t kStage2[];

inline uint8_t Flags(char32_t cp) {
  if (cp >= 0x110000) return 0;
  return kStage2[(static_cast<size_t>(kStage1[cp >> kBlockShift]) << kBlockShift) |
                 (cp & ((1u << kBlockShift) - 1))];
}

extern const uint8_t kCccStage1[];
extern const uint8_t kCccStage2[];

// Canonical combining class (0 for starters).
inline uint8_t CombiningClassOf(char32_t cp) {
  if (cp >= 0x110000) return 0;
  return kCccStage2[(static_cast<size_t>(kCccStage1[cp >> kBlockShift]) << kBlockShift) |
                    (cp & ((1u << kBlockShift) - 1))];
}

// (code point, offset into the pool, length) rows sorted by code point.
struct MappingRow { uint32_t cp; uint32_t offset; uint32_t length; };
extern const MappingRow kDecompositionRows[];   // full canonical decompositions (not Hangul)
extern const size_t kNumDecompositionRows;
extern const uint32_t kDecompositionPool[];
extern const MappingRow kLowercaseRows[];       // full lowercase mappings
extern const size_t kNumLowercaseRows;
extern const uint32_t kLowercasePool[];

}  // namespace edgebert::unicode
"""
    (out / "unicode_tables.h").write_text(h, encoding="utf-8")

    def arr(vals, per_line=16):
        vals = list(vals)
        lines = []
        for i in range(0, len(vals), per_line):
            lines.append("  " + ", ".join(str(v) for v in vals[i:i + per_line]) + ",")
        return "\n".join(lines)

    cc = header + '#include "util/unicode_tables.h"\n\nnamespace edgebert::unicode {\n\n'
    cc += f"const uint16_t kStage1[{len(stage1)}] = {{\n{arr(stage1)}\n}};\n\n"
    flat = [v for blk in blocks for v in blk]
    cc += f"const uint8_t kStage2[{len(flat)}] = {{\n{arr(flat, 32)}\n}};\n\n"
    cc += f"const uint8_t kCccStage1[{len(ccc_stage1)}] = {{\n{arr(ccc_stage1, 32)}\n}};\n\n"
    ccc_flat = [v for blk in ccc_blocks for v in blk]
    cc += f"const uint8_t kCccStage2[{len(ccc_flat)}] = {{\n{arr(ccc_flat, 32)}\n}};\n\n"
    cc += "const MappingRow kDecompositionRows[] = {\n" + "\n".join(
        f"  {{0x{c:X}, {o}, {n}}}," for c, o, n in decomp_rows) + "\n};\n"
    cc += f"const size_t kNumDecompositionRows = {len(decomp_rows)};\n"
    cc += f"const uint32_t kDecompositionPool[] = {{\n{arr(hex(x) for x in pool)}\n}};\n\n"
    cc += "const MappingRow kLowercaseRows[] = {\n" + "\n".join(
        f"  {{0x{c:X}, {o}, {n}}}," for c, o, n in lower_rows) + "\n};\n"
    cc += f"const size_t kNumLowercaseRows = {len(lower_rows)};\n"
    cc += f"const uint32_t kLowercasePool[] = {{\n{arr(hex(x) for x in lower_pool)}\n}};\n\n"
    cc += "}  // namespace edgebert::unicode\n"
    (out / "unicode_tables.cc").write_text(cc, encoding="utf-8")
    print(f"blocks={len(blocks)} ccc_blocks={len(ccc_blocks)} decomps={len(decomp_rows)} "
          f"lower={len(lower_rows)}")


if __name__ == "__main__":
    main()
