// engine_parity_test.cc: the whole engine (tokenizer -> encoder -> heads, JSON in and out) against
// the Hugging Face pipelines, end to end, fp32 and int8.
//
// scripts/fixtures/make_pipeline_fixtures.py ran the real transformers pipelines on tiny random
// checkpoints and saved those checkpoints (tests/fixtures/pipelines/models/, F16 weights; the
// pipelines ran on exactly these values). Every fixture case is sent here as an Engine::Run request
// (with "offset_unit": "codepoint", Python's unit) to the saved checkpoint loaded with
// Engine::FromHfFiles in fp32, and the response must match the pipeline's output: labels, entity
// groups, words, spans and answers identical, scores within kScoreTolerance. The same requests then
// go through Engine::FromPacked (int8) to measure how often int8 changes an argmax decision.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <list>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "encoder/encoder.h"
#include "model/packed.h"
#include "pipeline/engine.h"
#include "test_util.h"

namespace edgebert {
namespace {

using testing::FixturePath;
using testing::ReadFileOrFail;
using testing::ReadJsonFixture;

// Scores within 1e-4 (absolute; scores are probabilities, logits for function_to_apply "none",
// hidden-state values for feature-extraction, all O(1)-O(10)). Both sides compute in fp32 on the
// same fp16-exact weights but in different orders (GEMM blocking, exp/tanh/erf implementations,
// LayerNorm and softmax accumulation), so logits differ by a few 1e-6 relative after two layers;
// the fixtures round to 7 significant digits. Measured maximum: 9.7e-7 (native and wasm, printed
// by the test); 1e-4 leaves ~100x margin while still catching any real error (a wrong token, mask,
// position or bias moves scores by 1e-2 and more).
constexpr double kScoreTolerance = 1e-4;

// At most this many requests may be skipped as known, documented differences from transformers.
constexpr int kMaxSkipped = 3;

// ---- checkpoints ---------------------------------------------------------------------------------

struct LoadedModel {
  std::list<std::string> bytes;  // file contents (stable addresses for the string_views)
  std::vector<std::pair<std::string, std::string_view>> files;
  std::string packed;  // the ConvertToPacked output, read in place by `int8`
  std::unique_ptr<Engine> fp32, int8;
};

// models/manifest.json: checkpoint -> {file name: path under models/} (shared files are stored once).
LoadedModel* Load(const std::string& name) {
  static std::map<std::string, std::unique_ptr<LoadedModel>> cache;
  auto it = cache.find(name);
  if (it != cache.end()) return it->second.get();
  static const Json manifest = ReadJsonFixture("pipelines/models/manifest.json");
  const Json* entry = manifest.Find(name);
  EXPECT_TRUE(entry && entry->is_object()) << "checkpoint " << name << " is not in the manifest";
  if (!entry) return nullptr;
  auto m = std::make_unique<LoadedModel>();
  ConvertInputs in;
  for (const auto& kv : entry->as_object()) {
    m->bytes.push_back(ReadFileOrFail(FixturePath("pipelines/models/" + kv.second.as_string())));
    std::string_view data = m->bytes.back();
    m->files.emplace_back(kv.first, data);
    if (kv.first == "config.json") {
      in.config_json = data;
    } else if (kv.first == "model.safetensors") {
      in.safetensors = data;
    } else {
      in.files.emplace_back(kv.first, data);
    }
  }
  EngineOptions fp32;
  fp32.prefer_int8 = false;
  auto e = Engine::FromHfFiles(m->files, fp32);
  EXPECT_TRUE(e.ok()) << name << ": " << e.status().ToString();
  if (!e.ok()) return nullptr;
  m->fp32 = std::move(e).value();
  auto packed = ConvertToPacked(in);
  EXPECT_TRUE(packed.ok()) << name << ": " << packed.status().ToString();
  if (!packed.ok()) return nullptr;
  m->packed = std::move(packed).value();
  auto q = Engine::FromPacked(reinterpret_cast<const uint8_t*>(m->packed.data()), m->packed.size());
  EXPECT_TRUE(q.ok()) << name << ": " << q.status().ToString();
  if (!q.ok()) return nullptr;
  m->int8 = std::move(q).value();
  return cache.emplace(name, std::move(m)).first->second.get();
}

// ---- the cases -----------------------------------------------------------------------------------

struct ParityCase {
  std::string what;  // for failure messages
  std::string checkpoint;
  std::string task;
  Json request;
  Json expected;     // the pipeline's output, in the engine's response shape
  std::string skip;  // non-empty: a known, documented difference (the reason)
  bool label_order = false;  // expected is in label order (return_all_scores), ours by score
  // Longer than the model: sent with "truncation": true (the pipeline truncated, silently for
  // token-classification); the same request without it must be OutOfRange (docs/API.md).
  bool overlong = false;
};

// `request` without its "truncation" key.
Json WithoutTruncation(const Json& request) {
  Json::Object o;
  for (const auto& kv : request.as_object()) {
    if (kv.first != "truncation") o.push_back(kv);
  }
  return Json::MakeObject(std::move(o));
}

Json Str(const std::string& s) { return Json::String(s); }

std::string Dump(const Json& j) {
  if (j.is_string()) return "\"" + j.as_string() + "\"";
  if (j.is_null()) return "null";
  if (j.is_bool()) return j.as_bool() ? "true" : "false";
  if (j.is_number()) {
    char buf[32];
    std::snprintf(buf, sizeof(buf), "%.9g", j.as_double());
    return buf;
  }
  std::string s = j.is_array() ? "[" : "{";
  bool first = true;
  if (j.is_array()) {
    for (const Json& x : j.as_array()) s += (first ? "" : ",") + Dump(x), first = false;
  } else {
    for (const auto& kv : j.as_object()) s += (first ? "\"" : ",\"") + kv.first + "\":" + Dump(kv.second), first = false;
  }
  return s + (j.is_array() ? "]" : "}");
}

// `base` plus the fixture's options plus "offset_unit": "codepoint".
Json Request(Json::Object base, const Json& options) {
  for (const auto& kv : options.as_object()) base.emplace_back(kv.first, kv.second);
  base.emplace_back("offset_unit", Str("codepoint"));
  return Json::MakeObject(std::move(base));
}

void TextClassificationCases(std::vector<ParityCase>* out) {
  Json fx = ReadJsonFixture("pipelines/text_classification.json");
  for (const Json& c : fx.Find("cases")->as_array()) {
    const std::string ckpt = c.Find("checkpoint")->as_string();
    if (const Json* batch = c.Find("batch")) {
      // A batch is one request per text (the engine's contract), each with the batch's options.
      for (size_t i = 0; i < batch->size(); ++i) {
        out->push_back({ckpt + " batch[" + std::to_string(i) + "]", ckpt, "text-classification",
                        Request({{"text", (*batch)[i]}}, *c.Find("options")), (*c.Find("expected"))[i], ""});
      }
      continue;
    }
    const Json& input = *c.Find("input");
    Json::Object base;
    if (input.is_string()) {
      base.emplace_back("text", input);
    } else {
      base.emplace_back("text", *input.Find("text"));
      base.emplace_back("text_pair", *input.Find("text_pair"));
    }
    for (const Json& run : c.Find("runs")->as_array()) {
      const Json& o = *run.Find("options");
      ParityCase pc{ckpt + " " + Dump(input) + " " + Dump(o), ckpt, "text-classification", Json(),
                    *run.Find("expected"), ""};
      if (o.Find("return_all_scores")) {
        // Legacy transformers option, not an eb_run option (docs/API.md): every label in label
        // order. The same labels and scores are top_k null's, sorted by score: compared by label.
        pc.request = Request(base, Json::MakeObject({{"top_k", Json()}}));
        pc.label_order = true;
      } else {
        pc.request = Request(base, o);
      }
      pc.overlong = c.Find("overlong") != nullptr;
      out->push_back(std::move(pc));
    }
  }
}

void TokenClassificationCases(std::vector<ParityCase>* out) {
  Json fx = ReadJsonFixture("pipelines/token_classification.json");
  for (const Json& c : fx.Find("cases")->as_array()) {
    const std::string ckpt = c.Find("checkpoint")->as_string();
    for (const Json& run : c.Find("runs")->as_array()) {
      const Json& o = *run.Find("options");
      const bool overlong = c.Find("overlong") != nullptr;
      Json::Object base = {{"text", *c.Find("text")}};
      if (overlong) base.emplace_back("truncation", Json::Bool(true));  // what the pipeline did
      ParityCase pc{ckpt + " " + Dump(*c.Find("text")).substr(0, 40) + " " + Dump(o), ckpt, "token-classification",
                    Request(base, o), *run.Find("expected"), ""};
      pc.overlong = overlong;
      out->push_back(std::move(pc));
    }
  }
}

void QuestionAnsweringCases(std::vector<ParityCase>* out) {
  Json fx = ReadJsonFixture("pipelines/question_answering.json");
  for (const Json& c : fx.Find("cases")->as_array()) {
    const std::string ckpt = c.Find("checkpoint")->as_string();
    const std::string name = c.Find("name")->as_string();
    ParityCase pc{"qa " + name, ckpt, "question-answering",
                  Request({{"question", *c.Find("question")}, {"context", *c.Find("context")}}, *c.Find("options")),
                  *c.Find("expected"), ""};
    out->push_back(std::move(pc));
  }
}

void FeatureExtractionCases(std::vector<ParityCase>* out) {
  Json fx = ReadJsonFixture("pipelines/feature_extraction.json");
  const std::string ckpt = fx.Find("checkpoint")->as_string();
  const size_t h = static_cast<size_t>(fx.Find("hidden_size")->as_int());
  const Json& sentences = *fx.Find("sentences");
  for (size_t i = 0; i < sentences.size(); ++i) {
    const Json& text = sentences[i];
    // pooling none: the pipeline's last hidden state (recorded padded; the first n rows are the
    // sentence's own tokens, which the fixture script checked against the unpadded pipeline).
    size_t n = 0;
    for (const Json& m : (*fx.Find("attention_mask"))[i].as_array()) n += m.as_int() != 0;
    const auto& padded = (*fx.Find("padded_hidden"))[i].as_array();
    Json::Array data(padded.begin(), padded.begin() + static_cast<std::ptrdiff_t>(n * h));
    Json dims = Json::MakeArray({Json::Number(1), Json::Number(double(n)), Json::Number(double(h))});
    out->push_back({"fe none " + Dump(text), ckpt, "feature-extraction",
                    Request({{"text", text}, {"pooling", Str("none")}}, Json::MakeObject({})),
                    Json::MakeObject({{"dims", dims}, {"data", Json::MakeArray(std::move(data))}}), ""});
    // Pooled sentence embeddings: sentence-transformers' Pooling (+ Normalize).
    for (const char* pooling : {"mean", "cls"}) {
      for (bool normalize : {false, true}) {
        const std::string key = std::string(pooling) + (normalize ? "_norm" : "");
        Json expected = Json::MakeObject(
            {{"dims", Json::MakeArray({Json::Number(1), Json::Number(double(h))})},
             {"data", (*fx.Find("embeddings")->Find(key))[i]}});
        out->push_back({"fe " + key + " " + Dump(text), ckpt, "feature-extraction",
                        Request({{"text", text}, {"pooling", Str(pooling)}, {"normalize", Json::Bool(normalize)}},
                                Json::MakeObject({})),
                        expected, ""});
      }
    }
  }
}

void FillMaskCases(std::vector<ParityCase>* out) {
  Json fx = ReadJsonFixture("pipelines/fill_mask.json");
  const std::string ckpt = fx.Find("checkpoint")->as_string();
  for (const Json& c : fx.Find("cases")->as_array()) {
    Json expected = *c.Find("expected");
    // One mask: transformers returns the candidates; several: one list per mask (the engine's shape).
    if (expected.size() > 0 && expected[0].is_object()) expected = Json::MakeArray({expected});
    out->push_back({"fill-mask " + Dump(*c.Find("text")) + " " + Dump(*c.Find("options")), ckpt, "fill-mask",
                    Request({{"text", *c.Find("text")}}, *c.Find("options")), expected, ""});
  }
}

std::vector<ParityCase> AllCases() {
  std::vector<ParityCase> cases;
  TextClassificationCases(&cases);
  TokenClassificationCases(&cases);
  QuestionAnsweringCases(&cases);
  FeatureExtractionCases(&cases);
  FillMaskCases(&cases);
  return cases;
}

// ---- comparison ----------------------------------------------------------------------------------

struct Diff {
  double max_score = 0;  // largest |score difference| seen
  void Score(double expected, double got, const std::string& at) {
    max_score = std::max(max_score, std::fabs(expected - got));
    EXPECT_NEAR(got, expected, kScoreTolerance) << at;
  }
};

void ExpectSameString(const Json& expected, const Json& got, const char* key, const std::string& at) {
  const Json* e = expected.Find(key);
  const Json* g = got.Find(key);
  ASSERT_TRUE(e && g) << at << ": key '" << key << "' missing (" << Dump(got) << ")";
  EXPECT_EQ(g->as_string(), e->as_string()) << at << " " << key;
}

void ExpectSameInt(const Json& expected, const Json& got, const char* key, const std::string& at) {
  const Json* e = expected.Find(key);
  const Json* g = got.Find(key);
  ASSERT_TRUE(e && g) << at << ": key '" << key << "' missing (" << Dump(got) << ")";
  EXPECT_EQ(g->as_int(-1), e->as_int(-2)) << at << " " << key;
}

void Compare(const ParityCase& c, const Json& got, Diff* diff) {
  const Json& x = c.expected;
  if (c.task == "feature-extraction") {
    ASSERT_EQ(Dump(*got.Find("dims")), Dump(*x.Find("dims"))) << c.what;
    const Json& gd = *got.Find("data");
    const Json& xd = *x.Find("data");
    ASSERT_EQ(gd.size(), xd.size()) << c.what;
    for (size_t i = 0; i < xd.size(); ++i) diff->Score(xd[i].as_double(), gd[i].as_double(), c.what + " [" + std::to_string(i) + "]");
    return;
  }
  ASSERT_TRUE(got.is_array()) << c.what << ": " << Dump(got);
  ASSERT_EQ(got.size(), x.size()) << c.what << "\n got:      " << Dump(got) << "\n expected: " << Dump(x);
  for (size_t i = 0; i < x.size(); ++i) {
    const std::string at = c.what + " #" + std::to_string(i);
    const Json& e = x[i];
    const Json& g = got[i];
    if (c.task == "text-classification" && c.label_order) {
      const Json* same = nullptr;
      for (const Json& gg : got.as_array()) {
        if (gg.Find("label")->as_string() == e.Find("label")->as_string()) same = &gg;
      }
      ASSERT_TRUE(same) << at << ": label " << e.Find("label")->as_string() << " missing from " << Dump(got);
      diff->Score(e.Find("score")->as_double(), same->Find("score")->as_double(), at);
      continue;
    } else if (c.task == "text-classification") {
      ExpectSameString(e, g, "label", at);
    } else if (c.task == "token-classification") {
      ExpectSameString(e, g, e.Find("entity") ? "entity" : "entity_group", at);
      ExpectSameString(e, g, "word", at);
      ExpectSameInt(e, g, "start", at);
      ExpectSameInt(e, g, "end", at);
      if (e.Find("index")) ExpectSameInt(e, g, "index", at);
    } else if (c.task == "question-answering") {
      ExpectSameString(e, g, "answer", at);
      ExpectSameInt(e, g, "start", at);
      ExpectSameInt(e, g, "end", at);
    } else if (c.task == "fill-mask") {
      ASSERT_EQ(g.size(), e.size()) << at << "\n got:      " << Dump(g) << "\n expected: " << Dump(e);
      for (size_t k = 0; k < e.size(); ++k) {
        const std::string atk = at + " candidate " + std::to_string(k);
        ExpectSameInt(e[k], g[k], "token", atk);
        ExpectSameString(e[k], g[k], "token_str", atk);
        ExpectSameString(e[k], g[k], "sequence", atk);
        diff->Score(e[k].Find("score")->as_double(), g[k].Find("score")->as_double(), atk);
      }
      continue;
    }
    diff->Score(e.Find("score")->as_double(), g.Find("score")->as_double(), at);
  }
}

TEST(EngineParity, Fp32MatchesTransformersPipelines) {
  const std::vector<ParityCase> cases = AllCases();
  Diff diff;
  std::map<std::string, int> compared;
  std::vector<std::string> skipped;
  int overlong = 0;
  for (const ParityCase& c : cases) {
    LoadedModel* m = Load(c.checkpoint);
    ASSERT_TRUE(m) << c.checkpoint;
    if (!c.skip.empty()) {
      skipped.push_back(c.what + ": " + c.skip);
      if (c.task == "question-answering") {  // the documented behaviour instead
        auto got = m->fp32->Run(c.task, c.request);
        ASSERT_TRUE(got.ok()) << c.what << ": " << got.status().ToString();
        EXPECT_EQ(got->size(), 0u) << c.what << ": " << Dump(*got);
      }
      continue;
    }
    auto got = m->fp32->Run(c.task, c.request);
    ASSERT_TRUE(got.ok()) << c.what << " " << Dump(c.request) << ": " << got.status().ToString();
    Compare(c, *got, &diff);
    ++compared[c.task];
    if (c.overlong) {
      ++overlong;
      auto refused = m->fp32->Run(c.task, WithoutTruncation(c.request));
      ASSERT_FALSE(refused.ok()) << c.what;
      EXPECT_EQ(refused.status().code(), StatusCode::kOutOfRange) << c.what << ": " << refused.status().ToString();
    }
  }
  std::printf("fp32 vs transformers: max |score diff| %.3g over", diff.max_score);
  for (const auto& kv : compared) std::printf(" %s %d,", kv.first.c_str(), kv.second);
  std::printf(" (%d longer than the model, truncated as the pipeline did), skipped %zu\n", overlong, skipped.size());
  for (const std::string& s : skipped) std::printf("  skipped: %s\n", s.c_str());
  EXPECT_LE(static_cast<int>(skipped.size()), kMaxSkipped);
  // Coverage: the fixtures must keep every task well represented.
  EXPECT_GE(compared["text-classification"], 60);
  EXPECT_GE(compared["token-classification"], 60);
  EXPECT_GE(compared["question-answering"], 20);
  EXPECT_GE(compared["feature-extraction"], 30);
  EXPECT_GE(compared["fill-mask"], 7);
  EXPECT_GE(overlong, 7);  // text-classification 2, token-classification 5
}

// ---- int8 vs fp32 --------------------------------------------------------------------------------

// The int8 error scale of one checkpoint: RMS of (int8 - fp32) over every head logit of the
// fixture windows (classifier rows, token logits, QA start/end, MLM logits at the masks), both
// models run on the same ids.
class ErrorScale {
 public:
  void Add(LoadedModel* m, const std::vector<int32_t>& ids, const std::vector<int32_t>& mlm_positions = {}) {
    EncoderInput in;
    in.batch = 1;
    in.seq_len = static_cast<int>(ids.size());
    in.input_ids = ids.data();
    in.mlm_positions = mlm_positions.empty() ? nullptr : mlm_positions.data();
    in.num_mlm_positions = static_cast<int>(mlm_positions.size());
    std::vector<float> ref;
    for (int pass = 0; pass < 2; ++pass) {
      RunState rs;
      EncoderOutput out;
      Status st = EncoderForward(pass == 0 ? m->fp32->model() : m->int8->model(), in,
                                 pass == 0 ? Precision::kFp32 : Precision::kInt8, &rs, &out);
      ASSERT_TRUE(st.ok()) << st.ToString();
      std::vector<float> v;
      if (out.logits) v.assign(out.logits, out.logits + static_cast<size_t>(out.logits_rows) * out.logits_cols);
      if (out.start_logits) {
        v.insert(v.end(), out.start_logits, out.start_logits + ids.size());
        v.insert(v.end(), out.end_logits, out.end_logits + ids.size());
      }
      if (pass == 0) {
        ref = std::move(v);
        continue;
      }
      ASSERT_EQ(v.size(), ref.size());
      Acc& a = acc_[m];
      for (size_t i = 0; i < v.size(); ++i) a.sum_sq += double(v[i] - ref[i]) * (v[i] - ref[i]);
      a.n += v.size();
    }
  }
  double Rms(LoadedModel* m) const {
    auto it = acc_.find(m);
    return it == acc_.end() || it->second.n == 0 ? 0.0 : std::sqrt(it->second.sum_sq / it->second.n);
  }

