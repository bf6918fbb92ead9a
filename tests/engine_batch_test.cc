// engine_batch_test.cc: Engine::RunBatch. Many requests of one task run as padded batches sorted by
// length; each result must equal the request run alone (Engine::Run, one window per pass), for
// every task, both precisions, random and edge shapes (a batch of one, equal lengths, very different
// lengths, empty-ish texts, lengths on both sides of where batches are cut, windowed texts); a bad
// input fails the call naming it; binary tensors carry the same values as JSON.
//
// Tolerance: none. Padded keys get exactly zero attention weight (their scores are the lowest
// float, exp gives 0, and 0 * v adds nothing: tests/kernels_softmax_test.cc,
// kernels_sgemm_test.cc), and every other step (embeddings, int8 quantization per token, int32
// accumulation, LayerNorm, GELU, heads) works row by row, so a sequence's outputs are the same bits
// whatever it is batched with (as EncoderModel.PaddedBatchEqualsSingleSequences checks for the
// encoder). The looser bounds the other tests use for int8 (scores within 1e-4 of transformers in
// fp32, kScoreTolerance; int8 against fp32 probabilities within 0.04 and embedding cosines >= 0.998,
// tests/js/trained_models.test.mjs) would hide a real masking bug, so they are not used here.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <list>
#include <memory>
#include <random>
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

struct Loaded {
  std::list<std::string> bytes;
  std::unique_ptr<Engine> engine;
};

// A checkpoint of tests/fixtures/pipelines/models (the manifest names each file), int8 or fp32.
Engine* Load(const std::string& name, bool int8) {
  static std::list<std::pair<std::string, Loaded>> cache;
  const std::string key = name + (int8 ? "/int8" : "/fp32");
  for (auto& [n, l] : cache) {
    if (n == key) return l.engine.get();
  }
  static const Json manifest = ReadJsonFixture("pipelines/models/manifest.json");
  const Json* entry = manifest.Find(name);
  EXPECT_TRUE(entry && entry->is_object()) << name;
  if (!entry) return nullptr;
  cache.emplace_back(key, Loaded());
  Loaded& l = cache.back().second;
  std::vector<std::pair<std::string, std::string_view>> files;
  for (const auto& kv : entry->as_object()) {
    l.bytes.push_back(ReadFileOrFail(FixturePath("pipelines/models/" + kv.second.as_string())));
    files.emplace_back(kv.first, l.bytes.back());
  }
  EngineOptions options;
  options.prefer_int8 = int8;
  auto e = Engine::FromHfFiles(files, options);
  EXPECT_TRUE(e.ok()) << name << ": " << e.status().ToString();
  if (!e.ok()) return nullptr;
  l.engine = std::move(e).value();
  return l.engine.get();
}

// The search model edgebert ships (models/search-minilm-l3, int8, trained: real activations with
// outlier features, which the int8 path takes out per token).
Engine* LoadSearchModel() {
  static Loaded l;
  static bool tried = false;
  if (!tried) {
    tried = true;
    l.bytes.push_back(ReadFileOrFail(FixturePath("../../models/search-minilm-l3/model.ebm")));
    auto e = Engine::FromPacked(reinterpret_cast<const uint8_t*>(l.bytes.back().data()), l.bytes.back().size());
    EXPECT_TRUE(e.ok()) << e.status().ToString();
    if (e.ok()) l.engine = std::move(e).value();
  }
  return l.engine.get();
}

Json Str(const std::string& s) { return Json::String(s); }
Json Num(double d) { return Json::Number(d); }
Json Bool(bool b) { return Json::Bool(b); }

// Texts of `words` random words (seeded), some with punctuation, accents and numbers.
std::vector<std::string> RandomTexts(uint32_t seed, size_t n, int min_words, int max_words) {
  static const char* kWords[] = {"the",   "river", "flows",  "north", "past",   "Basel", "Köln",     "and",
                                 "Düsseldorf", "to", "sea",   "café",  "3.14",   "a",     "quick",    "brown",
                                 "fox",   "jumps", "over",   "lazy",  "dog",    ",",     ".",        "?",
                                 "Wolfgang", "lives", "in",  "Berlin", "naïve", "über",  "straße",   "42"};
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> len(min_words, max_words);
  std::uniform_int_distribution<size_t> word(0, sizeof(kWords) / sizeof(kWords[0]) - 1);
  std::vector<std::string> out;
  for (size_t i = 0; i < n; ++i) {
    std::string t;
    for (int w = len(rng); w > 0; --w) t += std::string(t.empty() ? "" : " ") + kWords[word(rng)];
    out.push_back(t);
  }
  return out;
}

