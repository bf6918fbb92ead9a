// tokenizer_unit_test.cc: tokenizer behaviour on small hand-checked cases, errors, and seeded
// random inputs (bytes and Unicode) that must never crash and keep offsets in bounds and ordered.
#include <gtest/gtest.h>

#include <random>
#include <string>

#include "test_util.h"
#include "tokenizer/tokenizer.h"
#include "util/utf8.h"

namespace edgebert {
namespace {

using testing::FixturePath;
using testing::ReadFileOrFail;

const Tokenizer& Uncased() {
  static const Tokenizer* tok = [] {
    auto t = Tokenizer::FromTokenizerJson(ReadFileOrFail(FixturePath("vocab/uncased/tokenizer.json")));
    EXPECT_TRUE(t.ok()) << t.status().ToString();
    return new Tokenizer(std::move(t).value());
  }();
  return *tok;
}

std::vector<NormChar> Normalize(const BertNormalizerOptions& o, const std::string& text) {
  std::vector<NormChar> out;
  BertNormalizer(o).Normalize(text, 0, text.size(), &out);
  return out;
}

std::string Text(const std::vector<NormChar>& chars) {
  std::string s;
  for (const NormChar& c : chars) AppendUtf8(c.cp, &s);
  return s;
}

TEST(TokenizerNormalizer, TurkishDottedCapitalIExpandsWithTheSameAlignment) {
  // U+0130 lowercases to "i" + U+0307 (Rust char::to_lowercase); strip_accents then drops U+0307.
  BertNormalizerOptions keep;
  keep.strip_accents = false;
  auto out = Normalize(keep, "\xC4\xB0x");
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0].cp, U'i');
  EXPECT_EQ(out[1].cp, 0x307u);
  EXPECT_EQ(out[1].start, 0u);
  EXPECT_EQ(out[1].end, 2u);
  EXPECT_EQ(Text(Normalize(BertNormalizerOptions{}, "\xC4\xB0")), "i");
}

TEST(TokenizerNormalizer, GreekCapitalSigmaHasNoFinalForm) {
  // char::to_lowercase is context free: "ΣΑΣ" -> "σασ", not "σας".
  BertNormalizerOptions o;
  o.strip_accents = false;
  EXPECT_EQ(Text(Normalize(o, "\xCE\xA3\xCE\x91\xCE\xA3")), "\xCF\x83\xCE\xB1\xCF\x83");
}

TEST(TokenizerNormalizer, CleanTextDropsControlsNulAndReplacementAndInvalidBytes) {
  BertNormalizerOptions o;
  o.lowercase = false;
  const std::string text = std::string("a\0b", 3) + "\xEF\xBF\xBD" + "\x01\xFF" + "c\td";
  const auto out = Normalize(o, text);
  EXPECT_EQ(Text(out), "abc d");
  // Offsets of the kept characters index the original bytes.
  EXPECT_EQ(out[2].start, 8u);
}

TEST(TokenizerNormalizer, ChineseCharactersArePaddedAndKeepTheirOffsets) {
  const auto out = Normalize(BertNormalizerOptions{}, "a\xE4\xB8\xAD" "b");
  EXPECT_EQ(Text(out), "a \xE4\xB8\xAD b");
  for (size_t i = 1; i <= 3; ++i) {
    EXPECT_EQ(out[i].start, 1u);
    EXPECT_EQ(out[i].end, 4u);
  }
}

TEST(TokenizerEncode, SpecialTokensInTextAreMatchedBeforeNormalization) {
  auto enc = Uncased().Encode("a [MASK] b [mask]");
  ASSERT_TRUE(enc.ok());
  const int32_t mask = Uncased().TokenToId("[MASK]");
  ASSERT_GE(mask, 0);
  ASSERT_GE(enc->size(), 5u);
  EXPECT_EQ(enc->ids[2], mask);
  EXPECT_EQ(enc->offsets[2].start, 2u);
  EXPECT_EQ(enc->offsets[2].end, 8u);
  // Lowercase "[mask]" is ordinary text: "[", "mask", "]" pieces, not the special token.
  int count = 0;
  for (int32_t id : enc->ids) count += id == mask;
  EXPECT_EQ(count, 1);
}