 private:
  struct Acc {
    double sum_sq = 0;
    size_t n = 0;
  };
  std::map<LoadedModel*, Acc> acc_;
};

std::vector<int32_t> Ids(const Json& a) {
  std::vector<int32_t> v;
  for (const Json& x : a.as_array()) v.push_back(static_cast<int32_t>(x.as_int(-1)));
  return v;
}

// Top-1 minus top-2 of `n` logits starting at `p` (the fp32 decision's margin, in logit units).
double Margin(const Json& logits, size_t offset, size_t n) {
  double a = -INFINITY, b = -INFINITY;
  for (size_t i = 0; i < n; ++i) {
    double v = logits[offset + i].as_double();
    if (v > a) {
      b = a;
      a = v;
    } else if (v > b) {
      b = v;
    }
  }
  return a - b;
}

struct Decision {
  std::string task, what, checkpoint;
  LoadedModel* model;
  std::string fp32, int8;  // the decision each path took
  double margin;           // fp32 margin in logit units (top-1 minus runner-up)
};

Json RunOk(Engine* e, const std::string& task, const Json& req) {
  auto r = e->Run(task, req);
  EXPECT_TRUE(r.ok()) << task << " " << Dump(req) << ": " << r.status().ToString();
  return r.ok() ? *r : Json::MakeArray({});
}

// A must-agree decision has an fp32 margin above kMustAgreeRms times the checkpoint's int8 RMS
// logit error. A flip needs the error of a logit difference (two logits; four for a QA span's
// start+end) to exceed the margin: with independent errors of RMS r that difference has a spread
// of sqrt(2) r (2 r for QA), so 8 r is 5.7 (4) standard deviations: such decisions must not flip.
constexpr double kMustAgreeRms = 8.0;

TEST(EngineParity, Int8ArgmaxDecisionsAgreeWithFp32) {
  ErrorScale scale;
  std::vector<Decision> decisions;
  // Text classification: the top label of every distinct input of the models with 2+ labels.
  {
    Json fx = ReadJsonFixture("pipelines/text_classification.json");
    for (const Json& c : fx.Find("cases")->as_array()) {
      LoadedModel* m = Load(c.Find("checkpoint")->as_string());
      ASSERT_TRUE(m);
      if (c.Find("batch")) continue;  // the same texts as single cases
      scale.Add(m, Ids(*c.Find("window")->Find("ids")));
      const Json& logits = *c.Find("logits");
      if (logits.size() < 2) continue;  // one label: no argmax
      const Json& input = *c.Find("input");
      Json::Object base;
      base.emplace_back("text", input.is_string() ? input : *input.Find("text"));
      if (!input.is_string()) base.emplace_back("text_pair", *input.Find("text_pair"));
      if (c.Find("overlong")) base.emplace_back("truncation", Json::Bool(true));
      Json req = Request(base, Json::MakeObject({}));
      decisions.push_back({"text-classification", c.Find("checkpoint")->as_string() + " " + Dump(input),
                           c.Find("checkpoint")->as_string(), m,
                           RunOk(m->fp32.get(), "text-classification", req)[0].Find("label")->as_string(),
                           RunOk(m->int8.get(), "text-classification", req)[0].Find("label")->as_string(),
                           Margin(logits, 0, logits.size())});
    }
  }
  // Token classification: the label of every token (strategy none, nothing ignored) of the
  // single-window cases. ner_cased_all_o is left out: its +60 "O" bias makes every decision trivial.
  {
    Json fx = ReadJsonFixture("pipelines/token_classification.json");
    const size_t num_labels = fx.Find("id2label")->size();
    for (const Json& c : fx.Find("cases")->as_array()) {
      const std::string ckpt = c.Find("checkpoint")->as_string();
      LoadedModel* m = Load(ckpt);
      ASSERT_TRUE(m);
      for (const Json& w : c.Find("windows")->as_array()) scale.Add(m, Ids(*w.Find("ids")));
      if (c.Find("windows")->size() != 1 || ckpt == "ner_cased_all_o") continue;
      Json::Object base = {{"text", *c.Find("text")}};
      if (c.Find("overlong")) base.emplace_back("truncation", Json::Bool(true));
      Json req = Request(base, Json::MakeObject({{"aggregation_strategy", Str("none")}, {"ignore_labels", Json::MakeArray({})}}));
      Json a = RunOk(m->fp32.get(), "token-classification", req);
      Json b = RunOk(m->int8.get(), "token-classification", req);
      ASSERT_EQ(a.size(), b.size()) << Dump(req);
      for (size_t i = 0; i < a.size(); ++i) {
        const size_t index = static_cast<size_t>(a[i].Find("index")->as_int());
        ASSERT_EQ(index, static_cast<size_t>(b[i].Find("index")->as_int()));
        decisions.push_back({"token-classification", ckpt + " " + Dump(*c.Find("text")) + " token " + std::to_string(index),
                             ckpt, m, a[i].Find("entity")->as_string(), b[i].Find("entity")->as_string(),
                             Margin((*c.Find("logits"))[0], index * num_labels, num_labels)});
      }
    }
  }
  // Question answering: the best span of every distinct (question, context, options but top_k).
  {
    Json fx = ReadJsonFixture("pipelines/question_answering.json");
    std::set<std::string> seen;
    for (const Json& c : fx.Find("cases")->as_array()) {
      LoadedModel* m = Load(c.Find("checkpoint")->as_string());
      ASSERT_TRUE(m);
      for (const Json& w : c.Find("windows")->as_array()) scale.Add(m, Ids(*w.Find("ids")));
      Json::Object opts;
      for (const auto& kv : c.Find("options")->as_object()) {
        if (kv.first != "top_k") opts.push_back(kv);
      }
      opts.emplace_back("top_k", Json::Number(2));
      Json req = Request({{"question", *c.Find("question")}, {"context", *c.Find("context")}},
                         Json::MakeObject(std::move(opts)));
      if (!seen.insert(c.Find("checkpoint")->as_string() + Dump(req)).second) continue;
      Json a = RunOk(m->fp32.get(), "question-answering", req);
      Json b = RunOk(m->int8.get(), "question-answering", req);
      ASSERT_GE(a.size(), 1u);
      ASSERT_GE(b.size(), 1u);
      auto span = [](const Json& x) {
        return std::to_string(x.Find("start")->as_int()) + ":" + std::to_string(x.Find("end")->as_int());
      };
      // Scores are exp(start + end logits) / normalizers: ln of the ratio is a logit margin.
      double margin = a.size() < 2 ? INFINITY : std::log(a[0].Find("score")->as_double() / a[1].Find("score")->as_double());
      decisions.push_back({"question-answering", "qa " + c.Find("name")->as_string(), c.Find("checkpoint")->as_string(), m,
                           span(a[0]), span(b[0]), margin});
    }
  }
  // Fill-mask: the top token of every mask of the distinct texts (targets restrict the choice).
  {
    Json fx = ReadJsonFixture("pipelines/fill_mask.json");
    LoadedModel* m = Load(fx.Find("checkpoint")->as_string());
    ASSERT_TRUE(m);
    std::set<std::string> seen;
    for (const Json& c : fx.Find("cases")->as_array()) {
      if (!c.Find("target_ids")->is_null() || !seen.insert(c.Find("text")->as_string()).second) continue;
      std::vector<int32_t> ids = Ids(*c.Find("input_ids"));
      std::vector<int32_t> positions = Ids(*c.Find("mask_positions"));
      scale.Add(m, ids, positions);
      Json req = Request({{"text", *c.Find("text")}}, Json::MakeObject({{"top_k", Json::Number(1)}}));
      Json a = RunOk(m->fp32.get(), "fill-mask", req);
      Json b = RunOk(m->int8.get(), "fill-mask", req);
      ASSERT_EQ(a.size(), positions.size());
      ASSERT_EQ(b.size(), positions.size());
      for (size_t k = 0; k < positions.size(); ++k) {
        const Json& logits = (*c.Find("mask_logits"))[k];
        decisions.push_back({"fill-mask", "fill-mask " + Dump(*c.Find("text")) + " mask " + std::to_string(k),
                             fx.Find("checkpoint")->as_string(), m,
                             a[k][0].Find("token_str")->as_string(), b[k][0].Find("token_str")->as_string(),
                             Margin(logits, 0, logits.size())});
      }
    }
  }
  // Sentence embeddings (no argmax): cosine similarity of the int8 and fp32 mean-pooled embeddings.
  double min_cos = 1;
  {
    Json fx = ReadJsonFixture("pipelines/feature_extraction.json");
    LoadedModel* m = Load(fx.Find("checkpoint")->as_string());
    ASSERT_TRUE(m);
    for (const Json& text : fx.Find("sentences")->as_array()) {
      Json req = Request({{"text", text}, {"pooling", Str("mean")}, {"normalize", Json::Bool(true)}}, Json::MakeObject({}));
      Json a = *RunOk(m->fp32.get(), "feature-extraction", req).Find("data");
      Json b = *RunOk(m->int8.get(), "feature-extraction", req).Find("data");
      ASSERT_EQ(a.size(), b.size());
      double dot = 0;
      for (size_t i = 0; i < a.size(); ++i) dot += a[i].as_double() * b[i].as_double();
      min_cos = std::min(min_cos, dot);  // both unit length
    }
    // Measured ~1e-5 below 1 (see the printed line); 0.999 (a relative error of ~4% of the
    // vector) is orders of magnitude above quantization noise: below it the int8 path is broken.
    EXPECT_GT(min_cos, 0.999);
  }
  // Every parity request also runs on int8 (no error, same response shape).
  for (const ParityCase& c : AllCases()) {
    LoadedModel* m = Load(c.checkpoint);
    ASSERT_TRUE(m);
    auto got = m->int8->Run(c.task, c.request);
    EXPECT_TRUE(got.ok()) << c.what << ": " << got.status().ToString();
  }

  std::map<std::string, std::pair<int, int>> per_task;  // task -> (differ, total)
  int differ = 0, must_agree = 0, must_agree_differ = 0;
  double expected_flips = 0;
  for (const Decision& d : decisions) {
    const bool flip = d.fp32 != d.int8;
    // P(flip) if the decision's logit-difference error were normal with spread sqrt(k) * rms
    // (k = 2 logits, 4 for a QA span): P(error > margin).
    const double spread = std::sqrt(d.task == "question-answering" ? 4.0 : 2.0) * scale.Rms(d.model);
    expected_flips += spread > 0 ? 0.5 * std::erfc(d.margin / (spread * std::sqrt(2.0))) : 0.0;
    const bool must = d.margin > kMustAgreeRms * scale.Rms(d.model);
    differ += flip;
    must_agree += must;
    per_task[d.task].first += flip;
    per_task[d.task].second += 1;
    if (flip) {
      std::printf("  int8 flip: %s: fp32 %s, int8 %s (fp32 margin %.3g, int8 rms %.3g)\n", d.what.c_str(),
                  d.fp32.c_str(), d.int8.c_str(), d.margin, scale.Rms(d.model));
    }
    if (must) {
      must_agree_differ += flip;
      EXPECT_FALSE(flip) << d.what << ": int8 chose " << d.int8 << ", fp32 " << d.fp32 << " with margin " << d.margin
                         << " > " << kMustAgreeRms << " x rms " << scale.Rms(d.model);
    }
  }
  const int total = static_cast<int>(decisions.size());
  std::printf("int8 vs fp32: %d/%d argmax decisions differ (%.1f%%; %.2f expected from the int8 rms error and the "
              "fp32 margins); must-agree (fp32 margin > %.0f x int8 rms): %d/%d differ\n",
              differ, total, 100.0 * differ / std::max(total, 1), expected_flips, kMustAgreeRms, must_agree_differ,
              must_agree);
  for (const auto& kv : per_task) std::printf("  %s: %d/%d differ\n", kv.first.c_str(), kv.second.first, kv.second.second);
  std::printf("  feature-extraction: min cosine(int8, fp32) of mean-pooled embeddings %.7f\n", min_cos);
  std::map<std::string, double> rms;
  for (const Decision& d : decisions) rms[d.checkpoint] = scale.Rms(d.model);
  std::printf("  int8 rms logit error:");
  for (const auto& kv : rms) std::printf(" %s %.3g", kv.first.c_str(), kv.second);
  std::printf("\n");
  std::set<LoadedModel*> models;
  for (const Decision& d : decisions) models.insert(d.model);
  for (LoadedModel* m : models) {
    EXPECT_EQ(m->int8->Info().Find("quantization")->as_string(), "int8");
    EXPECT_GT(scale.Rms(m), 0.0);  // the int8 path really differs from fp32
  }
  // All decisions: flips come from near-ties, as many as the error model predicts. Bound: the
  // expected count plus 3 Poisson standard deviations, plus 2 for the model's crudeness (errors
  // of one position are correlated, not independent normals).
  EXPECT_LE(differ, expected_flips + 3 * std::sqrt(expected_flips) + 2);
  EXPECT_GE(total, 300);
  EXPECT_GE(must_agree, total / 2);  // the threshold must leave most decisions to check
}

}  // namespace
}  // namespace edgebert