std::vector<Json> TextRequests(const std::vector<std::string>& texts, const Json::Object& options) {
  std::vector<Json> out;
  for (const std::string& t : texts) {
    Json::Object o = {{"text", Str(t)}};
    o.insert(o.end(), options.begin(), options.end());
    out.push_back(Json::MakeObject(std::move(o)));
  }
  return out;
}

// RunBatch with each batch size equals Run request by request, bit for bit (DumpJson prints every
// number with enough digits to round-trip a double). Returns the work of the last batch run.
EngineWork ExpectBatchEqualsSingle(Engine* e, const std::string& task, const std::vector<Json>& requests,
                                   std::vector<int> batch_sizes = {1, 2, 3, 5, 8, 16, kMaxBatchSize}) {
  std::vector<std::string> alone;
  for (const Json& r : requests) {
    auto one = e->Run(task, r);
    EXPECT_TRUE(one.ok()) << task << " " << DumpJson(r) << ": " << one.status().ToString();
    alone.push_back(one.ok() ? DumpJson(*one) : "");
  }
  EngineWork work;
  for (int bs : batch_sizes) {
    BatchOptions o;
    o.batch_size = bs;
    auto batch = e->RunBatch(task, requests, o);
    EXPECT_TRUE(batch.ok()) << task << " batch_size " << bs << ": " << batch.status().ToString();
    if (!batch.ok()) continue;
    work = e->last_work();
    EXPECT_TRUE(batch->tensor_data.empty());
    EXPECT_EQ(batch->results.size(), requests.size());
    for (size_t i = 0; i < requests.size() && i < batch->results.size(); ++i) {
      EXPECT_EQ(DumpJson(batch->results[i]), alone[i]) << task << " batch_size " << bs << " input " << i << ": "
                                                       << DumpJson(requests[i]);
    }
    EXPECT_GE(work.passes, (work.windows + bs - 1) / bs) << "at most batch_size sequences a pass";
  }
  return work;
}

TEST(EngineBatch, TextClassificationRandomTexts) {
  for (bool int8 : {false, true}) {
    Engine* e = Load("tc_single3", int8);
    ASSERT_TRUE(e);
    auto texts = RandomTexts(1, 41, 0, 60);
    ExpectBatchEqualsSingle(e, "text-classification",
                            TextRequests(texts, {{"top_k", Json()}, {"truncation", Bool(true)}}));
    // Pairs.
    auto pairs = TextRequests(RandomTexts(2, 17, 1, 20), {{"top_k", Num(2)}});
    auto second = RandomTexts(3, 17, 0, 15);
    std::vector<Json> with_pair;
    for (size_t i = 0; i < pairs.size(); ++i) {
      Json::Object o = pairs[i].as_object();
      o.emplace_back("text_pair", Str(second[i]));
      with_pair.push_back(Json::MakeObject(std::move(o)));
    }
    ExpectBatchEqualsSingle(e, "text-classification", with_pair);
  }
}

// label_scores (eb_run_classify): the responses as label ids and float scores, equal to the JSON
// responses (names by id from Info()'s "labels", scores the same floats), and the same errors.
TEST(EngineBatch, TextClassificationLabelScoresEqualTheJson) {
  for (bool int8 : {false, true}) {
    Engine* e = Load("tc_single3", int8);
    ASSERT_TRUE(e);
    const Json info = e->Info();
    const Json* names = info.Find("labels");
    ASSERT_TRUE(names && names->is_object());
    for (const Json::Object& options : std::vector<Json::Object>{
             {}, {{"top_k", Json()}}, {{"top_k", Num(2)}, {"function_to_apply", Str("sigmoid")}},
             {{"top_k", Json()}, {"function_to_apply", Str("none")}, {"truncation", Bool(true)}}}) {
      auto requests = TextRequests(RandomTexts(21, 13, 0, 200), options);
      for (int bs : {1, 4, 8}) {
        BatchOptions o;
        o.batch_size = bs;
        auto json = e->RunBatch("text-classification", requests, o);
        o.label_scores = true;
        auto numbers = e->RunBatch("text-classification", requests, o);
        ASSERT_EQ(json.ok(), numbers.ok()) << json.status().ToString() << " / " << numbers.status().ToString();
        if (!json.ok()) {
          EXPECT_EQ(numbers.status().ToString(), json.status().ToString());
          continue;
        }
        ASSERT_EQ(numbers->labels.size(), requests.size());
        for (size_t i = 0; i < requests.size(); ++i) {
          EXPECT_TRUE(numbers->results[i].is_null());
          const Json::Array& want = json->results[i].as_array();
          const std::vector<LabelScore>& got = numbers->labels[i];
          ASSERT_EQ(got.size(), want.size()) << "input " << i;
          for (size_t k = 0; k < got.size(); ++k) {
            const Json* name = names->Find(std::to_string(got[k].label_id));
            ASSERT_TRUE(name) << "label id " << got[k].label_id;
            EXPECT_EQ(name->as_string(), want[k].Find("label")->as_string()) << "input " << i << " rank " << k;
            EXPECT_EQ(got[k].label, want[k].Find("label")->as_string());
            EXPECT_EQ(static_cast<double>(got[k].score), want[k].Find("score")->as_double()) << "input " << i << " rank " << k;
          }
        }
      }
    }
    // The same errors, naming the input.
    auto texts = RandomTexts(22, 3, 1, 5);
    texts[1] = RandomTexts(23, 1, 300, 300)[0];
    BatchOptions o;
    o.label_scores = true;
    auto r = e->RunBatch("text-classification", TextRequests(texts, {}), o);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().message().rfind("input 1: the input is ", 0), 0u) << r.status().message();
  }
}

