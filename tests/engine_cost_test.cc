// engine_cost_test.cc: every task's work and memory grow at most linearly with its input.
//
// Each test runs a task on an input and on the same input doubled, and compares the engine's own
// counts of what it did (Engine::last_work(): tokens in the encodings, encoder passes, QA span
// candidates and answer comparisons, values in the result), never wall-clock time. "Linear" here
// means the doubled input costs at most 2.2x (+ a small constant for the fixed parts).
#include <gtest/gtest.h>

#include <list>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "pipeline/engine.h"
#include "test_util.h"

namespace edgebert {
namespace {

using testing::FixturePath;
using testing::ReadFileOrFail;
using testing::ReadJsonFixture;

struct Checkpoint {
  std::list<std::string> bytes;
  std::unique_ptr<Engine> engine;
};

// A checkpoint of tests/fixtures/pipelines/models (the manifest names each file), fp32.
Engine* Load(const std::string& name) {
  static std::list<std::pair<std::string, Checkpoint>> cache;
  for (auto& [n, c] : cache) {
    if (n == name) return c.engine.get();
  }
  static const Json manifest = ReadJsonFixture("pipelines/models/manifest.json");
  const Json* entry = manifest.Find(name);
  EXPECT_TRUE(entry && entry->is_object()) << name;
  if (!entry) return nullptr;
  cache.emplace_back(name, Checkpoint());
  Checkpoint& c = cache.back().second;
  std::vector<std::pair<std::string, std::string_view>> files;
  for (const auto& kv : entry->as_object()) {
    c.bytes.push_back(ReadFileOrFail(FixturePath("pipelines/models/" + kv.second.as_string())));
    files.emplace_back(kv.first, c.bytes.back());
  }
  EngineOptions fp32;
  fp32.prefer_int8 = false;
  auto e = Engine::FromHfFiles(files, fp32);
  EXPECT_TRUE(e.ok()) << name << ": " << e.status().ToString();
  if (!e.ok()) return nullptr;
  c.engine = std::move(e).value();
  return c.engine.get();
}

std::string Repeat(const std::string& s, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += s;
  return out;
}

const char kSentence[] = "The Rhine flows north past Basel, Köln and Düsseldorf to the sea. ";

// Runs `task` with `request` (a JSON object text) and returns what the engine counted.
EngineWork Work(Engine* e, const char* task, const Json& request) {
  auto r = e->Run(task, request);
  EXPECT_TRUE(r.ok()) << task << ": " << r.status().ToString();
  return e->last_work();
}

Json Object(Json::Object o) { return Json::MakeObject(std::move(o)); }
Json Str(const std::string& s) { return Json::String(s); }
Json Num(double d) { return Json::Number(d); }

// `doubled` costs at most about twice `once`.
void ExpectLinear(size_t once, size_t doubled, const std::string& what, size_t slack = 4) {
  EXPECT_GT(once, 0u) << what;
  EXPECT_LE(doubled, once * 22 / 10 + slack) << what << ": " << once << " for the input, " << doubled
                                             << " for it doubled";
}

void ExpectAllLinear(const EngineWork& a, const EngineWork& b, const std::string& what) {
  ExpectLinear(a.encoded_tokens, b.encoded_tokens, what + " encoded tokens");
  ExpectLinear(a.windows, b.windows, what + " encoder passes");
  ExpectLinear(a.forwarded_tokens, b.forwarded_tokens, what + " forwarded tokens");
  ExpectLinear(a.result_values, b.result_values, what + " result values");
}

TEST(EngineCost, TextClassificationPairTruncationKeepsOneWindow) {
  Engine* e = Load("tc_single3");
  ASSERT_TRUE(e);
  // Both texts are far longer than the model's 128 positions: HF's tokenizer would build every
  // combination of both sides' overflowing windows; the pipeline (and we) use the first only.
  std::vector<EngineWork> work;
  for (int n : {20, 40}) {
    Json req = Object({{"text", Str(Repeat(kSentence, n))},
                       {"text_pair", Str(Repeat("Ein Satz über den Fluss und die Städte am Ufer. ", n))},
                       {"truncation", Json::Bool(true)}});
    work.push_back(Work(e, "text-classification", req));
    EXPECT_EQ(work.back().windows, 1u);
    EXPECT_EQ(work.back().encoded_tokens, 128u) << "only the first window is built";
  }
  ExpectAllLinear(work[0], work[1], "classification of a pair");
  // A single text too.
  work.clear();
  for (int n : {20, 40}) {
    work.push_back(Work(e, "text-classification",
                        Object({{"text", Str(Repeat(kSentence, n))}, {"truncation", Json::Bool(true)}})));
    EXPECT_EQ(work.back().encoded_tokens, 128u);
  }
  ExpectAllLinear(work[0], work[1], "classification of one text");
}

TEST(EngineCost, TokenizePairWithBothSidesOverflowingIsBounded) {
  Engine* e = Load("tc_single3");
  ASSERT_TRUE(e);
  // Small: every combination of windows, as HF returns them.
  Json small = Object({{"text", Str(Repeat(kSentence, 4))}, {"text_pair", Str(Repeat(kSentence, 4))},
                       {"truncation", Json::Bool(true)}, {"max_length", Num(32)}, {"stride", Num(4)}});
  auto r = e->Run("tokenize", small);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_TRUE(r->Find("overflowing"));
  // Large: refused with the reason instead of allocating the quadratic set of windows
  // (40 KB + 40 KB took 611 MB before).
  Json large = Object({{"text", Str(Repeat(kSentence, 600))}, {"text_pair", Str(Repeat(kSentence, 600))},
                       {"truncation", Json::Bool(true)}, {"max_length", Num(32)}, {"stride", Num(4)}});
  r = e->Run("tokenize", large);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kOutOfRange);
  EXPECT_NE(r.status().message().find("every combination of their windows"), std::string::npos)
      << r.status().ToString();
  EXPECT_NE(r.status().message().find("only_second"), std::string::npos) << r.status().ToString();
  // One side only overflowing stays linear and works at that size.
  Json one_side = Object({{"text", Str("Where?")}, {"text_pair", Str(Repeat(kSentence, 600))},
                          {"truncation", Str("only_second")}, {"max_length", Num(32)}, {"stride", Num(4)}});
  r = e->Run("tokenize", one_side);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
}

TEST(EngineCost, TokenClassificationWindowsGrowLinearly) {
  Engine* e = Load("ner_cased_w24");  // 24-token windows
  ASSERT_TRUE(e);
  std::vector<EngineWork> work;
  for (int n : {6, 12}) {
    work.push_back(Work(e, "token-classification",
                        Object({{"text", Str(Repeat(kSentence, n))},
                                {"aggregation_strategy", Str("simple")},
                                {"stride", Num(6)}})));
  }
  EXPECT_GT(work[0].windows, 3u);
  ExpectAllLinear(work[0], work[1], "token classification with stride");
  work.clear();
  for (int n : {6, 12}) {
    work.push_back(Work(e, "token-classification",
                        Object({{"text", Str(Repeat(kSentence, n))}, {"ignore_labels", Json::MakeArray({})},
                                {"truncation", Json::Bool(true)}})));
    EXPECT_EQ(work.back().windows, 1u);
  }
  ExpectAllLinear(work[0], work[1], "token classification truncated");
}

TEST(EngineCost, QuestionAnsweringWithHugeTopKIsLinear) {
  Engine* e = Load("qa");
  ASSERT_TRUE(e);
  // top_k far above the number of spans and a long max_answer_len: every span is an answer. The
  // merging of equal answers used to compare each new answer with all earlier ones (lowercasing
  // both): 4 KB of context took 66 s.
  std::vector<EngineWork> work;
  for (int n : {4, 8}) {
    work.push_back(Work(e, "question-answering",
                        Object({{"question", Str("Where does it flow?")}, {"context", Str(Repeat(kSentence, n))},
                                {"top_k", Num(1000000)}, {"max_answer_len", Num(30)},
                                {"max_seq_len", Num(64)}, {"doc_stride", Num(16)}})));
  }
  EXPECT_GT(work[0].windows, 2u);
  ExpectAllLinear(work[0], work[1], "question answering");
  ExpectLinear(work[0].qa.spans_examined, work[1].qa.spans_examined, "QA spans examined");
  ExpectLinear(work[0].qa.answers_kept, work[1].qa.answers_kept, "QA distinct answers");
  ExpectLinear(work[0].qa.dedup_probes, work[1].qa.dedup_probes, "QA answer comparisons");
  // The repeated sentence gives many equal answers: they were merged, each with a bounded number
  // of comparisons.
  EXPECT_LT(work[1].qa.answers_kept, work[1].qa.spans_examined);
  EXPECT_LE(work[1].qa.dedup_probes, 2 * work[1].qa.spans_examined);
}

TEST(EngineCost, FeatureExtractionTruncatedIsConstant) {
  Engine* e = Load("fe");
  ASSERT_TRUE(e);
  std::vector<EngineWork> work;
  for (int n : {20, 40}) {
    work.push_back(Work(e, "feature-extraction",
                        Object({{"text", Str(Repeat(kSentence, n))}, {"pooling", Str("mean")},
                                {"truncation", Json::Bool(true)}})));
    EXPECT_EQ(work.back().encoded_tokens, 128u);
  }
  ExpectAllLinear(work[0], work[1], "embeddings");
  work.clear();
  for (int n : {1, 2}) {  // pooling none: one vector per token, so the result doubles
    work.push_back(Work(e, "feature-extraction", Object({{"text", Str(Repeat(kSentence, n))}})));
  }
  ExpectAllLinear(work[0], work[1], "token embeddings");
}

TEST(EngineCost, FillMaskGrowsWithTheMasks) {
  Engine* e = Load("fm");
  ASSERT_TRUE(e);
  std::vector<EngineWork> work;
  for (int n : {3, 6}) {
    work.push_back(Work(e, "fill-mask",
                        Object({{"text", Str(Repeat("The [MASK] flows north past the town. ", n))},
                                {"top_k", Num(50)}})));
  }
  ExpectAllLinear(work[0], work[1], "fill-mask");
}

TEST(EngineCost, OptionRangesAreNamed) {
  Engine* e = Load("qa");
  ASSERT_TRUE(e);
  for (const char* bad : {"2147483648", "0", "1.5", "-1", "1e300"}) {
    auto r = e->Run("question-answering", *ParseJson(std::string(R"({"question": "Where?", "context": "Here.", "top_k": )") +
                                                     bad + "}"));
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_NE(r.status().message().find("option 'top_k' must be an integer between 1 and 1073741824, got "),
              std::string::npos)
        << r.status().ToString();
  }
  auto r = e->Run("question-answering", *ParseJson(R"({"question": "Where?", "context": "Here.", "top_k": 2147483648})"));
  EXPECT_NE(r.status().message().find("got 2147483648"), std::string::npos) << r.status().ToString();
}

}  // namespace
}  // namespace edgebert
