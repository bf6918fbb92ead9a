// heads_pipelines_test.cc: the task heads reproduce transformers 4.57 pipelines on recorded inputs.
//
// tests/fixtures/pipelines/*.json (scripts/fixtures/make_pipeline_fixtures.py) hold, per case, the
// fast tokenizer's metadata, the logits the pipeline's model produced, the options and the
// pipeline's output. Labels, words, answers and spans must match exactly (code-point offsets are
// converted to bytes); scores within ScoreTolerance().
#include <gtest/gtest.h>

#include <cmath>
#include <tuple>
#include <string>
#include <vector>

#include "heads/decode.h"
#include "heads/fill_mask.h"
#include "heads/question_answering.h"
#include "heads/sentence_embedding.h"
#include "heads/text_classification.h"
#include "heads/token_classification.h"
#include "heads/token_meta.h"
#include "test_util.h"

namespace edgebert {
namespace {

using testing::ReadJsonFixture;

// Scores: transformers computes softmax/sigmoid/means in float32 (numpy or torch), we compute in
// double and round to float. float32 reductions over <= 1113 terms (the fill-mask vocabulary) carry
// a relative error of at most ~1e-6, and the fixtures keep 7 significant digits (5e-8 relative):
// 4e-6 relative plus 1e-6 absolute bounds both with margin (and is 25x tighter than 1e-4).
double ScoreTolerance(double expected) { return 1e-6 + 4e-6 * std::fabs(expected); }

#define EXPECT_SCORE(expected, got, what) \
  EXPECT_NEAR((got), (expected), ScoreTolerance(expected)) << what

std::vector<float> Floats(const Json& a) {
  std::vector<float> v;
  for (const Json& x : a.as_array()) v.push_back(static_cast<float>(x.as_double()));
  return v;
}

std::vector<int64_t> Ints(const Json& a) {
  std::vector<int64_t> v;
  for (const Json& x : a.as_array()) v.push_back(x.as_int(-999));
  return v;
}

std::vector<std::string> Strings(const Json& a) {
  std::vector<std::string> v;
  for (const Json& x : a.as_array()) v.push_back(x.as_string());
  return v;
}

// One recorded window -> TokenMeta (byte offsets), checking the code-point offsets agree with them.
std::vector<TokenMeta> Window(const Json& w, const std::vector<std::string>& texts) {
  std::vector<TokenMeta> tokens;
  const auto& ids = w.Find("ids")->as_array();
  for (size_t i = 0; i < ids.size(); ++i) {
    TokenMeta t;
    t.id = ids[i].as_int();
    t.start_byte = static_cast<int>((*w.Find("byte_offsets"))[i][0].as_int());
    t.end_byte = static_cast<int>((*w.Find("byte_offsets"))[i][1].as_int());
    t.word_id = static_cast<int>((*w.Find("word_ids"))[i].as_int());
    t.sequence_id = static_cast<int>((*w.Find("sequence_ids"))[i].as_int());
    t.special = (*w.Find("special"))[i].as_int() != 0;
    if (t.sequence_id >= 0) {
      const std::string& text = texts[t.sequence_id];
      EXPECT_EQ(ByteToCodePoint(text, t.start_byte), (*w.Find("offsets"))[i][0].as_int());
      EXPECT_EQ(ByteToCodePoint(text, t.end_byte), (*w.Find("offsets"))[i][1].as_int());
    }
    tokens.push_back(t);
  }
  return tokens;
}

std::string Dump(const Json& options) {
  std::string s;
  for (const auto& [k, v] : options.as_object()) {
    s += k + "=" + (v.is_string() ? v.as_string() : v.is_null() ? "None" : std::to_string(v.as_double())) + " ";
  }
  return s;
}

// ---------------------------------------------------------------------------------------------
// text classification

TextClassificationOptions ClassificationOptions(const Json& o) {
  TextClassificationOptions opts;
  if (const Json* k = o.Find("top_k")) {
    opts.top_k = k->is_null() ? std::nullopt : std::optional<int>(static_cast<int>(k->as_int()));
  }
  if (const Json* f = o.Find("function_to_apply")) opts.function_to_apply = *ParseClassificationFunction(f->as_string());
  if (const Json* r = o.Find("return_all_scores")) opts.all_scores_in_label_order = r->as_bool();
  return opts;
}

void ExpectLabels(const Json& expected, const std::vector<LabelScore>& got, const std::string& what) {
  ASSERT_EQ(got.size(), expected.size()) << what;
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].label, expected[i].Find("label")->as_string()) << what << " rank " << i;
    EXPECT_SCORE(expected[i].Find("score")->as_double(), got[i].score, what << " rank " << i);
  }
}