TEST(EngineBatch, TokenClassificationRandomAndWindowedTexts) {
  for (bool int8 : {false, true}) {
    Engine* e = Load("ner_cased", int8);
    ASSERT_TRUE(e);
    for (const char* strategy : {"none", "simple", "first", "average", "max"}) {
      ExpectBatchEqualsSingle(e, "token-classification",
                              TextRequests(RandomTexts(4, 23, 0, 40), {{"aggregation_strategy", Str(strategy)},
                                                                       {"ignore_labels", Json::MakeArray({})}}),
                              {1, 4, 16});
    }
    // 24-token windows: long texts make several windows each, batched with the short ones.
    Engine* w = Load("ner_cased_w24", int8);
    ASSERT_TRUE(w);
    auto texts = RandomTexts(5, 9, 1, 80);
    texts.push_back("");
    ExpectBatchEqualsSingle(w, "token-classification",
                            TextRequests(texts, {{"aggregation_strategy", Str("simple")}, {"stride", Num(5)}}));
  }
}

TEST(EngineBatch, QuestionAnsweringWithWindows) {
  for (bool int8 : {false, true}) {
    Engine* e = Load("qa", int8);
    ASSERT_TRUE(e);
    auto questions = RandomTexts(6, 13, 1, 8);
    auto contexts = RandomTexts(7, 13, 0, 200);
    contexts[3] = " ";  // no context token
    std::vector<Json> requests;
    for (size_t i = 0; i < questions.size(); ++i) {
      Json::Object o = {{"question", Str(questions[i])}, {"context", Str(contexts[i])}, {"top_k", Num(3)}};
      if (i % 2) {  // short windows: several per long context
        o.emplace_back("max_seq_len", Num(48));
        o.emplace_back("doc_stride", Num(16));
      }
      if (i % 3 == 0) o.emplace_back("handle_impossible_answer", Bool(true));
      requests.push_back(Json::MakeObject(std::move(o)));
    }
    EngineWork work = ExpectBatchEqualsSingle(e, "question-answering", requests);
    EXPECT_GT(work.windows, requests.size());  // some contexts made several windows
  }
}

