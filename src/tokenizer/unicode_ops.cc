// unicode_ops.cc: lookups into the generated Unicode tables (combining class, NFD, lowercase).
#include "tokenizer/unicode_ops.h"

#include <algorithm>

namespace edgebert::unicode {
namespace {

const MappingRow* FindRow(const MappingRow* rows, size_t n, char32_t cp) {
  const MappingRow* end = rows + n;
  const MappingRow* it =
      std::lower_bound(rows, end, cp, [](const MappingRow& r, char32_t c) { return r.cp < c; });
  return it != end && it->cp == cp ? it : nullptr;
}

// Hangul syllable decomposition constants (Unicode ch. 3.12).
constexpr char32_t kSBase = 0xAC00, kLBase = 0x1100, kVBase = 0x1161, kTBase = 0x11A7;
constexpr char32_t kTCount = 28, kNCount = 21 * 28, kSCount = 19 * 21 * 28;

}  // namespace

uint8_t CombiningClass(char32_t cp) { return CombiningClassOf(cp); }

int DecomposeCanonical(char32_t cp, char32_t out[4]) {
  if (!(Flags(cp) & kDecomposes)) {
    out[0] = cp;
    return 1;
  }
  if (cp >= kSBase && cp < kSBase + kSCount) {
    const char32_t s = cp - kSBase;
    out[0] = kLBase + s / kNCount;
    out[1] = kVBase + (s % kNCount) / kTCount;
    const char32_t t = s % kTCount;
    if (t == 0) return 2;
    out[2] = kTBase + t;
    return 3;
  }
  const MappingRow* row = FindRow(kDecompositionRows, kNumDecompositionRows, cp);
  if (!row) {
    out[0] = cp;
    return 1;
  }
  for (uint32_t i = 0; i < row->length; ++i) out[i] = kDecompositionPool[row->offset + i];
  return static_cast<int>(row->length);
}

int ToLowercase(char32_t cp, char32_t out[3]) {
  if (cp < 0x80) {
    out[0] = (cp >= 'A' && cp <= 'Z') ? cp + 32 : cp;
    return 1;
  }
  if (Flags(cp) & kHasLower) {
    if (const MappingRow* row = FindRow(kLowercaseRows, kNumLowercaseRows, cp)) {
      for (uint32_t i = 0; i < row->length; ++i) out[i] = kLowercasePool[row->offset + i];
      return static_cast<int>(row->length);
    }
  }
  out[0] = cp;
  return 1;
}

}  // namespace edgebert::unicode
