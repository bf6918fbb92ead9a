// utf8_test.cc: UTF-8 decoding with maximal-subpart replacement, encoding, offset conversion.
#include "util/utf8.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

namespace edgebert {
namespace {

std::vector<char32_t> DecodeAll(std::string_view s, std::vector<size_t>* lens = nullptr) {
  std::vector<char32_t> out;
  size_t pos = 0;
  while (pos < s.size()) {
    char32_t cp;
    const size_t n = DecodeUtf8(s, pos, &cp);
    EXPECT_GE(n, 1u);
    EXPECT_LE(pos + n, s.size());
    out.push_back(cp);
    if (lens) lens->push_back(n);
    pos += n;
  }
  return out;
}

TEST(Utf8, DecodesWellFormedText) {
  const std::string s = "a\xC3\xA9\xE4\xB8\xAD\xF0\x9F\xA4\x97";  // a é 中 🤗
  std::vector<size_t> lens;
  EXPECT_EQ(DecodeAll(s, &lens), (std::vector<char32_t>{'a', 0xE9, 0x4E2D, 0x1F917}));
  EXPECT_EQ(lens, (std::vector<size_t>{1, 2, 3, 4}));
}

// The example of Unicode 15.0 section 3.9, Table 3-8 (U+FFFD for maximal subparts):
// 61 F1 80 80 E1 80 C2 62 80 63 80 BF 64 -> a FFFD FFFD FFFD b FFFD c FFFD FFFD d
TEST(Utf8, ReplacesMaximalSubpartsAsTheUnicodeStandardExample) {
  const std::string s = "\x61\xF1\x80\x80\xE1\x80\xC2\x62\x80\x63\x80\xBF\x64";
  const char32_t R = kReplacementChar;
  EXPECT_EQ(DecodeAll(s), (std::vector<char32_t>{'a', R, R, R, 'b', R, 'c', R, R, 'd'}));
}

TEST(Utf8, RejectsOverlongsSurrogatesAndBeyondMax) {
  const char32_t R = kReplacementChar;
  // Overlong "/" (C0 AF): C0 can never start a character, AF is a lone continuation byte.
  EXPECT_EQ(DecodeAll("\xC0\xAF"), (std::vector<char32_t>{R, R}));
  // Overlong 3-byte (E0 80 AF): E0 needs A0..BF next, so E0 alone is the maximal subpart.
  EXPECT_EQ(DecodeAll("\xE0\x80\xAF"), (std::vector<char32_t>{R, R, R}));
  // Surrogate U+D800 (ED A0 80): ED needs 80..9F next.
  EXPECT_EQ(DecodeAll("\xED\xA0\x80"), (std::vector<char32_t>{R, R, R}));
  // U+110000 (F4 90 80 80): F4 needs 80..8F next.
  EXPECT_EQ(DecodeAll("\xF4\x90\x80\x80"), (std::vector<char32_t>{R, R, R, R}));
  // F5..FF never appear.
  EXPECT_EQ(DecodeAll("\xF5\xFF"), (std::vector<char32_t>{R, R}));
  // Truncated 4-byte sequence at the end: one U+FFFD for the 3 valid leading bytes.
  std::vector<size_t> lens;
  EXPECT_EQ(DecodeAll("\xF0\x9F\xA4", &lens), (std::vector<char32_t>{R}));
  EXPECT_EQ(lens, (std::vector<size_t>{3}));
  // Largest scalar values decode.
  EXPECT_EQ(DecodeAll("\xF4\x8F\xBF\xBF\xEF\xBF\xBF"), (std::vector<char32_t>{0x10FFFF, 0xFFFF}));
}

TEST(Utf8, EncodeRoundTripsEveryScalarValue) {
  std::string s;
  for (char32_t cp = 0; cp < 0x110000; ++cp) {
    if (cp >= 0xD800 && cp <= 0xDFFF) continue;
    s.clear();
    AppendUtf8(cp, &s);
    char32_t back;
    ASSERT_EQ(DecodeUtf8(s, 0, &back), s.size());
    ASSERT_EQ(back, cp);
  }
}

TEST(Utf8, RandomBytesNeverOverrun) {
  std::mt19937 rng(7);
  for (int iter = 0; iter < 2000; ++iter) {
    std::string s(rng() % 16, '\0');
    for (char& c : s) c = static_cast<char>(rng() & 0xFF);
    DecodeAll(s);  // bounds are checked inside
  }
}

TEST(Utf8, OffsetMapCountsUtf16UnitsAndCodePoints) {
  const std::string s = "a\xC3\xA9\xF0\x9F\xA4\x97\xFF" "b";  // a é 🤗 <invalid> b
  const Utf8OffsetMap m16(s, Utf8OffsetMap::Unit::kUtf16);
  const Utf8OffsetMap mcp(s, Utf8OffsetMap::Unit::kCodePoint);
  // byte:      0 1 3 7 8 9
  // utf16:     0 1 2 4 5 6
  // codepoint: 0 1 2 3 4 5
  const size_t bytes[] = {0, 1, 3, 7, 8, 9};
  const uint32_t u16[] = {0, 1, 2, 4, 5, 6};
  const uint32_t cps[] = {0, 1, 2, 3, 4, 5};
  for (int i = 0; i < 6; ++i) {
    EXPECT_EQ(m16.Convert(bytes[i]), u16[i]) << bytes[i];
    EXPECT_EQ(mcp.Convert(bytes[i]), cps[i]) << bytes[i];
  }
  EXPECT_EQ(m16.Convert(100), 6u);  // clamped
}

}  // namespace
}  // namespace edgebert