TEST(TokenizerEncode, LongWordsBecomeOneUnknownToken) {
  const std::string word(101, 'a');
  auto enc = Uncased().Encode(word);
  ASSERT_TRUE(enc.ok());
  ASSERT_EQ(enc->size(), 3u);
  EXPECT_EQ(enc->ids[1], Uncased().TokenToId("[UNK]"));
  EXPECT_EQ(enc->offsets[1].end, 101u);
}

TEST(TokenizerEncode, RejectsBadTruncationSettingsWithClearErrors) {
  EncodeOptions o;
  o.truncation.enabled = true;
  o.truncation.max_length = 1;  // fewer than [CLS] and [SEP]
  auto r = Uncased().Encode("hello world", o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("special tokens"), std::string::npos);

  o.truncation.max_length = 6;
  o.truncation.stride = 4;  // 4 tokens left, stride must be < 4
  r = Uncased().Encode("one two three four five six seven eight", o);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("stride"), std::string::npos);

  o.truncation.stride = 0;
  o.truncation.strategy = TruncationStrategy::kOnlySecond;
  r = Uncased().Encode("one two three four five six seven eight", o);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("pair"), std::string::npos);
}

TEST(TokenizerLoad, UnsupportedComponentsAreNamed) {
  const std::string base = ReadFileOrFail(FixturePath("vocab/uncased/tokenizer.json"));
  auto replace = [&](const std::string& from, const std::string& to) {
    std::string s = base;
    const size_t at = s.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    if (at != std::string::npos) s.replace(at, from.size(), to);
    return s;
  };
  struct Case {
    std::string from, to, expect;
  } cases[] = {
      {"\"type\": \"BertNormalizer\"", "\"type\": \"NFKC\"", "normalizer type 'NFKC'"},
      {"\"type\": \"BertPreTokenizer\"", "\"type\": \"Whitespace\"", "pre_tokenizer 'Whitespace'"},
      {"\"type\": \"TemplateProcessing\"", "\"type\": \"RobertaProcessing\"", "post_processor type 'RobertaProcessing'"},
  };
  for (const Case& c : cases) {
    auto t = Tokenizer::FromTokenizerJson(replace(c.from, c.to));
    ASSERT_FALSE(t.ok()) << c.expect;
    EXPECT_EQ(t.status().code(), StatusCode::kUnsupported) << t.status().ToString();
    EXPECT_NE(t.status().message().find(c.expect), std::string::npos) << t.status().ToString();
  }
  auto bad = Tokenizer::FromTokenizerJson("{\"model\": 3}");
  EXPECT_FALSE(bad.ok());
  auto vocab = Tokenizer::FromVocabFiles("[PAD]\n[CLS]\n[SEP]\n", "", "");
  ASSERT_FALSE(vocab.ok());
  EXPECT_NE(vocab.status().message().find("[UNK]"), std::string::npos) << vocab.status().ToString();
}

// Checks the invariants every encoding must keep, whatever the input.
void CheckInvariants(const Encoding& e, std::string_view a, std::string_view b, const std::string& where) {
  const size_t n = e.size();
  ASSERT_EQ(e.type_ids.size(), n) << where;
  ASSERT_EQ(e.attention_mask.size(), n) << where;
  ASSERT_EQ(e.special_tokens_mask.size(), n) << where;
  ASSERT_EQ(e.offsets.size(), n) << where;
  ASSERT_EQ(e.word_ids.size(), n) << where;
  ASSERT_EQ(e.sequence_ids.size(), n) << where;
  uint32_t last_start[2] = {0, 0};
  for (size_t i = 0; i < n; ++i) {
    const int32_t s = e.sequence_ids[i];
    if (s < 0) {
      EXPECT_EQ(e.offsets[i].start, 0u) << where;
      continue;
    }
    const std::string_view text = s == 0 ? a : b;
    ASSERT_LE(e.offsets[i].start, e.offsets[i].end) << where << " token " << i;
    ASSERT_LE(e.offsets[i].end, text.size()) << where << " token " << i;
    ASSERT_GE(e.offsets[i].start, last_start[s]) << where << " token " << i;
    last_start[s] = e.offsets[i].start;
  }
  for (const Encoding& o : e.overflowing) CheckInvariants(o, a, b, where + " window");
}

