// token_meta.cc: validation of token metadata, UTF-8 offset helpers, Python-compatible lowercase.
#include "heads/token_meta.h"

#include <algorithm>
#include <cmath>

namespace edgebert {

namespace {

bool IsContinuation(unsigned char c) { return (c & 0xC0) == 0x80; }

// Decodes valid UTF-8 (the texts are validated by the callers' JSON/tokenizer layers; a stray
// continuation byte is taken as its own code point so this never loops or reads out of bounds).
uint32_t DecodeAt(std::string_view s, size_t* i) {
  unsigned char c = static_cast<unsigned char>(s[*i]);
  int len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 1;
  if (*i + len > s.size()) len = 1;
  uint32_t cp = len == 1 ? c : len == 2 ? (c & 0x1F) : len == 3 ? (c & 0x0F) : (c & 0x07);
  for (int k = 1; k < len; ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[*i + k]) & 0x3F);
  *i += len;
  return cp;
}

void Encode(uint32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

uint32_t LowerCodePoint(uint32_t c) {
  if (c >= 'A' && c <= 'Z') return c + 32;
  if (c < 0x80) return c;
  if (c >= 0xC0 && c <= 0xDE && c != 0xD7) return c + 32;
  if (c >= 0x100 && c <= 0x137) return c | 1;                      // Ā..ķ pairs (even upper)
  if (c >= 0x139 && c <= 0x148) return (c & 1) ? c + 1 : c;        // Ĺ..ň (odd upper)
  if (c >= 0x14A && c <= 0x177) return c | 1;                      // Ŋ..ŷ
  if (c == 0x178) return 0xFF;                                     // Ÿ
  if (c >= 0x179 && c <= 0x17E) return (c & 1) ? c + 1 : c;        // Ź..ž
  if (c == 0x386) return 0x3AC;
  if (c >= 0x388 && c <= 0x38A) return c + 37;
  if (c == 0x38C) return 0x3CC;
  if (c == 0x38E || c == 0x38F) return c + 63;
  if (c >= 0x391 && c <= 0x3AB && c != 0x3A2) return c + 32;      // Greek capitals
  if (c >= 0x400 && c <= 0x40F) return c + 80;                     // Ѐ..Џ
  if (c >= 0x410 && c <= 0x42F) return c + 32;                     // А..Я
  if (c >= 0x460 && c <= 0x481) return c | 1;                      // Cyrillic extended pairs
  if (c >= 0x48A && c <= 0x4BF) return c | 1;
  if (c >= 0x531 && c <= 0x556) return c + 48;                     // Armenian
  if (c == 0x1E9E) return 0xDF;                                    // ẞ -> ß
  if (c >= 0x1E00 && c <= 0x1E95) return c | 1;                    // Latin Extended Additional
  if (c >= 0x1EA0 && c <= 0x1EFF) return c | 1;
  if (c >= 0xFF21 && c <= 0xFF3A) return c + 32;                   // full-width A..Z
  return c;
}

}  // namespace

Status ValidateTokens(const std::vector<TokenMeta>& tokens, const std::vector<std::string_view>& texts,
                      size_t vocab_size, const std::string& what) {
  for (size_t i = 0; i < tokens.size(); ++i) {
    const TokenMeta& t = tokens[i];
    const std::string where = what + " token " + std::to_string(i);
    if (vocab_size > 0 && (t.id < 0 || static_cast<uint64_t>(t.id) >= vocab_size)) {
      return InvalidArgument(where + ": id " + std::to_string(t.id) + " is outside the vocabulary of " +
                             std::to_string(vocab_size) + " tokens");
    }
    if (t.sequence_id < -1 || t.sequence_id >= static_cast<int>(texts.size())) {
      return InvalidArgument(where + ": sequence_id " + std::to_string(t.sequence_id) + " but " +
                             std::to_string(texts.size()) + " text(s) were given");
    }
    if (t.start_byte < 0 || t.end_byte < t.start_byte) {
      return InvalidArgument(where + ": offsets [" + std::to_string(t.start_byte) + ", " +
                             std::to_string(t.end_byte) + ") are not an ordered range");
    }
    if (t.sequence_id < 0) {
      if (t.end_byte != t.start_byte) {
        return InvalidArgument(where + ": a token outside every sequence (special/padding) must have empty "
                               "offsets, got [" + std::to_string(t.start_byte) + ", " +
                               std::to_string(t.end_byte) + ")");
      }
      continue;
    }
    std::string_view text = texts[t.sequence_id];
    if (static_cast<size_t>(t.end_byte) > text.size()) {
      return InvalidArgument(where + ": end offset " + std::to_string(t.end_byte) + " is past the end of text " +
                             std::to_string(t.sequence_id) + " (" + std::to_string(text.size()) + " bytes)");
    }
    if (!IsUtf8Boundary(text, t.start_byte) || !IsUtf8Boundary(text, t.end_byte)) {
      return InvalidArgument(where + ": offsets [" + std::to_string(t.start_byte) + ", " +
                             std::to_string(t.end_byte) + ") split a UTF-8 character");
    }
  }
  return Status::Ok();
}

int CountCodePoints(std::string_view utf8) {
  int n = 0;
  for (char c : utf8) n += !IsContinuation(static_cast<unsigned char>(c));
  return n;
}

int CodePointToByte(std::string_view utf8, int cp) {
  int seen = 0;
  for (size_t i = 0; i < utf8.size(); ++i) {
    if (IsContinuation(static_cast<unsigned char>(utf8[i]))) continue;
    if (seen == cp) return static_cast<int>(i);
    ++seen;
  }
  return static_cast<int>(utf8.size());
}

int ByteToCodePoint(std::string_view utf8, int byte) {
  return CountCodePoints(utf8.substr(0, std::min<size_t>(std::max(byte, 0), utf8.size())));
}

bool IsUtf8Boundary(std::string_view utf8, int byte) {
  if (byte < 0 || static_cast<size_t>(byte) > utf8.size()) return false;
  return static_cast<size_t>(byte) == utf8.size() || !IsContinuation(static_cast<unsigned char>(utf8[byte]));
}

std::string PythonLower(std::string_view utf8) {
  std::string out;
  out.reserve(utf8.size());
  size_t i = 0;
  while (i < utf8.size()) {
    uint32_t cp = DecodeAt(utf8, &i);
    if (cp == 0x130) {  // İ: Python gives "i" + COMBINING DOT ABOVE
      out += "i\xCC\x87";
      continue;
    }
    Encode(LowerCodePoint(cp), &out);
  }
  return out;
}

void SoftmaxInPlace(float* x, size_t n) {
  if (n == 0) return;
  float mx = *std::max_element(x, x + n);
  double sum = 0;
  for (size_t i = 0; i < n; ++i) sum += std::exp(static_cast<double>(x[i]) - mx);
  for (size_t i = 0; i < n; ++i) x[i] = static_cast<float>(std::exp(static_cast<double>(x[i]) - mx) / sum);
}

}  // namespace edgebert
