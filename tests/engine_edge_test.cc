// engine_edge_test.cc: the engine against transformers on edge inputs (tests/fixtures/pipelines/
// edge_cases.json, made by scripts/fixtures/make_edge_fixtures.py): clean_up_tokenization_spaces
// true / false / absent in fill-mask, an empty or blank second text, question answering on a
// context with no token.
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

// Scores: the engine's fp32 path against PyTorch's on the same fp16-exact weights (see
// engine_parity_test.cc: measured 9.7e-7, 1e-4 leaves ~100x margin).
constexpr double kScoreTolerance = 1e-4;

struct Checkpoint {
  std::list<std::string> bytes;
  std::unique_ptr<Engine> engine;
};

// Checkpoint `name` of tests/fixtures/pipelines/models, fp32, with tokenizer_config.json replaced
// by `tokenizer_config` (when given) or dropped (`drop_config`).
std::unique_ptr<Checkpoint> Load(const std::string& name, const Json* tokenizer_config = nullptr,
                                 bool drop_config = false) {
  static const Json manifest = ReadJsonFixture("pipelines/models/manifest.json");
  const Json* entry = manifest.Find(name);
  EXPECT_TRUE(entry && entry->is_object()) << name;
  if (!entry) return nullptr;
  auto c = std::make_unique<Checkpoint>();
  std::vector<std::pair<std::string, std::string_view>> files;
  for (const auto& kv : entry->as_object()) {
    if (kv.first == "tokenizer_config.json" && (tokenizer_config || drop_config)) continue;
    c->bytes.push_back(ReadFileOrFail(FixturePath("pipelines/models/" + kv.second.as_string())));
    files.emplace_back(kv.first, c->bytes.back());
  }
  if (tokenizer_config && !drop_config) {
    c->bytes.push_back(tokenizer_config->as_string());
    files.emplace_back("tokenizer_config.json", c->bytes.back());
  }
  EngineOptions fp32;
  fp32.prefer_int8 = false;
  auto e = Engine::FromHfFiles(files, fp32);
  EXPECT_TRUE(e.ok()) << name << ": " << e.status().ToString();
  if (!e.ok()) return nullptr;
  c->engine = std::move(e).value();
  return c;
}

Json Request(Json::Object base, const Json& options) {
  for (const auto& kv : options.as_object()) base.emplace_back(kv.first, kv.second);
  return Json::MakeObject(std::move(base));
}

TEST(EngineEdge, FillMaskHonoursCleanUpTokenizationSpaces) {
  Json fx = ReadJsonFixture("pipelines/edge_cases.json");
  int cleaned = 0, raw = 0;
  for (const Json& c : fx.Find("fill_mask")->as_array()) {
    const std::string setting = c.Find("clean_up_tokenization_spaces")->as_string();
    auto ckpt = Load(c.Find("checkpoint")->as_string(), c.Find("tokenizer_config.json"), c.Find("drop") != nullptr);
    ASSERT_TRUE(ckpt);
    auto r = ckpt->engine->Run("fill-mask", Request({{"text", *c.Find("text")}}, *c.Find("options")));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    // One mask: the engine gives a list per mask, transformers the list itself.
    ASSERT_EQ(r->size(), 1u);
    const Json& got = (*r)[0];
    const Json& expected = *c.Find("expected");
    ASSERT_EQ(got.size(), expected.size()) << setting;
    for (size_t i = 0; i < got.size(); ++i) {
      const std::string at = setting + " " + c.Find("text")->as_string() + " #" + std::to_string(i);
      EXPECT_EQ(got[i].Find("sequence")->as_string(), expected[i].Find("sequence")->as_string()) << at;
      EXPECT_EQ(got[i].Find("token_str")->as_string(), expected[i].Find("token_str")->as_string()) << at;
      EXPECT_EQ(got[i].Find("token")->as_int(), expected[i].Find("token")->as_int()) << at;
      EXPECT_NEAR(got[i].Find("score")->as_double(), expected[i].Find("score")->as_double(), kScoreTolerance) << at;
    }
    (setting == "true" ? cleaned : raw)++;
  }
  EXPECT_EQ(cleaned, 2);
  EXPECT_EQ(raw, 5);  // false, absent (two texts each) and no tokenizer_config.json at all
}