std::string RandomUnicode(std::mt19937& rng, size_t n) {
  // Mostly interesting ranges: ASCII, Latin with marks, combining marks, CJK, Hangul, emoji,
  // controls and format characters, private use, unassigned astral.
  static const std::pair<char32_t, char32_t> ranges[] = {
      {0x00, 0x7F},     {0x80, 0x24F},    {0x300, 0x36F},   {0x370, 0x6FF},   {0x900, 0xE7F},
      {0x1100, 0x11FF}, {0x1E00, 0x1FFF}, {0x2000, 0x206F}, {0x3000, 0x30FF}, {0x4E00, 0x4FFF},
      {0xAC00, 0xAD00}, {0xFB00, 0xFFFF}, {0x10400, 0x1044F}, {0x1F300, 0x1FAFF}, {0xE0000, 0xE007F},
      {0xF0000, 0xF00FF}, {0x30000, 0x10FFFF}};
  std::string s;
  for (size_t i = 0; i < n; ++i) {
    const auto& r = ranges[rng() % (sizeof(ranges) / sizeof(ranges[0]))];
    char32_t cp = r.first + static_cast<char32_t>(rng() % (r.second - r.first + 1));
    if (cp >= 0xD800 && cp <= 0xDFFF) cp = 'x';
    if (rng() % 8 == 0) cp = ' ';
    AppendUtf8(cp, &s);
  }
  return s;
}

TEST(TokenizerFuzz, RandomBytesAndUnicodeNeverCrashAndKeepOffsetsInBounds) {
  std::mt19937 rng(20240611);
  const Tokenizer& tok = Uncased();
  auto cased = Tokenizer::FromTokenizerJson(ReadFileOrFail(FixturePath("vocab/cased/tokenizer.json")));
  ASSERT_TRUE(cased.ok());
  for (int iter = 0; iter < 10000; ++iter) {
    std::string a, b;
    if (iter % 2 == 0) {
      a.resize(rng() % 64);
      for (char& c : a) c = static_cast<char>(rng() & 0xFF);
      b.resize(rng() % 200);
      for (char& c : b) c = static_cast<char>(rng() & 0xFF);
    } else {
      a = RandomUnicode(rng, rng() % 32);
      b = RandomUnicode(rng, rng() % 150);
    }
    if (iter % 7 == 0) a += "[SEP]" + b.substr(0, b.size() / 2);
    EncodeOptions o;
    o.truncation.enabled = iter % 3 != 0;
    o.truncation.max_length = 8 + rng() % 40;
    o.truncation.stride = rng() % 4;
    o.truncation.strategy = static_cast<TruncationStrategy>(rng() % 3);
    o.padding.strategy = static_cast<PaddingStrategy>(rng() % 3);
    o.padding.max_length = o.truncation.max_length;
    const Tokenizer& t = iter % 4 == 1 ? *cased : tok;
    const std::string where = "iteration " + std::to_string(iter);
    auto single = t.Encode(a, o);
    if (single.ok()) {
      CheckInvariants(*single, a, "", where + " single");
    } else {
      // Only option errors are allowed (e.g. only_second on a single text).
      EXPECT_EQ(single.status().code(), StatusCode::kInvalidArgument) << single.status().ToString();
    }
    auto pair = t.EncodePair(a, b, o);
    if (pair.ok()) {
      CheckInvariants(*pair, a, b, where + " pair");
      Encoding u = *pair;
      ConvertOffsets(a, b, OffsetUnit::kUtf16, &u);
      ASSERT_EQ(u.size(), pair->size());
    } else {
      EXPECT_EQ(pair.status().code(), StatusCode::kInvalidArgument) << pair.status().ToString();
    }
    if (::testing::Test::HasFatalFailure()) return;
  }
}