TEST(HeadsTextClassification, MatchesPipeline) {
  Json fx = ReadJsonFixture("pipelines/text_classification.json");
  int checked = 0;
  for (const Json& c : fx.Find("cases")->as_array()) {
    const Json& model = *fx.Find("models")->Find(c.Find("model")->as_string());
    TextClassifierConfig config;
    config.id2label = Strings(*model.Find("id2label"));
    const Json* pt = model.Find("problem_type");
    config.problem_type = *ParseProblemType(pt->is_null() ? "" : pt->as_string());
    if (const Json* batch = c.Find("batch")) {
      std::vector<float> logits;
      for (const Json& row : c.Find("logits")->as_array()) {
        auto r = Floats(row);
        logits.insert(logits.end(), r.begin(), r.end());
      }
      auto got = ClassifyTextBatch(logits, batch->size(), config, ClassificationOptions(*c.Find("options")));
      ASSERT_TRUE(got.ok()) << got.status().ToString();
      const Json& expected = *c.Find("expected");
      ASSERT_EQ(got->size(), expected.size());
      for (size_t b = 0; b < got->size(); ++b) ExpectLabels(expected[b], (*got)[b], "batch item " + std::to_string(b));
      ++checked;
      continue;
    }
    std::vector<std::string> texts;
    const Json& input = *c.Find("input");
    if (input.is_string()) {
      texts = {input.as_string()};
    } else {
      texts = {input.Find("text")->as_string(), input.Find("text_pair")->as_string()};
    }
    std::vector<TokenMeta> tokens = Window(*c.Find("window"), texts);
    std::vector<std::string_view> views(texts.begin(), texts.end());
    ASSERT_TRUE(ValidateTokens(tokens, views, 0, "window").ok());
    const std::vector<float> logits = Floats(*c.Find("logits"));
    for (const Json& run : c.Find("runs")->as_array()) {
      const std::string what = c.Find("model")->as_string() + " '" + texts[0] + "' " + Dump(*run.Find("options"));
      auto got = ClassifyText(logits, config, ClassificationOptions(*run.Find("options")));
      ASSERT_TRUE(got.ok()) << what << got.status().ToString();
      ExpectLabels(*run.Find("expected"), *got, what);
      ++checked;
    }
  }
  EXPECT_GT(checked, 100);
}


// ---------------------------------------------------------------------------------------------
// token classification

TokenStrings ReadVocab(const std::string& kind) {
  std::string text = testing::ReadFileOrFail(testing::FixturePath("vocab/" + kind + "/vocab.txt"));
  TokenStrings vocab;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string::npos) nl = text.size();
    vocab.push_back(text.substr(pos, nl - pos));
    pos = nl + 1;
  }
  return vocab;
}

