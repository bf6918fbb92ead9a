// engine_test.cc: the engine (tokenizer -> encoder -> head) behind the JSON interface: request
// validation, task routing, offsets units, and defined behaviour on edge inputs.
#include "pipeline/engine.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "test_util.h"

namespace edgebert {
namespace {

using testing::FixturePath;
using testing::ReadFileOrFail;

struct LoadedEngine {
  std::vector<std::string> storage;
  std::unique_ptr<Engine> engine;
};

// A checkpoint directory of tests/fixtures/models (config.json, model.safetensors, vocab files).
LoadedEngine LoadCheckpoint(const std::string& name, bool int8) {
  LoadedEngine out;
  const char* names[] = {"config.json", "model.safetensors", "vocab.txt", "tokenizer_config.json"};
  out.storage.reserve(4);
  std::vector<std::pair<std::string, std::string_view>> files;
  for (const char* n : names) {
    out.storage.push_back(ReadFileOrFail(FixturePath("models/" + name + "/" + n)));
    files.emplace_back(n, out.storage.back());
  }
  EngineOptions opt;
  opt.prefer_int8 = int8;
  auto e = Engine::FromHfFiles(files, opt);
  EXPECT_TRUE(e.ok()) << e.status().ToString();
  if (e.ok()) out.engine = std::move(e).value();
  return out;
}

Json Req(const std::string& text) {
  auto r = ParseJson(text);
  EXPECT_TRUE(r.ok()) << text;
  return r.ok() ? *r : Json();
}

TEST(Engine, InfoDescribesTheModel) {
  auto m = LoadCheckpoint("distilbert_seqcls", false);
  ASSERT_TRUE(m.engine);
  Json info = m.engine->Info();
  EXPECT_EQ(info.Find("model_type")->as_string(), "distilbert");
  EXPECT_EQ(info.Find("quantization")->as_string(), "fp32");
  ASSERT_EQ(info.Find("labels")->size(), 3u);
  EXPECT_EQ(info.Find("labels")->Find("2")->as_string(), "positive");
  bool has_cls = false;
  for (const Json& t : info.Find("tasks")->as_array()) has_cls = has_cls || t.as_string() == "text-classification";
  EXPECT_TRUE(has_cls);
}

TEST(Engine, ClassifiesTextsAndPairsWithProbabilities) {
  auto m = LoadCheckpoint("distilbert_seqcls", false);
  ASSERT_TRUE(m.engine);
  for (const char* req : {R"({"text": "a cat", "top_k": null})", R"({"text": "a", "text_pair": "b", "top_k": null})",
                          R"({"text": "", "top_k": null})"}) {
    auto r = m.engine->Run("text-classification", Req(req));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    ASSERT_EQ(r->size(), 3u);  // top_k null: every label
    double sum = 0;
    for (const Json& s : r->as_array()) sum += s.Find("score")->as_double();
    EXPECT_NEAR(sum, 1.0, 1e-5);  // softmax of a single-label model sums to 1 (fp32 rounding)
    EXPECT_GE((*r)[0].Find("score")->as_double(), (*r)[1].Find("score")->as_double());
  }
}

TEST(Engine, LongTextsAreOutOfRangeUnlessTruncated) {
  auto m = LoadCheckpoint("distilbert_seqcls", true);  // max_position_embeddings 24
  ASSERT_TRUE(m.engine);
  std::string text;
  for (int i = 0; i < 500; ++i) text += "paris london berlin ";
  auto r = m.engine->Run("text-classification", Req("{\"text\": \"" + text + "\"}"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kOutOfRange);
  EXPECT_NE(r.status().message().find("at most 24"), std::string::npos) << r.status().message();
  r = m.engine->Run("text-classification", Req("{\"text\": \"" + text + "\", \"truncation\": true}"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->size(), 1u);
}

TEST(Engine, AnswersFromWindowsWithOffsetsInTheRequestedUnit) {
  auto m = LoadCheckpoint("distilbert_qa", false);
  ASSERT_TRUE(m.engine);
  const std::string context = "Der Kölner Dom 😀 steht in Köln, and Paris is in France. Berlin is big.";
  // The same windows the QA request makes: at least three for this context.
  auto tok = m.engine->Run("tokenize", Req(std::string(R"({"text": "where?", "text_pair": ")") + context +
                                           R"(", "truncation": "only_second", "max_length": 20, "stride": 4})"));
  ASSERT_TRUE(tok.ok()) << tok.status().ToString();
  ASSERT_NE(tok->Find("overflowing"), nullptr);
  EXPECT_GE(tok->Find("overflowing")->size(), 2u);
  for (const char* unit : {"utf16", "byte", "codepoint"}) {
    auto r = m.engine->Run("question-answering",
                           Req(std::string(R"({"question": "where?", "context": ")") + context +
                               R"(", "top_k": 3, "max_seq_len": 20, "doc_stride": 4, "offset_unit": ")" + unit + "\"}"));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    ASSERT_GE(r->size(), 1u);
    for (const Json& a : r->as_array()) {
      int start = static_cast<int>(a.Find("start")->as_int());
      int end = static_cast<int>(a.Find("end")->as_int());
      ASSERT_LE(start, end);
      if (std::string(unit) == "byte") {
        // Byte offsets slice the UTF-8 context to exactly the answer.
        EXPECT_EQ(context.substr(start, end - start), a.Find("answer")->as_string());
      }
    }
  }
}

TEST(Engine, RejectsBadRequestsWithSpecificMessages) {
  auto m = LoadCheckpoint("distilbert_seqcls", false);
  ASSERT_TRUE(m.engine);
  struct Case {
    const char* task;
    const char* request;
    const char* message_part;
  } cases[] = {
      {"summarize", R"({"text": "x"})", "unknown task"},
      {"question-answering", R"({"question": "q", "context": "c"})", "cannot run"},
      {"text-classification", R"({})", "needs a string 'text'"},
      {"text-classification", R"({"text": 3})", "needs a string 'text'"},
      {"text-classification", R"({"text": "x", "top_k": 0})", "'top_k' must be an integer between 1 and 1073741824, got 0"},
      {"text-classification", R"({"text": "x", "top_k": "all"})", "must be an integer"},
      {"text-classification", R"({"text": "x", "function_to_apply": "tanh"})", "tanh"},
      {"text-classification", R"({"text": "x", "topK": 2})", "unknown option 'topK'"},
      {"tokenize", R"({"text": "x", "truncation": "middle"})", "truncation"},
      {"tokenize", R"({"text": "x", "offset_unit": "bits"})", "offset_unit"},
  };
  for (const Case& c : cases) {
    auto r = m.engine->Run(c.task, Req(c.request));
    ASSERT_FALSE(r.ok()) << c.task << " " << c.request;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << r.status().ToString();
    EXPECT_NE(r.status().message().find(c.message_part), std::string::npos)
        << c.request << " -> " << r.status().message();
  }
}

TEST(Engine, TokenizeReportsUtf16OffsetsThatSliceTheJsString) {
  auto m = LoadCheckpoint("distilbert_seqcls", false);
  ASSERT_TRUE(m.engine);
  // "😀" is one code point, two UTF-16 units, four bytes.
  auto r = m.engine->Run("tokenize", Req(R"({"text": "😀 paris"})"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const Json& offsets = *r->Find("offset_mapping");
  const Json& tokens = *r->Find("tokens");
  ASSERT_GE(offsets.size(), 3u);
  // The token after the emoji starts at UTF-16 index 3 ("😀" = 2 units, then a space).
  bool found = false;
  for (size_t i = 0; i < tokens.size(); ++i) {
    if (tokens[i].as_string() == "paris" || tokens[i].as_string() == "pa") {
      EXPECT_EQ(offsets[i][0].as_int(), 3);
      found = true;
    }
  }
  EXPECT_TRUE(found) << DumpJson(tokens);
}

}  // namespace
}  // namespace edgebert

namespace edgebert {
namespace {

// transformers applies tokenizer_config.json's model_max_length on top of tokenizer.json; so do we.
TEST(Engine, TokenizerConfigMaxLengthLimitsInputsWithTokenizerJson) {
  std::vector<std::string> storage;
  std::vector<std::pair<std::string, std::string_view>> files;
  auto manifest = testing::ReadJsonFixture("pipelines/models/manifest.json");
  const Json* ckpt = manifest.Find("tc_single3");
  ASSERT_NE(ckpt, nullptr);
  storage.reserve(ckpt->size());
  for (const auto& [name, rel] : ckpt->as_object()) {
    std::string bytes = ReadFileOrFail(FixturePath("pipelines/models/" + rel.as_string()));
    if (name == "tokenizer_config.json") {
      auto cfg = ParseJson(bytes);
      ASSERT_TRUE(cfg.ok());
      Json::Object o;
      for (const auto& kv : cfg->as_object()) {
        if (kv.first != "model_max_length") o.push_back(kv);
      }
      o.emplace_back("model_max_length", Json::Number(10));
      bytes = DumpJson(Json::MakeObject(std::move(o)));
    }
    storage.push_back(std::move(bytes));
    files.emplace_back(name, storage.back());
  }
  ASSERT_NE(ckpt->Find("tokenizer.json"), nullptr);
  auto e = Engine::FromHfFiles(files, EngineOptions{false});
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  auto r = (*e)->Run("text-classification", Req(R"({"text": "one two three four five six seven eight nine ten"})"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kOutOfRange);
  EXPECT_NE(r.status().message().find("at most 10"), std::string::npos) << r.status().message();
}

}  // namespace
}  // namespace edgebert