// Without overflowing windows the result is exactly HF's first window (what the pipelines use),
// for every strategy, stride and both texts overflowing or not; and nothing else is allocated.
TEST(TokenizerEncode, FirstWindowOnlyEqualsTheFirstWindowOfTheFullResult) {
  const Tokenizer& tok = Uncased();
  const std::string a = "The quick brown fox jumps over the lazy dog near the riverbank today.";
  const std::string b = "Ein schneller Fuchs springt über den faulen Hund am Flussufer, heute.";
  int compared = 0;
  for (TruncationStrategy st :
       {TruncationStrategy::kLongestFirst, TruncationStrategy::kOnlyFirst, TruncationStrategy::kOnlySecond}) {
    for (size_t max_length : {size_t{12}, size_t{20}, size_t{40}, size_t{200}}) {
      for (size_t stride : {size_t{0}, size_t{2}}) {
        for (size_t cut : {a.size(), size_t{10}}) {
          EncodeOptions opt;
          opt.truncation = {true, max_length, stride, st};
          auto full = tok.EncodePair(a.substr(0, cut), b, opt);
          opt.truncation.return_overflowing = false;
          auto first = tok.EncodePair(a.substr(0, cut), b, opt);
          ASSERT_EQ(full.ok(), first.ok()) << max_length << " " << stride;
          if (!full.ok()) {
            EXPECT_EQ(full.status().message(), first.status().message());
            continue;
          }
          EXPECT_TRUE(first->overflowing.empty());
          EXPECT_EQ(first->TotalTokens(), first->size());
          EXPECT_EQ(first->ids, full->ids);
          EXPECT_EQ(first->type_ids, full->type_ids);
          EXPECT_EQ(first->offsets, full->offsets);
          EXPECT_EQ(first->word_ids, full->word_ids);
          EXPECT_EQ(first->sequence_ids, full->sequence_ids);
          EXPECT_EQ(first->special_tokens_mask, full->special_tokens_mask);
          EXPECT_EQ(first->attention_mask, full->attention_mask);
          ++compared;
        }
      }
    }
  }
  EXPECT_GE(compared, 30);
}

// Both texts overflowing: HF's 1 + p + q + 3pq windows, refused past kMaxPairOverflowTokens.
TEST(TokenizerEncode, PairWindowCombinationsAreBounded) {
  const Tokenizer& tok = Uncased();
  std::string a, b;
  for (int i = 0; i < 3000; ++i) a += "river town ";
  b = a;
  EncodeOptions opt;
  opt.truncation = {true, 16, 0, TruncationStrategy::kLongestFirst};
  auto r = tok.EncodePair(a, b, opt);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kOutOfRange);
  EXPECT_NE(r.status().message().find("every combination of their windows"), std::string::npos)
      << r.status().ToString();
  opt.truncation.return_overflowing = false;  // the first window only: fine at any length
  r = tok.EncodePair(a, b, opt);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->size(), 16u);
  // A small pair: every combination, as HF: 1 + p + q + 3pq encodings in all, nested.
  opt.truncation.return_overflowing = true;
  r = tok.EncodePair("river town river town river town", "river town river town river town", opt);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  size_t windows = 0;
  auto count = [&](const Encoding& e, auto&& self) -> void {
    ++windows;
    for (const Encoding& o : e.overflowing) self(o, self);
  };
  count(*r, count);
  // 14 tokens a side, 6 + 7 of them per window: p = 3 and q = 2 windows beyond the first, so
  // 1 + 3 + 2 + 3 * 3 * 2 = 24 (what tokenizers' Encoding.overflowing holds, recursively).
  EXPECT_EQ(windows, 24u);
  EXPECT_LE(r->TotalTokens(), 24u * 16);
}

}  // namespace
}  // namespace edgebert