TEST(HeadsTokenClassification, MatchesPipelineForAllStrategies) {
  Json fx = ReadJsonFixture("pipelines/token_classification.json");
  const std::vector<std::string> id2label = Strings(*fx.Find("id2label"));
  int checked = 0, entities_checked = 0, empty_runs = 0, multi_window_runs = 0;
  for (const Json& c : fx.Find("cases")->as_array()) {
    const std::string text = c.Find("text")->as_string();
    const TokenStrings vocab = ReadVocab(fx.Find("models")->Find(c.Find("model")->as_string())->as_string());
    ASSERT_GT(vocab.size(), 100u);
    std::vector<TokenWindow> windows;
    for (size_t w = 0; w < c.Find("windows")->size(); ++w) {
      TokenWindow win;
      win.tokens = Window((*c.Find("windows"))[w], {text});
      win.logits = Floats((*c.Find("logits"))[w]);
      // The recorded token strings are the vocabulary's (what convert_ids_to_tokens returns).
      const auto& strs = (*c.Find("windows"))[w].Find("tokens")->as_array();
      for (size_t t = 0; t < win.tokens.size(); ++t) ASSERT_EQ(vocab[win.tokens[t].id], strs[t].as_string());
      windows.push_back(std::move(win));
    }
    for (const Json& run : c.Find("runs")->as_array()) {
      const Json& o = *run.Find("options");
      const std::string what = c.Find("model")->as_string() + " '" + text + "' " + Dump(o);
      TokenClassificationOptions opts;
      opts.aggregation_strategy = *ParseAggregationStrategy(o.Find("aggregation_strategy")->as_string());
      if (const Json* ig = o.Find("ignore_labels")) opts.ignore_labels = Strings(*ig);
      opts.unk_token_id = fx.Find("unk_token_id")->as_int();
      auto got = ClassifyTokens(text, windows, id2label, vocab, opts);
      ASSERT_TRUE(got.ok()) << what << got.status().ToString();
      const Json& expected = *run.Find("expected");
      ASSERT_EQ(got->size(), expected.size()) << what;
      empty_runs += expected.size() == 0;
      multi_window_runs += windows.size() >= 3;
      const bool grouped = opts.aggregation_strategy != AggregationStrategy::kNone;
      for (size_t i = 0; i < got->size(); ++i) {
        const Entity& e = (*got)[i];
        const Json& x = expected[i];
        const std::string at = what + " entity " + std::to_string(i);
        EXPECT_EQ(e.entity, x.Find(grouped ? "entity_group" : "entity")->as_string()) << at;
        EXPECT_EQ(e.word, x.Find("word")->as_string()) << at;
        EXPECT_EQ(e.start, CodePointToByte(text, static_cast<int>(x.Find("start")->as_int()))) << at;
        EXPECT_EQ(e.end, CodePointToByte(text, static_cast<int>(x.Find("end")->as_int()))) << at;
        EXPECT_EQ(e.source, text.substr(e.start, e.end - e.start)) << at;
        if (!grouped) {
          EXPECT_EQ(e.index, x.Find("index")->as_int()) << at;
        }
        EXPECT_SCORE(x.Find("score")->as_double(), e.score, at);
        ++entities_checked;
      }
      ++checked;
    }
  }
  EXPECT_GT(checked, 60);
  EXPECT_GT(entities_checked, 1000);
  EXPECT_GE(empty_runs, 20);        // empty and whitespace-only texts, a model predicting only "O"
  EXPECT_GE(multi_window_runs, 4);  // stride: simple, first, average, max
}


// ---------------------------------------------------------------------------------------------
// question answering