TEST(EngineBatch, FeatureExtractionPoolingsAndBinaryTensors) {
  for (bool int8 : {false, true}) {
    Engine* e = Load("fe", int8);
    ASSERT_TRUE(e);
    auto texts = RandomTexts(8, 29, 0, 50);
    for (const char* pooling : {"none", "mean", "cls"}) {
      for (bool normalize : {false, true}) {
        auto requests =
            TextRequests(texts, {{"pooling", Str(pooling)}, {"normalize", Bool(normalize)}, {"truncation", Bool(true)}});
        ExpectBatchEqualsSingle(e, "feature-extraction", requests, {1, 7, 32});
        // Binary: {"dims", "data_offset"} into one float array, the same values as the JSON numbers.
        BatchOptions o;
        o.binary_tensors = true;
        o.batch_size = 8;
        auto bin = e->RunBatch("feature-extraction", requests, o);
        ASSERT_TRUE(bin.ok()) << bin.status().ToString();
        size_t expect_offset = 0;
        for (size_t i = 0; i < requests.size(); ++i) {
          const Json& r = bin->results[i];
          ASSERT_EQ(r.Find("data"), nullptr);
          ASSERT_TRUE(r.Find("data_offset"));
          size_t count = 1;
          for (const Json& d : r.Find("dims")->as_array()) count *= static_cast<size_t>(d.as_int(0));
          const size_t offset = static_cast<size_t>(r.Find("data_offset")->as_int(-1));
          EXPECT_EQ(offset, expect_offset) << "results are laid out in input order, back to back";
          expect_offset = offset + count;
          ASSERT_LE(offset + count, bin->tensor_data.size());
          auto one = e->Run("feature-extraction", requests[i]);
          ASSERT_TRUE(one.ok());
          EXPECT_EQ(DumpJson(*one->Find("dims")), DumpJson(*r.Find("dims")));
          const Json& data = *one->Find("data");
          ASSERT_EQ(data.size(), count);
          for (size_t k = 0; k < count; ++k) {
            ASSERT_EQ(static_cast<float>(data[k].as_double()), bin->tensor_data[offset + k])
                << pooling << " input " << i << " value " << k;
          }
        }
        EXPECT_EQ(expect_offset, bin->tensor_data.size());
      }
    }
  }
}

TEST(EngineBatch, FillMaskOneAndSeveralMasks) {
  for (bool int8 : {false, true}) {
    Engine* e = Load("fm", int8);
    ASSERT_TRUE(e);
    auto texts = RandomTexts(9, 19, 0, 30);
    std::mt19937 rng(10);
    for (size_t i = 0; i < texts.size(); ++i) {
      for (size_t m = 0; m <= i % 3; ++m) {
        const size_t at = texts[i].empty() ? 0 : rng() % (texts[i].size() + 1);
        size_t cut = at;
        while (cut < texts[i].size() && (static_cast<unsigned char>(texts[i][cut]) & 0xC0) == 0x80) ++cut;  // UTF-8
        texts[i].insert(cut, " [MASK] ");
      }
    }
    ExpectBatchEqualsSingle(e, "fill-mask", TextRequests(texts, {{"top_k", Num(3)}}));
    ExpectBatchEqualsSingle(e, "fill-mask", TextRequests(texts, {{"targets", Json::MakeArray({Str("the"), Str("a")})}}),
                            {4});
    // Feature extraction on the masked LM: no vocabulary projection, same hidden states.
    ExpectBatchEqualsSingle(e, "feature-extraction", TextRequests(texts, {{"pooling", Str("mean")}}), {1, 8});
  }
}

TEST(EngineBatch, TokenizeRunsRequestByRequest) {
  Engine* e = Load("tc_single3", true);
  ASSERT_TRUE(e);
  EngineWork work = ExpectBatchEqualsSingle(e, "tokenize", TextRequests(RandomTexts(11, 7, 0, 20), {}), {1, 16});
  EXPECT_EQ(work.passes, 0u);
}

TEST(EngineBatch, EdgeShapes) {
  for (bool int8 : {false, true}) {
    Engine* e = Load("tc_single3", int8);
    ASSERT_TRUE(e);
    const Json::Object opt = {{"truncation", Bool(true)}};
    // A batch of one.
    EngineWork w = ExpectBatchEqualsSingle(e, "text-classification", TextRequests({"just one text"}, opt));
    EXPECT_EQ(w.passes, 1u);
    // Empty-ish texts: nothing, spaces, punctuation only, a control character, a zero-width space.
    ExpectBatchEqualsSingle(e, "text-classification",
                            TextRequests({"", " ", "   ", ".", "a", "\t\n", "\xE2\x80\x8B", "?!", "", "Köln"}, opt));
    // All the same length: one pass, no padding.
    std::vector<std::string> same;
    for (int i = 0; i < 12; ++i) same.push_back(std::string("word") + " the river flows north past");
    w = ExpectBatchEqualsSingle(e, "text-classification", TextRequests(same, opt), {16});
    EXPECT_EQ(w.passes, 1u);
    EXPECT_EQ(w.forwarded_tokens, w.encoded_tokens);
    // Very different lengths: 1 token of text against the model's full 128, never in one batch
    // (padding would be 50x the real tokens).
    std::vector<std::string> mixed = {"a", RandomTexts(12, 1, 300, 300)[0], "b", "", RandomTexts(13, 1, 60, 60)[0]};
    w = ExpectBatchEqualsSingle(e, "text-classification", TextRequests(mixed, opt), {16});
    EXPECT_GE(w.passes, 2u);
    EXPECT_LE(static_cast<double>(w.forwarded_tokens), kMaxBatchPadding * static_cast<double>(w.encoded_tokens));
  }
}

