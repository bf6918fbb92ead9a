// api_test.cc: the public C++ API (edgebert.h): every task on the fixture checkpoints gives the
// same results as the engine's JSON path (what the wasm ABI returns to JS), from a checkpoint
// directory, from bytes and from a packed .ebm file; bad input is a Status, never a crash.
#include "edgebert.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "model/packed.h"
#include "pipeline/engine.h"
#include "test_util.h"

namespace edgebert {
namespace {

using testing::FixturePath;
using testing::ReadFileOrFail;

std::string ModelDir(const std::string& name) { return FixturePath("models/" + name); }

// The checkpoint files of tests/fixtures/models/<name>, by file name.
std::vector<std::pair<std::string, std::string>> CheckpointFiles(const std::string& name) {
  std::vector<std::pair<std::string, std::string>> files;
  for (const char* f : {"config.json", "model.safetensors", "vocab.txt", "tokenizer_config.json"}) {
    files.emplace_back(f, ReadFileOrFail(ModelDir(name) + "/" + f));
  }
  return files;
}

// The reference: the engine itself, loaded from the same files, driven with JSON.
struct Reference {
  std::vector<std::pair<std::string, std::string>> files;
  std::unique_ptr<Engine> engine;

  Reference(const std::string& name, bool int8) : files(CheckpointFiles(name)) {
    std::vector<std::pair<std::string, std::string_view>> views(files.begin(), files.end());
    EngineOptions opt;
    opt.prefer_int8 = int8;
    auto e = Engine::FromHfFiles(views, opt);
    EXPECT_TRUE(e.ok()) << e.status().ToString();
    if (e.ok()) engine = std::move(e).value();
  }

