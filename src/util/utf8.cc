// utf8.cc: UTF-8 decoding (maximal-subpart replacement), encoding and offset conversion.
#include "util/utf8.h"

namespace edgebert {

size_t DecodeUtf8(std::string_view text, size_t pos, char32_t* cp) {
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  const size_t n = text.size();
  const unsigned char b0 = s[pos];
  if (b0 < 0x80) {
    *cp = b0;
    return 1;
  }
  // Table 3-7 of the Unicode standard: the well-formed byte sequences. `lo`/`hi` bound the
  // second byte (the first continuation byte is where overlongs and surrogates are excluded).
  size_t need;
  unsigned char lo = 0x80, hi = 0xBF;
  char32_t value;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    need = 1;
    value = b0 & 0x1F;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    need = 2;
    value = b0 & 0x0F;
    if (b0 == 0xE0) lo = 0xA0;
    if (b0 == 0xED) hi = 0x9F;
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    need = 3;
    value = b0 & 0x07;
    if (b0 == 0xF0) lo = 0x90;
    if (b0 == 0xF4) hi = 0x8F;
  } else {
    *cp = kReplacementChar;  // 80..C1, F5..FF never start a character
    return 1;
  }
  size_t len = 1;
  for (size_t k = 0; k < need; ++k) {
    if (pos + len >= n) {
      *cp = kReplacementChar;
      return len;
    }
    const unsigned char b = s[pos + len];
    const unsigned char min = k == 0 ? lo : 0x80;
    const unsigned char max = k == 0 ? hi : 0xBF;
    if (b < min || b > max) {
      *cp = kReplacementChar;
      return len;
    }
    value = (value << 6) | (b & 0x3F);
    ++len;
  }
  *cp = value;
  return len;
}

int EncodeUtf8(char32_t cp, char* out) {
  if (cp < 0x80) {
    out[0] = static_cast<char>(cp);
    return 1;
  }
  if (cp < 0x800) {
    out[0] = static_cast<char>(0xC0 | (cp >> 6));
    out[1] = static_cast<char>(0x80 | (cp & 0x3F));
    return 2;
  }
  if (cp < 0x10000) {
    out[0] = static_cast<char>(0xE0 | (cp >> 12));
    out[1] = static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out[2] = static_cast<char>(0x80 | (cp & 0x3F));
    return 3;
  }
  out[0] = static_cast<char>(0xF0 | (cp >> 18));
  out[1] = static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
  out[2] = static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
  out[3] = static_cast<char>(0x80 | (cp & 0x3F));
  return 4;
}

void AppendUtf8(char32_t cp, std::string* out) {
  char buf[4];
  out->append(buf, static_cast<size_t>(EncodeUtf8(cp, buf)));
}

Utf8OffsetMap::Utf8OffsetMap(std::string_view text, Unit unit) : units_(text.size() + 1) {
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  uint32_t units = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    if (s[pos] < 0x80) {  // ASCII: one unit per byte in both units
      units_[pos++] = units++;
      continue;
    }
    char32_t cp;
    const size_t len = DecodeUtf8(text, pos, &cp);
    for (size_t k = 0; k < len; ++k) units_[pos + k] = units;
    units += (unit == Unit::kUtf16 && cp >= 0x10000) ? 2 : 1;
    pos += len;
  }
  units_[text.size()] = units;
}

}  // namespace edgebert