TEST(EngineBatch, LengthsOnBothSidesOfBatchEdges) {
  Engine* e = Load("tc_single3", true);
  ASSERT_TRUE(e);
  // Texts of 1..12 words, each length twice, in shuffled order; batch sizes that cut inside and
  // between groups of equal length.
  std::vector<std::string> texts;
  for (int words = 1; words <= 12; ++words) {
    for (int k = 0; k < 2; ++k) texts.push_back(RandomTexts(100 + words * 2 + k, 1, words, words)[0]);
  }
  std::shuffle(texts.begin(), texts.end(), std::mt19937(14));
  ExpectBatchEqualsSingle(e, "text-classification", TextRequests(texts, {}), {1, 2, 3, 4, 5, 6, 7, 23, 24, 25});
  // The token budget: 128-token texts, kMaxBatchTokens / 128 of them fill one pass exactly; one
  // more starts the next.
  const size_t full = static_cast<size_t>(kMaxBatchTokens) / 128;
  std::vector<std::string> long_texts(full + 1, RandomTexts(15, 1, 400, 400)[0]);
  BatchOptions o;
  o.batch_size = kMaxBatchSize;
  auto r = e->RunBatch("text-classification", TextRequests(long_texts, {{"truncation", Bool(true)}}), o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(e->last_work().passes, 2u);
  EXPECT_EQ(e->last_work().forwarded_tokens, (full + 1) * 128);
  for (const Json& res : r->results) EXPECT_EQ(DumpJson(res), DumpJson(r->results[0]));
}

TEST(EngineBatch, SearchModelSentences) {
  Engine* e = LoadSearchModel();
  ASSERT_TRUE(e);
  auto texts = RandomTexts(16, 48, 8, 20);
  ExpectBatchEqualsSingle(e, "feature-extraction",
                          TextRequests(texts, {{"pooling", Str("mean")}, {"normalize", Bool(true)},
                                               {"truncation", Bool(true)}}),
                          {1, 16, 64});
  ExpectBatchEqualsSingle(e, "feature-extraction", TextRequests(RandomTexts(17, 9, 0, 90), {}), {8});
}

TEST(EngineBatch, ABadInputFailsTheCallNamingIt) {
  Engine* e = Load("tc_single3", true);
  ASSERT_TRUE(e);
  auto texts = RandomTexts(18, 5, 1, 5);
  texts[2] = RandomTexts(19, 1, 300, 300)[0];  // longer than the model's 128 positions, no truncation
  auto r = e->RunBatch("text-classification", TextRequests(texts, {}));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kOutOfRange);
  EXPECT_EQ(r.status().message().rfind("input 2: the input is ", 0), 0u) << r.status().message();
  EXPECT_EQ(e->last_work().passes, 0u) << "nothing runs before every input is checked";
  // The caller's numbering (a JS call cut into several engine calls).
  BatchOptions o;
  o.first_index = 100;
  r = e->RunBatch("text-classification", TextRequests({texts[2]}, {}), o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message().rfind("input 100: ", 0), 0u) << r.status().message();
  // A single request keeps the message it always had.
  auto one = e->Run("text-classification", TextRequests({texts[2]}, {})[0]);
  ASSERT_FALSE(one.ok());
  EXPECT_EQ(one.status().message().rfind("the input is ", 0), 0u) << one.status().message();
  // Options and shapes.
  r = e->RunBatch("text-classification", {TextRequests({"x"}, {})[0], Num(3)});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "input 1: a request must be a JSON object");
  r = e->RunBatch("text-classification", TextRequests({"x", "y"}, {{"top_k", Num(0)}}));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message().rfind("input 0: option 'top_k' must be", 0), 0u) << r.status().message();
  r = e->RunBatch("text-classification", {});
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  for (int bs : {0, -1, kMaxBatchSize + 1}) {
    o = BatchOptions();
    o.batch_size = bs;
    r = e->RunBatch("text-classification", TextRequests({"x"}, {}), o);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.status().message().find("'batch_size' must be an integer between 1 and 256"), std::string::npos)
        << r.status().message();
  }
  r = e->RunBatch("question-answering", TextRequests({"x"}, {}));
  EXPECT_NE(r.status().message().find("cannot run 'question-answering'"), std::string::npos);
  // The engine keeps working.
  ExpectBatchEqualsSingle(e, "text-classification", TextRequests(RandomTexts(20, 6, 0, 9), {}), {4});
}

}  // namespace
}  // namespace edgebert