TEST(HeadsQuestionAnswering, MatchesPipeline) {
  Json fx = ReadJsonFixture("pipelines/question_answering.json");
  int checked = 0, multi_window = 0, null_answers = 0, edge_answers = 0;
  for (const Json& c : fx.Find("cases")->as_array()) {
    const std::string name = c.Find("name")->as_string();
    const std::string question = c.Find("question")->as_string();
    const std::string context = c.Find("context")->as_string();
    const Json& o = *c.Find("options");
    std::vector<QaWindow> windows;
    for (size_t w = 0; w < c.Find("windows")->size(); ++w) {
      QaWindow win;
      win.tokens = Window((*c.Find("windows"))[w], {question, context});
      win.start_logits = Floats((*c.Find("start_logits"))[w]);
      win.end_logits = Floats((*c.Find("end_logits"))[w]);
      windows.push_back(std::move(win));
    }
    multi_window += windows.size() >= 3;
    QuestionAnsweringOptions opts;
    opts.cls_token_id = fx.Find("cls_token_id")->as_int();
    if (const Json* v = o.Find("top_k")) opts.top_k = static_cast<int>(v->as_int());
    if (const Json* v = o.Find("max_answer_len")) opts.max_answer_len = static_cast<int>(v->as_int());
    if (const Json* v = o.Find("handle_impossible_answer")) opts.handle_impossible_answer = v->as_bool();
    if (const Json* v = o.Find("align_to_words")) opts.align_to_words = v->as_bool();
    auto got = AnswerQuestion(question, context, windows, opts);
    ASSERT_TRUE(got.ok()) << name << ": " << got.status().ToString();
    const Json& expected = *c.Find("expected");
    ASSERT_EQ(got->size(), expected.size()) << name;
    for (size_t i = 0; i < got->size(); ++i) {
      const Answer& a = (*got)[i];
      const Json& x = expected[i];
      const std::string at = name + " answer " + std::to_string(i);
      EXPECT_EQ(a.answer, x.Find("answer")->as_string()) << at;
      EXPECT_EQ(a.start, CodePointToByte(context, static_cast<int>(x.Find("start")->as_int()))) << at;
      EXPECT_EQ(a.end, CodePointToByte(context, static_cast<int>(x.Find("end")->as_int()))) << at;
      EXPECT_SCORE(x.Find("score")->as_double(), a.score, at);
      null_answers += a.answer.empty();
      // Answers reaching a window's first or last context token (cut by the window edge).
      for (const QaWindow& w : windows) {
        int first = -1, last = -1;
        for (const TokenMeta& t : w.tokens) {
          if (t.sequence_id != 1) continue;
          if (first < 0) first = t.start_byte;
          last = t.end_byte;
        }
        if (windows.size() > 1 && !a.answer.empty() &&
            ((a.start <= first && first < a.end) || (a.start < last && last <= a.end))) {
          ++edge_answers;
          break;
        }
      }
    }
    ++checked;
  }
  EXPECT_GE(checked, 20);
  EXPECT_GE(multi_window, 8);
  EXPECT_GE(null_answers, 3);
  EXPECT_GE(edge_answers, 10);
}


// ---------------------------------------------------------------------------------------------
// sentence embeddings (reference: sentence-transformers Pooling/Normalize, util.cos_sim/semantic_search)

TEST(HeadsSentenceEmbedding, MatchesSentenceTransformers) {
  Json fx = ReadJsonFixture("pipelines/feature_extraction.json");
  const size_t hidden = static_cast<size_t>(fx.Find("hidden_size")->as_int());
  const size_t n = fx.Find("sentences")->size();
  ASSERT_GE(n, 5u);
  std::vector<std::vector<float>> mean_norm;
  int checked = 0;
  for (const auto& [key, pooling, normalize] :
       std::vector<std::tuple<std::string, Pooling, bool>>{{"mean", Pooling::kMean, false},
                                                           {"mean_norm", Pooling::kMean, true},
                                                           {"cls", Pooling::kCls, false},
                                                           {"cls_norm", Pooling::kCls, true}}) {
    for (size_t i = 0; i < n; ++i) {
      std::vector<float> h = Floats((*fx.Find("padded_hidden"))[i]);
      std::vector<int> mask;
      for (int64_t m : Ints((*fx.Find("attention_mask"))[i])) mask.push_back(static_cast<int>(m));
      ASSERT_EQ(h.size(), mask.size() * hidden);
      auto got = PoolTokenEmbeddings(h.data(), mask.size(), hidden, mask, pooling, normalize);
      ASSERT_TRUE(got.ok()) << got.status().ToString();
      const std::vector<float> expected = Floats((*fx.Find("embeddings")->Find(key))[i]);
      ASSERT_EQ(got->size(), expected.size());
      for (size_t d = 0; d < hidden; ++d) {
        EXPECT_SCORE(expected[d], (*got)[d], key << " sentence " << i << " dim " << d);
      }
      if (key == "mean_norm") mean_norm.push_back(*got);
      ++checked;
    }
  }
  EXPECT_EQ(checked, static_cast<int>(4 * n));
  const std::vector<float> cos = Floats(*fx.Find("cos_sim"));
  for (size_t i = 0; i < n; ++i) {
    for (size_t j = 0; j < n; ++j) {
      auto c = CosineSimilarity(mean_norm[i], mean_norm[j]);
      ASSERT_TRUE(c.ok());
      EXPECT_SCORE(cos[i * n + j], *c, "cos_sim " << i << "," << j);
    }
  }
  const Json& search = *fx.Find("search");
  std::vector<std::vector<float>> corpus;
  for (int64_t id : Ints(*search.Find("corpus"))) corpus.push_back(mean_norm[id]);
  auto hits = RankBySimilarity(mean_norm[search.Find("query")->as_int()], corpus, search.Find("top_k")->as_int());
  ASSERT_TRUE(hits.ok());
  const Json& expected = *search.Find("hits");
  ASSERT_EQ(hits->size(), expected.size());
  for (size_t i = 0; i < hits->size(); ++i) {
    EXPECT_EQ((*hits)[i].corpus_id, static_cast<size_t>(expected[i].Find("corpus_id")->as_int()));
    EXPECT_SCORE(expected[i].Find("score")->as_double(), (*hits)[i].score, "hit " << i);
  }
}