  Json Run(const std::string& task, const std::string& request) {
    auto req = ParseJson(request);
    EXPECT_TRUE(req.ok()) << request;
    auto out = engine->Run(task, *req);
    EXPECT_TRUE(out.ok()) << task << " " << request << ": " << out.status().ToString();
    return out.ok() ? *out : Json();
  }
};

Pipeline LoadOrDie(const std::string& path, Quantization q = Quantization::kInt8) {
  LoadOptions opt;
  opt.quantization = q;
  auto p = Pipeline::Load(path, opt);
  EXPECT_TRUE(p.ok()) << path << ": " << p.status().ToString();
  if (!p.ok()) std::abort();
  return std::move(p).value();
}

// A temporary directory, removed with its files at the end of the test.
class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/edgebert_api_test_XXXXXX";
    path_ = mkdtemp(tmpl) ? tmpl : "";
    EXPECT_FALSE(path_.empty());
  }
  ~TempDir() {
    for (const std::string& f : files_) std::remove(f.c_str());
    rmdir(path_.c_str());
  }
  std::string Write(const std::string& name, const std::string& bytes) {
    std::string p = path_ + "/" + name;
    std::ofstream(p, std::ios::binary) << bytes;
    files_.push_back(p);
    return p;
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::vector<std::string> files_;
};

// A text with accents, CJK and an emoji, so that byte, UTF-16 and code-point offsets all differ.
const char kText[] = "Zoë met José in São Paulo 東京 🙂";

// Version() is the version find_package(edgebert) checks (CMakeLists.txt project()).
TEST(PublicApi, VersionIsThePackageVersion) { EXPECT_STREQ(Version(), EDGEBERT_PROJECT_VERSION); }

TEST(PublicApi, InfoDescribesTheModel) {
  Pipeline p = LoadOrDie(ModelDir("distilbert_seqcls"), Quantization::kFp32);
  const ModelInfo& info = p.Info();
  EXPECT_EQ(info.model_type, "distilbert");
  EXPECT_EQ(info.architecture, "DistilBertForSequenceClassification");
  EXPECT_EQ(info.head, "sequence classification");
  EXPECT_EQ(info.labels, (std::vector<std::string>{"negative", "neutral", "positive"}));
  EXPECT_EQ(info.max_position_embeddings, 24);
  EXPECT_EQ(info.quantization, Quantization::kFp32);
  EXPECT_NE(std::find(info.tasks.begin(), info.tasks.end(), "text-classification"), info.tasks.end());
  EXPECT_EQ(LoadOrDie(ModelDir("distilbert_seqcls")).Info().quantization, Quantization::kInt8);
}

TEST(PublicApi, TextClassificationEqualsTheEngine) {
  for (Quantization q : {Quantization::kFp32, Quantization::kInt8}) {
    Pipeline p = LoadOrDie(ModelDir("bert_seqcls"), q);
    Reference ref("bert_seqcls", q == Quantization::kInt8);
    TextClassificationRequest r;
    r.text = "a cat and a dog";
    auto one = p.ClassifyText(r);  // defaults: top_k 1, function default
    ASSERT_TRUE(one.ok()) << one.status().ToString();
    Json want = ref.Run("text-classification", R"({"text": "a cat and a dog"})");
    ASSERT_EQ(one->size(), 1u);
    EXPECT_EQ((*one)[0].label, want[0].Find("label")->as_string());
    EXPECT_EQ((*one)[0].score, static_cast<float>(want[0].Find("score")->as_double()));

    r.text_pair = "the dog";
    r.top_k = std::nullopt;
    r.function_to_apply = ScoreFunction::kNone;
    auto all = p.ClassifyText(r);
    ASSERT_TRUE(all.ok()) << all.status().ToString();
    want = ref.Run("text-classification",
                   R"({"text": "a cat and a dog", "text_pair": "the dog", "top_k": null, "function_to_apply": "none"})");
    ASSERT_EQ(all->size(), want.size());
    ASSERT_EQ(all->size(), p.Info().labels.size());  // every label
    ASSERT_GE(all->size(), 2u);
    for (size_t i = 0; i < all->size(); ++i) {
      EXPECT_EQ((*all)[i].label, want[i].Find("label")->as_string());
      EXPECT_EQ((*all)[i].score, static_cast<float>(want[i].Find("score")->as_double()));
    }
  }
}

TEST(PublicApi, TokenClassificationEqualsTheEngineWithByteOffsets) {
  Pipeline p = LoadOrDie(ModelDir("distilbert_tokcls_sinusoidal"));
  Reference ref("distilbert_tokcls_sinusoidal", true);
  const std::string text = kText;
  for (Aggregation a :
       {Aggregation::kNone, Aggregation::kSimple, Aggregation::kFirst, Aggregation::kAverage, Aggregation::kMax}) {
    TokenClassificationRequest r;
    r.text = text;
    r.aggregation_strategy = a;
    r.ignore_labels = {};
    auto spans = p.ClassifyTokens(r);
    ASSERT_TRUE(spans.ok()) << AggregationName(a) << ": " << spans.status().ToString();
    Json want = ref.Run("token-classification", std::string(R"({"text": ")") + text +
                                                    R"(", "ignore_labels": [], "offset_unit": "byte",
                                                    "aggregation_strategy": ")" +
                                                    AggregationName(a) + "\"}");
    ASSERT_EQ(spans->size(), want.size()) << AggregationName(a);
    ASSERT_GT(spans->size(), 0u);
    for (size_t i = 0; i < spans->size(); ++i) {
      const EntitySpan& e = (*spans)[i];
      const Json& w = want[i];
      EXPECT_EQ(e.entity, w.Find(a == Aggregation::kNone ? "entity" : "entity_group")->as_string());
      EXPECT_EQ(e.score, static_cast<float>(w.Find("score")->as_double()));
      EXPECT_EQ(e.index, a == Aggregation::kNone ? w.Find("index")->as_int() : -1);
      EXPECT_EQ(e.word, w.Find("word")->as_string());
      EXPECT_EQ(e.start, static_cast<size_t>(w.Find("start")->as_int()));
      EXPECT_EQ(e.end, static_cast<size_t>(w.Find("end")->as_int()));
      ASSERT_LE(e.start, e.end);
      ASSERT_LE(e.end, text.size());
    }
  }
  // Byte offsets: "Paulo" starts at byte 23 (ë, é, ã take two bytes each; it is code point and
  // UTF-16 index 20), and every offset falls on a UTF-8 character boundary.
  TokenClassificationRequest r;
  r.text = text;
  r.ignore_labels = {};
  auto spans = p.ClassifyTokens(r);
  ASSERT_TRUE(spans.ok());
  bool paulo = false;
  for (const EntitySpan& e : *spans) {
    paulo = paulo || e.start == 23;
    for (size_t off : {e.start, e.end}) {
      ASSERT_TRUE(off == text.size() || (static_cast<unsigned char>(text[off]) & 0xC0) != 0x80)
          << "offset " << off << " is inside a UTF-8 character";
    }
  }
  EXPECT_TRUE(paulo) << "no token starts at byte 23";
}

// Invalid UTF-8 reaches the tokenizer as bytes (one U+FFFD per maximal subpart, as TextDecoder):
// defined results with offsets into the caller's bytes. (RunJson refuses it: JSON must be UTF-8.)
TEST(PublicApi, InvalidUtf8TextsGiveOffsetsIntoTheBytes) {
  Pipeline p = LoadOrDie(ModelDir("distilbert_tokcls_sinusoidal"));
  TokenClassificationRequest r;
  r.text = "ab\xff\xc3 cd \xe6\x9d Zo\xc3\xab";
  r.ignore_labels = {};
  auto spans = p.ClassifyTokens(r);
  ASSERT_TRUE(spans.ok()) << spans.status().ToString();
  ASSERT_FALSE(spans->empty());
  for (const EntitySpan& e : *spans) {
    ASSERT_LE(e.start, e.end);
    ASSERT_LE(e.end, r.text.size());
  }
  EXPECT_EQ(spans->back().end, r.text.size());  // "Zoë" ends the text
  auto json = p.RunJson("token-classification", "{\"text\": \"a\xff\"}");
  EXPECT_EQ(json.status().code(), StatusCode::kCorruptData) << json.status().ToString();
}

TEST(PublicApi, TokenClassificationWindowsLongTexts) {
  Pipeline p = LoadOrDie(ModelDir("distilbert_tokcls_sinusoidal"));  // 24 positions
  Reference ref("distilbert_tokcls_sinusoidal", true);
  std::string text;
  for (int i = 0; i < 12; ++i) text += "Zoë met José in São Paulo. ";
  TokenClassificationRequest r;
  r.text = text;
  auto too_long = p.ClassifyTokens(r);
  EXPECT_EQ(too_long.status().code(), StatusCode::kOutOfRange) << too_long.status().ToString();
  r.stride = 4;
  auto no_strategy = p.ClassifyTokens(r);
  EXPECT_EQ(no_strategy.status().code(), StatusCode::kInvalidArgument) << no_strategy.status().ToString();
  r.aggregation_strategy = Aggregation::kMax;
  r.ignore_labels = {};
  auto spans = p.ClassifyTokens(r);
  ASSERT_TRUE(spans.ok()) << spans.status().ToString();
  Json want = ref.Run("token-classification", R"({"text": ")" + text +
                                                  R"(", "aggregation_strategy": "max", "ignore_labels": [],
                                                  "stride": 4, "offset_unit": "byte"})");
  ASSERT_EQ(spans->size(), want.size());
  EXPECT_GT(spans->back().end, 200u);  // the last window reached the end of the text
  for (size_t i = 0; i < spans->size(); ++i) {
    EXPECT_EQ((*spans)[i].start, static_cast<size_t>(want[i].Find("start")->as_int()));
    EXPECT_EQ((*spans)[i].score, static_cast<float>(want[i].Find("score")->as_double()));
  }
}