TEST(EngineEdge, CleanUpTokenizationSpacesMustBeABoolean) {
  Json bad = Json::String(R"({"clean_up_tokenization_spaces": "yes"})");
  static const Json manifest = ReadJsonFixture("pipelines/models/manifest.json");
  std::list<std::string> bytes;
  std::vector<std::pair<std::string, std::string_view>> files;
  for (const auto& kv : manifest.Find("fm")->as_object()) {
    if (kv.first == "tokenizer_config.json") continue;
    bytes.push_back(ReadFileOrFail(FixturePath("pipelines/models/" + kv.second.as_string())));
    files.emplace_back(kv.first, bytes.back());
  }
  files.emplace_back("tokenizer_config.json", bad.as_string());
  auto e = Engine::FromHfFiles(files);
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.status().message().find("clean_up_tokenization_spaces must be true or false, got \"yes\""),
            std::string::npos)
      << e.status().ToString();
}

TEST(EngineEdge, EmptySecondTextIsNoPair) {
  Json fx = ReadJsonFixture("pipelines/edge_cases.json");
  auto ckpt = Load("tc_single3");
  ASSERT_TRUE(ckpt);
  int empty = 0;
  for (const Json& c : fx.Find("text_pairs")->as_array()) {
    const std::string at = "text " + DumpJson(*c.Find("text")) + " pair " + DumpJson(*c.Find("text_pair"));
    Json req = Json::MakeObject({{"text", *c.Find("text")}, {"text_pair", *c.Find("text_pair")}});
    auto ids = ckpt->engine->Run("tokenize", req);
    ASSERT_TRUE(ids.ok()) << ids.status().ToString();
    EXPECT_EQ(DumpJson(*ids->Find("input_ids")), DumpJson(*c.Find("input_ids"))) << at;
    Json seq = *ids->Find("sequence_ids");
    Json::Array want;
    for (const Json& s : c.Find("sequence_ids")->as_array()) want.push_back(s.as_int() < 0 ? Json() : s);
    EXPECT_EQ(DumpJson(seq), DumpJson(Json::MakeArray(std::move(want)))) << at;

    Json creq = Json::MakeObject({{"text", *c.Find("text")}, {"text_pair", *c.Find("text_pair")}, {"top_k", Json()}});
    auto r = ckpt->engine->Run("text-classification", creq);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    const Json& expected = *c.Find("expected");
    ASSERT_EQ(r->size(), expected.size()) << at;
    for (size_t i = 0; i < r->size(); ++i) {
      EXPECT_EQ((*r)[i].Find("label")->as_string(), expected[i].Find("label")->as_string()) << at;
      EXPECT_NEAR((*r)[i].Find("score")->as_double(), expected[i].Find("score")->as_double(), kScoreTolerance) << at;
    }
    empty += c.Find("text_pair")->as_string().empty();
  }
  EXPECT_EQ(empty, 2);
}

TEST(EngineEdge, QuestionAnsweringWithoutAContextToken) {
  Json fx = ReadJsonFixture("pipelines/edge_cases.json");
  auto ckpt = Load("qa");
  ASSERT_TRUE(ckpt);
  int n = 0;
  for (const Json& c : fx.Find("qa_no_context_token")->as_array()) {
    const std::string at = DumpJson(*c.Find("context")) + " " + DumpJson(*c.Find("options"));
    auto r = ckpt->engine->Run("question-answering",
                               Request({{"question", *c.Find("question")}, {"context", *c.Find("context")}},
                                       *c.Find("options")));
    ASSERT_TRUE(r.ok()) << at << ": " << r.status().ToString();
    const Json& expected = *c.Find("expected");
    ASSERT_EQ(r->size(), expected.size()) << at << ": " << DumpJson(*r);
    for (size_t i = 0; i < r->size(); ++i) {
      EXPECT_EQ((*r)[i].Find("answer")->as_string(), expected[i].Find("answer")->as_string()) << at;
      EXPECT_EQ((*r)[i].Find("start")->as_int(), expected[i].Find("start")->as_int()) << at;
      EXPECT_EQ((*r)[i].Find("end")->as_int(), expected[i].Find("end")->as_int()) << at;
      EXPECT_NEAR((*r)[i].Find("score")->as_double(), expected[i].Find("score")->as_double(), kScoreTolerance) << at;
    }
    ++n;
  }
  EXPECT_EQ(n, 20);
}

}  // namespace
}  // namespace edgebert