// ---------------------------------------------------------------------------------------------
// fill-mask

void ExpectCandidates(const Json& expected, const std::vector<FillMaskCandidate>& got, const std::string& what) {
  ASSERT_EQ(got.size(), expected.size()) << what;
  for (size_t i = 0; i < got.size(); ++i) {
    const std::string at = what + " rank " + std::to_string(i);
    EXPECT_EQ(got[i].token, expected[i].Find("token")->as_int()) << at;
    EXPECT_EQ(got[i].token_str, expected[i].Find("token_str")->as_string()) << at;
    EXPECT_EQ(got[i].sequence, expected[i].Find("sequence")->as_string()) << at;
    EXPECT_SCORE(expected[i].Find("score")->as_double(), got[i].score, at);
  }
}

TEST(HeadsFillMask, MatchesPipeline) {
  Json fx = ReadJsonFixture("pipelines/fill_mask.json");
  const TokenStrings vocab = ReadVocab("uncased");
  int checked = 0;
  for (const Json& c : fx.Find("cases")->as_array()) {
    const std::string what = "'" + c.Find("text")->as_string() + "' " + Dump(*c.Find("options"));
    FillMaskOptions opts;
    opts.mask_token_id = fx.Find("mask_token_id")->as_int();
    opts.pad_token_id = fx.Find("pad_token_id")->as_int();
    opts.special_ids = Ints(*fx.Find("special_ids"));
    opts.decoder.clean_up_tokenization_spaces = fx.Find("clean_up_tokenization_spaces")->as_bool();
    if (const Json* k = c.Find("options")->Find("top_k")) opts.top_k = static_cast<int>(k->as_int());
    if (!c.Find("target_ids")->is_null()) opts.target_ids = Ints(*c.Find("target_ids"));
    std::vector<float> logits;
    for (const Json& row : c.Find("mask_logits")->as_array()) {
      auto r = Floats(row);
      logits.insert(logits.end(), r.begin(), r.end());
    }
    auto got = FillMask(Ints(*c.Find("input_ids")), logits, vocab, opts);
    ASSERT_TRUE(got.ok()) << what << got.status().ToString();
    const Json& expected = *c.Find("expected");
    if (got->size() == 1) {  // one mask: the pipeline returns a flat list
      ExpectCandidates(expected, (*got)[0], what);
    } else {
      ASSERT_EQ(got->size(), expected.size()) << what;
      for (size_t m = 0; m < got->size(); ++m) ExpectCandidates(expected[m], (*got)[m], what + " mask " + std::to_string(m));
    }
    ++checked;
  }
  EXPECT_EQ(checked, 7);
}

}  // namespace
}  // namespace edgebert
