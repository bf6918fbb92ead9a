// token_meta.cc: validation of token metadata, UTF-8 offset helpers, Python-compatible lowercase.
#include "heads/token_meta.h"

#include <algorithm>
#include <cmath>

#include "tokenizer/unicode_ops.h"
#include "util/utf8.h"

namespace edgebert {

namespace {

bool IsContinuation(unsigned char c) { return (c & 0xC0) == 0x80; }

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
    char32_t cp;
    i += DecodeUtf8(utf8, i, &cp);
    char32_t lower[3];
    const int n = unicode::ToLowercase(cp, lower);
    for (int k = 0; k < n; ++k) AppendUtf8(lower[k], &out);
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