TEST(PublicApi, QuestionAnsweringEqualsTheEngine) {
  Pipeline p = LoadOrDie(ModelDir("distilbert_qa"), Quantization::kFp32);
  Reference ref("distilbert_qa", false);
  QuestionAnsweringRequest r;
  r.question = "Where did Zoë go?";
  r.context = "Zoë Saldaña went to São Paulo and then to 東京 with the dog. José stayed in the city of paris.";
  r.top_k = 3;
  r.max_answer_len = 6;
  r.handle_impossible_answer = true;
  auto answers = p.AnswerQuestion(r);
  ASSERT_TRUE(answers.ok()) << answers.status().ToString();
  // The context is longer than one 24-token window: the engine's default doc_stride applies.
  Json want = ref.Run("question-answering", R"({"question": ")" + r.question + R"(", "context": ")" + r.context +
                                                R"(", "top_k": 3, "max_answer_len": 6,
                                                "handle_impossible_answer": true, "offset_unit": "byte"})");
  ASSERT_EQ(answers->size(), want.size());
  ASSERT_EQ(answers->size(), 3u);
  for (size_t i = 0; i < answers->size(); ++i) {
    const AnswerSpan& a = (*answers)[i];
    EXPECT_EQ(a.score, want[i].Find("score")->as_double());
    EXPECT_EQ(a.start, static_cast<size_t>(want[i].Find("start")->as_int()));
    EXPECT_EQ(a.end, static_cast<size_t>(want[i].Find("end")->as_int()));
    EXPECT_EQ(a.answer, want[i].Find("answer")->as_string());
    EXPECT_EQ(r.context.substr(a.start, a.end - a.start), a.answer);  // byte offsets
  }
  r.doc_stride = 2;
  r.max_seq_len = 20;
  auto windowed = p.AnswerQuestion(r);
  ASSERT_TRUE(windowed.ok()) << windowed.status().ToString();
  want = ref.Run("question-answering", R"({"question": ")" + r.question + R"(", "context": ")" + r.context +
                                           R"(", "top_k": 3, "max_answer_len": 6, "doc_stride": 2, "max_seq_len": 20,
                                           "handle_impossible_answer": true, "offset_unit": "byte"})");
  ASSERT_EQ(windowed->size(), want.size());
  for (size_t i = 0; i < windowed->size(); ++i) {
    EXPECT_EQ((*windowed)[i].score, want[i].Find("score")->as_double());
    EXPECT_EQ((*windowed)[i].answer, want[i].Find("answer")->as_string());
  }
}

