// fuzz_regressions_test.cc: replays every input under tests/fuzz/regressions/<target>/ through its
// fuzz target (tests/fuzz/fuzz_targets.h), in every build: each input once crashed, hung or broke
// an invariant, and must now be handled (a bug aborts the run with the sanitizer's or the
// target's report). The fuzzers themselves: scripts/build.sh fuzz, scripts/fuzz.sh.
#include <dirent.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "fuzz/fuzz_targets.h"
#include "test_util.h"
#include "tokenizer/tokenizer.h"

namespace edgebert::fuzz {
namespace {

std::vector<std::string> ListFiles(const std::string& dir) {
  std::vector<std::string> files;
  if (DIR* d = opendir(dir.c_str())) {
    while (dirent* e = readdir(d)) {
      const std::string name = e->d_name;
      if (name.empty() || name[0] == '.' || name == "README.md") continue;
      files.push_back(dir + "/" + name);
    }
    closedir(d);
  }
  std::sort(files.begin(), files.end());
  return files;
}

TEST(FuzzRegressions, EveryInputIsHandled) {
  int replayed = 0;
  for (const FuzzTarget& t : FuzzTargets()) {
    for (const std::string& path : ListFiles(std::string(EDGEBERT_FUZZ_REGRESSIONS_DIR) + "/" + t.name)) {
      SCOPED_TRACE(path);
      const std::string bytes = testing::ReadFileOrFail(path);
      t.run(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
      ++replayed;
    }
  }
  std::printf("replayed %d fuzz regression inputs\n", replayed);
}

// Valid inputs run through the targets' invariant checks without tripping them.
TEST(FuzzRegressions, TargetsAcceptValidInputs) {
  const std::string json = R"({"a": [1, 2.5, -0.0, 1e300, "x\u00e9\ud83d\ude00", true, null, {}]})";
  FuzzJson(reinterpret_cast<const uint8_t*>(json.data()), json.size());
  // Tokenizer: fixture tokenizer.json 0, a pair, longest_first truncation to 8 with stride 2.
  std::string tok = std::string("\x14\x08\x02\x00\x00", 5) + "Hello world, caf\xc3\xa9!" + kPartSeparator + "A second text";
  FuzzTokenizer(reinterpret_cast<const uint8_t*>(tok.data()), tok.size());
}

// Found by tokenizer_fuzzer: truncation with a stride close to the room left, on a pair whose two
// texts both overflow, made one window per combination: 18 KB of text asked for ~2 million windows
// (1.3 GB and 13 s under ASan; out of memory in wasm). Now bounded by kMaxEncodingTokens.
TEST(FuzzRegressions, TruncationWindowsAreBounded) {
  auto tok = Tokenizer::FromTokenizerJson(testing::ReadFileOrFail(testing::FixturePath("tokenizer/tokenizer_uncased_added.json")));
  ASSERT_TRUE(tok.ok()) << tok.status().ToString();
  std::string a, b;
  for (int i = 0; i < 1500; ++i) a += "hello ", b += "world ";
  EncodeOptions o;
  o.truncation = {true, 8, 1, TruncationStrategy::kLongestFirst};
  auto enc = tok->EncodePair(a, b, o);
  ASSERT_FALSE(enc.ok());
  EXPECT_EQ(enc.status().code(), StatusCode::kOutOfRange) << enc.status().ToString();
  EXPECT_NE(enc.status().message().find("windows"), std::string::npos) << enc.status().ToString();
  // The same texts with a stride that keeps the windows few still encode (HF-exact behaviour).
  o.truncation = {true, 200, 0, TruncationStrategy::kLongestFirst};
  auto few = tok->EncodePair(a, b, o);
  ASSERT_TRUE(few.ok()) << few.status().ToString();
  EXPECT_GT(few->overflowing.size(), 1u);
}

// Found by tokenizer_fuzzer next: below the token bound, thousands x tens of windows of a pair (HF's merge
// nests them: ~3x as many encodings) took over 10 s; the number of windows is bounded too now.
TEST(FuzzRegressions, TruncationWindowCountIsBounded) {
  auto tok = Tokenizer::FromTokenizerJson(testing::ReadFileOrFail(testing::FixturePath("tokenizer/tokenizer_uncased_added.json")));
  ASSERT_TRUE(tok.ok()) << tok.status().ToString();
  std::string a, b;
  for (int i = 0; i < 350; ++i) a += "hello ";  // 1400 tokens with this vocabulary
  for (int i = 0; i < 12; ++i) b += "world ";   // 36 tokens: 1399 x 18 windows
  EncodeOptions o;
  o.truncation = {true, 8, 1, TruncationStrategy::kLongestFirst};
  auto enc = tok->EncodePair(a, b, o);
  ASSERT_FALSE(enc.ok());
  EXPECT_EQ(enc.status().code(), StatusCode::kOutOfRange) << enc.status().ToString();
  // One side overflowing (what question answering does) is far from the bound.
  o.truncation = {true, 100, 16, TruncationStrategy::kOnlyFirst};
  auto one = tok->EncodePair(a, "world", o);
  ASSERT_TRUE(one.ok()) << one.status().ToString();
  EXPECT_GT(one->overflowing.size(), 10u);
}

// Padding to a caller's max_length (eb_tokenizer_encode's pad_length, the tokenize task's
// max_length) allocated it blindly: 2^30 tokens is ~30 GB.
TEST(FuzzRegressions, PaddingIsBounded) {
  auto tok = Tokenizer::FromTokenizerJson(testing::ReadFileOrFail(testing::FixturePath("tokenizer/tokenizer_uncased_added.json")));
  ASSERT_TRUE(tok.ok()) << tok.status().ToString();
  EncodeOptions o;
  o.padding.strategy = PaddingStrategy::kMaxLength;
  o.padding.max_length = size_t{1} << 30;
  auto enc = tok->Encode("hello world", o);
  ASSERT_FALSE(enc.ok());
  EXPECT_EQ(enc.status().code(), StatusCode::kOutOfRange) << enc.status().ToString();
  o.padding.max_length = 512;
  auto ok = tok->Encode("hello world", o);
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->size(), 512u);
}

}  // namespace
}  // namespace edgebert::fuzz
