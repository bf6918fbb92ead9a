// utf8.h: UTF-8 decoding with U+FFFD replacement per maximal subpart, encoding, offset conversion.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace edgebert {

constexpr char32_t kReplacementChar = 0xFFFD;

// Decodes the character starting at text[pos] (pos < text.size()). Returns its length in bytes
// (>= 1) and stores the code point in *cp. An ill-formed sequence yields U+FFFD and the length of
// its "maximal subpart" (Unicode ch. 3, "U+FFFD Substitution of Maximal Subparts", the practice
// WHATWG's TextDecoder follows), so every invalid byte range becomes exactly one U+FFFD and the
// next call resumes at the first byte that could start a valid character.
size_t DecodeUtf8(std::string_view text, size_t pos, char32_t* cp);

// Writes the UTF-8 form of cp (a scalar value) to out[0..4); returns the byte count (1..4).
int EncodeUtf8(char32_t cp, char* out);

// Appends the UTF-8 form of cp to *out.
void AppendUtf8(char32_t cp, std::string* out);

// Converts byte offsets into `text` to other units, as a caller's language indexes strings:
// UTF-16 code units (JavaScript's String.slice: astral characters count 2) or code points
// (Python's str slicing). Invalid bytes count as one U+FFFD per maximal subpart, matching
// DecodeUtf8 and TextDecoder. A byte offset inside a character maps to that character's start.
// Offsets beyond text.size() are clamped to the end.
class Utf8OffsetMap {
 public:
  enum class Unit { kUtf16, kCodePoint };
  Utf8OffsetMap(std::string_view text, Unit unit);
  uint32_t Convert(size_t byte_offset) const {
    return units_[byte_offset < units_.size() ? byte_offset : units_.size() - 1];
  }

 private:
  std::vector<uint32_t> units_;  // (text.size() + 1): units before the character holding byte i
};

}  // namespace edgebert