// The transformers QuestionAnsweringPipeline's own answers (tests/fixtures/pipelines, recorded by
// scripts/fixtures/make_pipeline_fixtures.py) through the typed API in fp32: the same answers and
// spans (Python's code-point offsets, from ours in bytes), scores within engine_parity_test's 1e-4.
TEST(PublicApi, QuestionAnsweringMatchesTheTransformersFixtures) {
  const Json manifest = testing::ReadJsonFixture("pipelines/models/manifest.json");
  const Json fx = testing::ReadJsonFixture("pipelines/question_answering.json");
  std::map<std::string, std::unique_ptr<Pipeline>> models;
  int checked = 0;
  for (const Json& c : fx.Find("cases")->as_array()) {
    const std::string name = c.Find("name")->as_string();
    if (name == "whitespace_context") continue;  // a documented difference (engine_parity_test.cc)
    const std::string ckpt = c.Find("checkpoint")->as_string();
    if (!models.count(ckpt)) {
      std::vector<std::pair<std::string, std::string>> files;
      for (const auto& kv : manifest.Find(ckpt)->as_object()) {
        files.emplace_back(kv.first, ReadFileOrFail(FixturePath("pipelines/models/" + kv.second.as_string())));
      }
      LoadOptions fp32;
      fp32.quantization = Quantization::kFp32;
      auto p = Pipeline::FromHuggingFaceFiles(files, fp32);
      ASSERT_TRUE(p.ok()) << ckpt << ": " << p.status().ToString();
      models[ckpt] = std::make_unique<Pipeline>(std::move(p).value());
    }
    QuestionAnsweringRequest r{c.Find("question")->as_string(), c.Find("context")->as_string()};
    for (const auto& [key, v] : c.Find("options")->as_object()) {
      if (key == "top_k") r.top_k = static_cast<int>(v.as_int());
      else if (key == "doc_stride") r.doc_stride = static_cast<int>(v.as_int());
      else if (key == "max_seq_len") r.max_seq_len = static_cast<int>(v.as_int());
      else if (key == "max_answer_len") r.max_answer_len = static_cast<int>(v.as_int());
      else if (key == "max_question_len") r.max_question_len = static_cast<int>(v.as_int());
      else if (key == "handle_impossible_answer") r.handle_impossible_answer = v.as_bool();
      else if (key == "align_to_words") r.align_to_words = v.as_bool();
      else FAIL() << name << ": unknown option " << key;
    }
    auto answers = models[ckpt]->AnswerQuestion(r);
    ASSERT_TRUE(answers.ok()) << name << ": " << answers.status().ToString();
    const Json& expected = *c.Find("expected");
    ASSERT_EQ(answers->size(), expected.size()) << name;
    auto code_points = [&](size_t byte) {  // Python's str index of a byte offset into the context
      size_t n = 0;
      for (size_t i = 0; i < byte; ++i) n += (static_cast<unsigned char>(r.context[i]) & 0xC0) != 0x80;
      return static_cast<int64_t>(n);
    };
    for (size_t i = 0; i < answers->size(); ++i) {
      const AnswerSpan& a = (*answers)[i];
      EXPECT_EQ(a.answer, expected[i].Find("answer")->as_string()) << name << " #" << i;
      EXPECT_EQ(code_points(a.start), expected[i].Find("start")->as_int()) << name << " #" << i;
      EXPECT_EQ(code_points(a.end), expected[i].Find("end")->as_int()) << name << " #" << i;
      EXPECT_NEAR(a.score, expected[i].Find("score")->as_double(), 1e-4) << name << " #" << i;
      EXPECT_EQ(r.context.substr(a.start, a.end - a.start), a.answer) << name << " #" << i;
    }
    ++checked;
  }
  EXPECT_EQ(checked, 21);
}

TEST(PublicApi, FeatureExtractionEqualsTheEngine) {
  Pipeline p = LoadOrDie(ModelDir("distilbert_base"));
  Reference ref("distilbert_base", true);
  const std::string text = "the dog of paris";
  struct Case {
    PoolingMode pooling;
    bool normalize;
    const char* request;
  } cases[] = {
      {PoolingMode::kNone, false, R"({"text": "the dog of paris"})"},
      {PoolingMode::kNone, true, R"({"text": "the dog of paris", "normalize": true})"},
      {PoolingMode::kMean, true, R"({"text": "the dog of paris", "pooling": "mean", "normalize": true})"},
      {PoolingMode::kCls, false, R"({"text": "the dog of paris", "pooling": "cls"})"},
  };
  for (const Case& c : cases) {
    FeatureExtractionRequest r;
    r.text = text;
    r.pooling = c.pooling;
    r.normalize = c.normalize;
    auto t = p.ExtractFeatures(r);
    ASSERT_TRUE(t.ok()) << t.status().ToString();
    Json want = ref.Run("feature-extraction", c.request);
    std::vector<size_t> dims;
    for (const Json& d : want.Find("dims")->as_array()) dims.push_back(static_cast<size_t>(d.as_int()));
    EXPECT_EQ(t->dims, dims) << c.request;
    ASSERT_EQ(t->data.size(), want.Find("data")->size());
    for (size_t i = 0; i < t->data.size(); ++i) {
      ASSERT_EQ(t->data[i], static_cast<float>((*want.Find("data"))[i].as_double())) << c.request << " at " << i;
    }
  }
  // The sentence-transformers preset is mean pooling + normalize + truncation.
  auto s = p.ExtractFeatures(FeatureExtractionRequest::SentenceEmbedding(text));
  ASSERT_TRUE(s.ok());
  Json want = ref.Run("feature-extraction",
                      R"({"text": "the dog of paris", "pooling": "mean", "normalize": true, "truncation": true})");
  ASSERT_EQ(s->dims, (std::vector<size_t>{1, 32}));
  for (size_t i = 0; i < s->data.size(); ++i) {
    EXPECT_EQ(s->data[i], static_cast<float>((*want.Find("data"))[i].as_double()));
  }
}

TEST(PublicApi, FillMaskEqualsTheEngine) {
  Pipeline p = LoadOrDie(ModelDir("distilbert_mlm"));
  Reference ref("distilbert_mlm", true);
  FillMaskRequest r;
  r.text = "the [MASK] of paris is a [MASK].";
  r.top_k = 3;
  auto masks = p.FillMask(r);
  ASSERT_TRUE(masks.ok()) << masks.status().ToString();
  Json want = ref.Run("fill-mask", R"({"text": "the [MASK] of paris is a [MASK].", "top_k": 3})");
  ASSERT_EQ(masks->size(), 2u);
  for (size_t m = 0; m < 2; ++m) {
    ASSERT_EQ((*masks)[m].size(), 3u);
    for (size_t i = 0; i < 3; ++i) {
      const MaskPrediction& got = (*masks)[m][i];
      const Json& w = want[m][i];
      EXPECT_EQ(got.score, static_cast<float>(w.Find("score")->as_double()));
      EXPECT_EQ(got.token, w.Find("token")->as_int());
      EXPECT_EQ(got.token_str, w.Find("token_str")->as_string());
      EXPECT_EQ(got.sequence, w.Find("sequence")->as_string());
    }
  }
  r.targets = {"dog", "city"};
  r.top_k = 5;
  auto targeted = p.FillMask(r);
  ASSERT_TRUE(targeted.ok()) << targeted.status().ToString();
  for (const auto& candidates : *targeted) {
    ASSERT_EQ(candidates.size(), 2u);  // only the targets
    for (const MaskPrediction& c : candidates) EXPECT_TRUE(c.token_str == "dog" || c.token_str == "city");
  }
}

TEST(PublicApi, RunJsonIsTheWasmAbisJson) {
  Pipeline p = LoadOrDie(ModelDir("distilbert_tokcls_sinusoidal"));
  Reference ref("distilbert_tokcls_sinusoidal", true);
  const std::string request = std::string(R"({"text": ")") + kText + R"(", "aggregation_strategy": "first"})";
  auto out = p.RunJson("token-classification", request);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(*out, DumpJson(ref.Run("token-classification", request)));  // UTF-16 offsets, as JS gets them
  // Malformed JSON is CorruptData, as eb_run reports it.
  EXPECT_EQ(p.RunJson("token-classification", "{").status().code(), StatusCode::kCorruptData);
  EXPECT_EQ(p.RunJson("translation", R"({"text": "a"})").status().code(), StatusCode::kInvalidArgument);
}

TEST(PublicApi, PackedModelsFromBytesAndFilesGiveTheEngineResults) {
  auto files = CheckpointFiles("distilbert_qa");
  ConvertInputs in;
  in.config_json = files[0].second;
  in.safetensors = files[1].second;
  in.files.emplace_back(files[2].first, files[2].second);
  in.files.emplace_back(files[3].first, files[3].second);
  auto packed = ConvertToPacked(in);
  ASSERT_TRUE(packed.ok()) << packed.status().ToString();
  auto engine = Engine::FromPacked(reinterpret_cast<const uint8_t*>(packed->data()), packed->size());
  ASSERT_TRUE(engine.ok());
  const std::string request =
      R"({"question": "Who stayed?", "context": "José stayed in São Paulo with the dog.", "top_k": 2})";
  auto want = (*engine)->Run("question-answering", *ParseJson(request));
  ASSERT_TRUE(want.ok());

  TempDir dir;
  const std::string path = dir.Write("qa.ebm", *packed);
  auto from_file = Pipeline::Load(path);
  ASSERT_TRUE(from_file.ok()) << from_file.status().ToString();
  auto from_bytes = Pipeline::FromPackedBytes(packed->data(), packed->size());
  ASSERT_TRUE(from_bytes.ok()) << from_bytes.status().ToString();
  for (Pipeline* p : {&*from_file, &*from_bytes}) {
    EXPECT_EQ(p->Info().quantization, Quantization::kInt8);
    auto got = p->RunJson("question-answering", request);
    ASSERT_TRUE(got.ok());
    EXPECT_EQ(*got, DumpJson(*want));
  }
  // The caller's bytes were copied: overwriting them does not touch the loaded model.
  std::string copy = *packed;
  auto p = Pipeline::FromPackedBytes(copy.data(), copy.size());
  ASSERT_TRUE(p.ok());
  copy.assign(copy.size(), '\xff');
  auto got = p->RunJson("question-answering", request);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(*got, DumpJson(*want));
  // A packed model has no fp32 weights: asking for them is an error, not a silent int8 run.
  LoadOptions fp32;
  fp32.quantization = Quantization::kFp32;
  auto refused = Pipeline::Load(path, fp32);
  EXPECT_EQ(refused.status().code(), StatusCode::kInvalidArgument) << refused.status().ToString();
  EXPECT_NE(refused.status().message().find("fp32"), std::string::npos);
}

TEST(PublicApi, FromHuggingFaceFilesAndMovesKeepTheModel) {
  auto p = Pipeline::FromHuggingFaceFiles(CheckpointFiles("bert_mlm"));
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  Pipeline moved = std::move(p).value();
  Pipeline other = LoadOrDie(ModelDir("bert_seqcls"));
  other = std::move(moved);
  EXPECT_EQ(other.Info().architecture, "BertForMaskedLM");
  FillMaskRequest r;
  r.text = "a [MASK] dog";
  auto out = other.FillMask(r);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(out->size(), 1u);
  EXPECT_EQ((*out)[0].size(), 5u);  // transformers' default top_k
#if EDGEBERT_THREADS
  EXPECT_TRUE(other.SetThreads(2).ok());
#else
  EXPECT_EQ(other.SetThreads(2).code(), StatusCode::kUnsupported);  // the single-threaded wasm build
#endif
  EXPECT_EQ(other.SetThreads(0).code(), StatusCode::kInvalidArgument);
}

// ---- errors ---------------------------------------------------------------------------------------

TEST(PublicApi, MissingFilesAreNotFound) {
  auto none = Pipeline::Load("/nonexistent/model.ebm");
  EXPECT_EQ(none.status().code(), StatusCode::kNotFound) << none.status().ToString();
  EXPECT_NE(none.status().message().find("/nonexistent/model.ebm"), std::string::npos);

  TempDir dir;  // a checkpoint directory without model.safetensors
  dir.Write("config.json", ReadFileOrFail(ModelDir("distilbert_base") + "/config.json"));
  dir.Write("vocab.txt", ReadFileOrFail(ModelDir("distilbert_base") + "/vocab.txt"));
  auto no_weights = Pipeline::Load(dir.path());
  EXPECT_EQ(no_weights.status().code(), StatusCode::kNotFound) << no_weights.status().ToString();
  EXPECT_NE(no_weights.status().message().find("model.safetensors"), std::string::npos);

  auto files = CheckpointFiles("distilbert_base");
  files.erase(files.begin() + 2);  // no vocab.txt, no tokenizer.json
  auto no_tokenizer = Pipeline::FromHuggingFaceFiles(files);
  EXPECT_EQ(no_tokenizer.status().code(), StatusCode::kNotFound) << no_tokenizer.status().ToString();
}

TEST(PublicApi, WrongArchitectureAndCorruptFilesAreErrors) {
  auto files = CheckpointFiles("distilbert_base");
  files[0].second = R"({"model_type": "gpt2", "architectures": ["GPT2LMHeadModel"], "vocab_size": 1113})";
  auto gpt2 = Pipeline::FromHuggingFaceFiles(files);
  EXPECT_EQ(gpt2.status().code(), StatusCode::kUnsupported) << gpt2.status().ToString();

  TempDir dir;
  const std::string junk = dir.Write("junk.ebm", "this is not a packed model, just some bytes........");
  auto corrupt = Pipeline::Load(junk);
  EXPECT_EQ(corrupt.status().code(), StatusCode::kCorruptData) << corrupt.status().ToString();
  EXPECT_NE(corrupt.status().message().find("junk.ebm"), std::string::npos);
  auto empty = Pipeline::FromPackedBytes(nullptr, 0);
  EXPECT_FALSE(empty.ok());
  auto null_data = Pipeline::FromPackedBytes(nullptr, 10);
  EXPECT_EQ(null_data.status().code(), StatusCode::kInvalidArgument);

  // A safetensors file is not a packed model.
  auto safetensors = Pipeline::Load(ModelDir("distilbert_base") + "/model.safetensors");
  EXPECT_EQ(safetensors.status().code(), StatusCode::kCorruptData) << safetensors.status().ToString();
}

TEST(PublicApi, BadOptionsAreInvalidArgument) {
  LoadOptions threads;
  threads.threads = 0;
  EXPECT_EQ(Pipeline::Load(ModelDir("distilbert_seqcls"), threads).status().code(), StatusCode::kInvalidArgument);

  Pipeline cls = LoadOrDie(ModelDir("distilbert_seqcls"));
  TextClassificationRequest tc;
  tc.text = "a";
  tc.top_k = 0;
  auto zero = cls.ClassifyText(tc);
  EXPECT_EQ(zero.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(zero.status().message().find("top_k"), std::string::npos) << zero.status().ToString();

  // A task the head does not serve.
  auto wrong_task = cls.AnswerQuestion({"who?", "me"});
  EXPECT_EQ(wrong_task.status().code(), StatusCode::kInvalidArgument) << wrong_task.status().ToString();
  auto no_mask_head = cls.FillMask({"a [MASK]"});
  EXPECT_EQ(no_mask_head.status().code(), StatusCode::kInvalidArgument);

  std::string longer;
  for (int i = 0; i < 40; ++i) longer += "dog ";
  auto too_long = cls.ClassifyText({longer});
  EXPECT_EQ(too_long.status().code(), StatusCode::kOutOfRange) << too_long.status().ToString();
  TextClassificationRequest truncated{longer};
  truncated.truncation = true;
  EXPECT_TRUE(cls.ClassifyText(truncated).ok());

  Pipeline qa = LoadOrDie(ModelDir("distilbert_qa"));
  QuestionAnsweringRequest q{"who?", "me"};
  q.max_seq_len = 1000;
  auto seq = qa.AnswerQuestion(q);
  EXPECT_EQ(seq.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(seq.status().message().find("max_seq_len"), std::string::npos) << seq.status().ToString();
  q.max_seq_len.reset();
  q.max_answer_len = 0;
  EXPECT_EQ(qa.AnswerQuestion(q).status().code(), StatusCode::kInvalidArgument);

  Pipeline mlm = LoadOrDie(ModelDir("distilbert_mlm"));
  auto no_mask = mlm.FillMask({"no mask here"});
  EXPECT_EQ(no_mask.status().code(), StatusCode::kInvalidArgument) << no_mask.status().ToString();
  FillMaskRequest fm{"a [MASK]"};
  fm.targets = {"notatoken"};
  auto bad_target = mlm.FillMask(fm);
  EXPECT_EQ(bad_target.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad_target.status().message().find("notatoken"), std::string::npos);
}

}  // namespace
}  // namespace edgebert
