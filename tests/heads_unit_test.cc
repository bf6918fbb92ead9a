// heads_unit_test.cc: the task heads' rules on hand-built inputs: invalid options and inputs give
// InvalidArgument with transformers' wording, edge cases have the behaviour their headers state.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "heads/decode.h"
#include "heads/fill_mask.h"
#include "heads/question_answering.h"
#include "heads/sentence_embedding.h"
#include "heads/text_classification.h"
#include "heads/token_classification.h"
#include "heads/token_meta.h"

namespace edgebert {
namespace {

#define EXPECT_INVALID(expr, needle)                                          \
  do {                                                                        \
    auto eb_r_ = (expr);                                                      \
    ASSERT_FALSE(eb_r_.ok());                                                 \
    EXPECT_EQ(eb_r_.status().code(), StatusCode::kInvalidArgument);           \
    EXPECT_NE(eb_r_.status().message().find(needle), std::string::npos)       \
        << "message: " << eb_r_.status().message();                          \
  } while (0)

// ---------------------------------------------------------------------------------------------
// shared helpers

TEST(HeadsUtf8, OffsetsAndLowercase) {
  const std::string s = "aß東😀";  // 1 + 2 + 3 + 4 bytes
  EXPECT_EQ(CountCodePoints(s), 4);
  EXPECT_EQ(CodePointToByte(s, 2), 3);
  EXPECT_EQ(CodePointToByte(s, 9), 10);
  EXPECT_EQ(ByteToCodePoint(s, 6), 3);
  EXPECT_TRUE(IsUtf8Boundary(s, 6));
  EXPECT_FALSE(IsUtf8Boundary(s, 7));
  // Expected string printed by Python 3.11's str.lower() on the input.
  EXPECT_EQ(PythonLower("ÀÉÎÑÖØÞ Ÿ Ĳ Ł Ŋ Ž ΆΈΉΊΌΎΏ ΑΒΓ Ϊ Ѐ Ж Я Ѡ Ա Ḁ Ạ Ỹ Ｆ ẞ İ ß ǅ Σ HeLLo"),
            "àéîñöøþ ÿ ĳ ł ŋ ž άέήίόύώ αβγ ϊ ѐ ж я ѡ ա ḁ ạ ỹ ｆ ß i\xCC\x87 ß ǆ σ hello");
}

TEST(HeadsUtf8, ValidateTokensNamesTheProblem) {
  const std::string text = "née";  // n, é (2 bytes), e
  auto check = [&](TokenMeta t) { return ValidateTokens({t}, {text}, 10, "window 0"); };
  EXPECT_TRUE(check({3, 0, 1, 0, 0, false}).ok());
  Status s = check({11, 0, 1, 0, 0, false});
  EXPECT_NE(s.message().find("id 11 is outside the vocabulary of 10"), std::string::npos) << s.message();
  s = check({3, 0, 2, 0, 0, false});
  EXPECT_NE(s.message().find("split a UTF-8 character"), std::string::npos) << s.message();
  s = check({3, 2, 9, 0, 0, false});
  EXPECT_NE(s.message().find("past the end of text 0 (4 bytes)"), std::string::npos) << s.message();
  s = check({3, 3, 1, 0, 0, false});
  EXPECT_NE(s.message().find("not an ordered range"), std::string::npos) << s.message();
  s = check({3, 0, 1, 0, 1, false});
  EXPECT_NE(s.message().find("sequence_id 1 but 1 text(s)"), std::string::npos) << s.message();
  s = check({2, 0, 1, -1, -1, true});
  EXPECT_NE(s.message().find("must have empty offsets"), std::string::npos) << s.message();
}

TEST(HeadsDecode, WordPieceDecoderAndCleanup) {
  DecoderOptions no_cleanup;
  no_cleanup.wordpiece_cleanup = false;
  // tokenizers' own decoder test: the first token keeps its "##".
  EXPECT_EQ(ConvertTokensToString({"##uelo", "Ara", "##új", "##o", "No", "##guera"}, no_cleanup),
            "##uelo Araújo Noguera");
  DecoderOptions opts;
  EXPECT_EQ(ConvertTokensToString({"hello", ",", "world", "!", "it", "'", "s", "?"}, opts), "hello, world! it ' s?");
  EXPECT_EQ(ConvertTokensToString({}, opts), "");
  // Python-side clean-up works on the whole string (" ' " -> "'", " 's" -> "'s", no " do not").
  EXPECT_EQ(CleanUpTokenization("it ' s a dog 's toy , do not ."), "it's a dog's toy, do not.");
  const TokenStrings vocab = {"[PAD]", "[CLS]", "[SEP]", "[MASK]", "the", "cat", "##s", "."};
  auto d = DecodeIds({1, 4, 5, 6, 3, 7, 2, 0}, vocab, {0, 1, 2, 3}, true, opts);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(*d, "the cats.");
  d = DecodeIds({1, 4, 3, 7, 2}, vocab, {0, 1, 2, 3}, false, opts);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(*d, "[CLS] the [MASK]. [SEP]");
  EXPECT_INVALID(DecodeIds({8}, vocab, {}, false, opts), "token id 8 is outside the vocabulary of 8");
}

// ---------------------------------------------------------------------------------------------
// text classification

TEST(HeadsTextClassification, FunctionFromConfigAsTransformers) {
  TextClassifierConfig c;
  c.id2label = {"a", "b"};
  EXPECT_EQ(ResolveClassificationFunction(c, ClassificationFunction::kDefault), ClassificationFunction::kSoftmax);
  c.problem_type = ProblemType::kMultiLabel;
  EXPECT_EQ(ResolveClassificationFunction(c, ClassificationFunction::kDefault), ClassificationFunction::kSigmoid);
  c.problem_type = ProblemType::kRegression;
  EXPECT_EQ(ResolveClassificationFunction(c, ClassificationFunction::kDefault), ClassificationFunction::kNone);
  EXPECT_EQ(ResolveClassificationFunction(c, ClassificationFunction::kSoftmax), ClassificationFunction::kSoftmax);
  c.problem_type = ProblemType::kUnspecified;
  c.id2label = {"only"};
  EXPECT_EQ(ResolveClassificationFunction(c, ClassificationFunction::kDefault), ClassificationFunction::kSigmoid);
  c.problem_type = ProblemType::kSingleLabel;  // single_label wins only after num_labels == 1
  EXPECT_EQ(ResolveClassificationFunction(c, ClassificationFunction::kDefault), ClassificationFunction::kSigmoid);
}

TEST(HeadsTextClassification, TopKAndTies) {
  TextClassifierConfig c;
  c.id2label = {"x", "y", "z"};
  TextClassificationOptions o;
  o.top_k = std::nullopt;
  auto r = ClassifyText({1.0f, 3.0f, 1.0f}, c, o);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->size(), 3u);
  EXPECT_EQ((*r)[0].label, "y");
  EXPECT_EQ((*r)[1].label, "x");  // equal scores keep label order (Python's stable sort)
  EXPECT_EQ((*r)[2].label, "z");
  o.top_k = 10;  // more than the labels: all of them
  EXPECT_EQ(ClassifyText({1.0f, 3.0f, 1.0f}, c, o)->size(), 3u);
  o.all_scores_in_label_order = true;
  EXPECT_EQ((*ClassifyText({1.0f, 3.0f, 1.0f}, c, o))[0].label, "x");
}

TEST(HeadsTextClassification, RejectsBadOptionsAndInputs) {
  TextClassifierConfig c;
  c.id2label = {"x", "y"};
  TextClassificationOptions o;
  o.top_k = 0;
  EXPECT_INVALID(ClassifyText({1, 2}, c, o), "top_k must be >= 1 (got 0)");
  o.top_k = -1;
  EXPECT_INVALID(ClassifyText({1, 2}, c, o), "top_k must be >= 1 (got -1)");
  o.top_k = 1;
  EXPECT_INVALID(ClassifyText({1, 2, 3}, c, o), "got 3 logits but id2label has 2 labels");
  EXPECT_INVALID(ClassifyText({1, std::numeric_limits<float>::quiet_NaN()}, c, o), "logit 1 is not finite");
  EXPECT_INVALID(ClassifyTextBatch({1, 2, 3}, 2, c, o), "a batch of 2 with 2 labels needs 4 logits, got 3");
  EXPECT_INVALID(ClassifyText({}, TextClassifierConfig{}, o), "id2label is empty");
  EXPECT_INVALID(ParseClassificationFunction("relu"), "Unrecognized `function_to_apply` argument: 'relu'");
  EXPECT_TRUE(ParseClassificationFunction("SoftMax").ok());
  EXPECT_INVALID(ParseProblemType("ranking"), "problem_type 'ranking'");
}

// ---------------------------------------------------------------------------------------------
// token classification

// "Ab cd" tokenised as [CLS] A ##b cd [SEP] with a toy vocabulary; labels O, B-X, I-X.
struct NerToy {
  std::string text = "Ab cd";
  TokenStrings vocab = {"[CLS]", "[SEP]", "A", "##b", "cd", "[UNK]"};
  std::vector<std::string> labels = {"O", "B-X", "I-X"};
  TokenWindow window;
  NerToy() {
    window.tokens = {{0, 0, 0, -1, -1, true}, {2, 0, 1, 0, 0, false}, {3, 1, 2, 0, 0, false},
                     {4, 3, 5, 1, 0, false}, {1, 0, 0, -1, -1, true}};
    //                 O    B-X  I-X
    window.logits = {0, 0, 0,     // [CLS]
                     0, 5, 0,     // A   -> B-X
                     5, 0, 0,     // ##b -> O
                     0, 0, 5,     // cd  -> I-X
                     0, 0, 0};    // [SEP]
  }
};

TEST(HeadsTokenClassification, StrategiesOnToyInput) {
  NerToy t;
  TokenClassificationOptions o;
  o.aggregation_strategy = AggregationStrategy::kSimple;
  auto r = ClassifyTokens(t.text, {t.window}, t.labels, t.vocab, o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->size(), 2u);  // "A" (X), "##b" is O and ignored, "cd" starts a new X group
  EXPECT_EQ((*r)[0].word, "A");
  EXPECT_EQ((*r)[1].word, "cd");
  o.aggregation_strategy = AggregationStrategy::kFirst;  // the word "Ab" takes A's label
  r = ClassifyTokens(t.text, {t.window}, t.labels, t.vocab, o);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->size(), 1u);  // B-X "Ab" then I-X "cd" form one group
  EXPECT_EQ((*r)[0].entity, "X");
  EXPECT_EQ((*r)[0].word, "Ab cd");
  EXPECT_EQ((*r)[0].source, "Ab cd");
  // [UNK]'s word is the source slice and it is never a subword.
  t.window.tokens[2].id = 5;
  o.aggregation_strategy = AggregationStrategy::kNone;
  o.ignore_labels = {};
  o.unk_token_id = 5;
  r = ClassifyTokens(t.text, {t.window}, t.labels, t.vocab, o);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->size(), 3u);
  EXPECT_EQ((*r)[1].word, "b");
  EXPECT_EQ((*r)[1].index, 2);
}

TEST(HeadsTokenClassification, SpaceHeuristicForTokenizersWithoutPrefix) {
  NerToy t;
  t.vocab[3] = "b";  // no "##": only the space heuristic can tell that "b" continues "A"
  TokenClassificationOptions o;
  o.aggregation_strategy = AggregationStrategy::kFirst;
  o.subword_rule = SubwordRule::kSpaceHeuristic;
  o.decoder.continuing_subword_prefix = "";
  auto r = ClassifyTokens(t.text, {t.window}, t.labels, t.vocab, o);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->size(), 1u);
  EXPECT_EQ((*r)[0].word, "A b cd");  // the decoder still joins with spaces
  EXPECT_EQ((*r)[0].end, 5);
}

TEST(HeadsTokenClassification, EmptyTextAndNoEntity) {
  NerToy t;
  TokenWindow empty;
  empty.tokens = {{0, 0, 0, -1, -1, true}, {1, 0, 0, -1, -1, true}};
  empty.logits = std::vector<float>(6, 0.0f);
  for (auto s : {AggregationStrategy::kNone, AggregationStrategy::kSimple, AggregationStrategy::kFirst,
                 AggregationStrategy::kAverage, AggregationStrategy::kMax}) {
    TokenClassificationOptions o;
    o.aggregation_strategy = s;
    auto r = ClassifyTokens("", {empty}, t.labels, t.vocab, o);
    ASSERT_TRUE(r.ok());
    EXPECT_TRUE(r->empty());
    o.ignore_labels = {"O", "X", "B-X", "I-X"};  // everything ignored: no entity
    r = ClassifyTokens(t.text, {t.window}, t.labels, t.vocab, o);
    ASSERT_TRUE(r.ok());
    EXPECT_TRUE(r->empty());
  }
}

TEST(HeadsTokenClassification, RejectsBadOptionsAndInputs) {
  NerToy t;
  EXPECT_INVALID(ParseAggregationStrategy("longest"),
                 "unknown aggregation_strategy 'longest': expected one of none, simple, first, average, max");
  EXPECT_TRUE(ParseAggregationStrategy("AVERAGE").ok());
  TokenClassificationOptions o;
  o.fast_tokenizer = false;
  o.aggregation_strategy = AggregationStrategy::kMax;
  EXPECT_INVALID(ClassifyTokens(t.text, {t.window}, t.labels, t.vocab, o),
                 "Slow tokenizers cannot handle subwords. Please set the `aggregation_strategy` option to");
  o.aggregation_strategy = AggregationStrategy::kSimple;  // allowed with a slow tokenizer, as transformers
  EXPECT_TRUE(ClassifyTokens(t.text, {t.window}, t.labels, t.vocab, o).ok());
  o = {};
  EXPECT_INVALID(ClassifyTokens(t.text, {t.window, t.window}, t.labels, t.vocab, o),
                 "`stride` was provided to process all the text but `aggregation_strategy=\"none\"`");
  EXPECT_INVALID(ClassifyTokens(t.text, {}, t.labels, t.vocab, o), "no window");
  TokenWindow bad = t.window;
  bad.logits.pop_back();
  EXPECT_INVALID(ClassifyTokens(t.text, {bad}, t.labels, t.vocab, o), "5 tokens x 3 labels needs 15 logits, got 14");
  bad = t.window;
  bad.tokens[3].end_byte = 9;
  EXPECT_INVALID(ClassifyTokens(t.text, {bad}, t.labels, t.vocab, o), "past the end of text 0");
  bad = t.window;
  bad.tokens[1].id = 6;
  EXPECT_INVALID(ClassifyTokens(t.text, {bad}, t.labels, t.vocab, o), "id 6 is outside the vocabulary of 6");
  bad = t.window;
  bad.logits[4] = std::numeric_limits<float>::infinity();
  EXPECT_INVALID(ClassifyTokens(t.text, {bad}, t.labels, t.vocab, o), "not finite");
}

TEST(HeadsTokenClassification, OverlappingWindowsKeepTheLongerEntity) {
  // Two windows over "Ab cd": the first sees "Ab" as one entity, the second "Ab cd".
  NerToy t;
  TokenClassificationOptions o;
  o.aggregation_strategy = AggregationStrategy::kFirst;
  TokenWindow w1 = t.window;
  w1.tokens = {{0, 0, 0, -1, -1, true}, {2, 0, 1, 0, 0, false}, {3, 1, 2, 0, 0, false}, {1, 0, 0, -1, -1, true}};
  w1.logits = {0, 0, 0, 0, 9, 0, 0, 0, 9, 0, 0, 0};
  auto r = ClassifyTokens(t.text, {w1, t.window}, t.labels, t.vocab, o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->size(), 1u);
  EXPECT_EQ((*r)[0].start, 0);
  EXPECT_EQ((*r)[0].end, 5);
}

// ---------------------------------------------------------------------------------------------
// question answering

// [CLS] q [SEP] ctx0 ctx1 ##ctx2 [SEP] over question "Q?" and context "Ab cd".
QaWindow QaToy() {
  QaWindow w;
  w.tokens = {{2, 0, 0, -1, -1, true}, {7, 0, 2, 0, 0, false}, {3, 0, 0, -1, -1, true},
              {8, 0, 2, 0, 1, false},  {9, 3, 4, 1, 1, false}, {10, 4, 5, 1, 1, false},
              {3, 0, 0, -1, -1, true}};
  w.start_logits = {0, 9, 0, 1, 3, 0, 0};  // question token's high logit must be masked out
  w.end_logits = {0, 9, 0, 0, 3, 1, 0};
  return w;
}

TEST(HeadsQuestionAnswering, AlignsToWordsAndMerges) {
  QuestionAnsweringOptions o;
  o.cls_token_id = 2;
  o.top_k = 3;
  auto r = AnswerQuestion("Q?", "Ab cd", {QaToy()}, o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_FALSE(r->empty());
  EXPECT_EQ((*r)[0].answer, "cd");  // token "c" widened to the word "cd"
  // (4,4) and (4,5) both widen to "cd" and merge: one answer holding both scores.
  for (size_t i = 1; i < r->size(); ++i) EXPECT_NE((*r)[i].answer, "cd");
  o.align_to_words = false;
  r = AnswerQuestion("Q?", "Ab cd", {QaToy()}, o);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)[0].answer, "c");
  o.max_answer_len = 1;
  r = AnswerQuestion("Q?", "Ab cd", {QaToy()}, o);
  ASSERT_TRUE(r.ok());
  for (const Answer& a : *r) EXPECT_LE(a.end - a.start, 2);
}

TEST(HeadsQuestionAnswering, NoContextTokenGivesTheEmptyAnswerAtCls) {
  QaWindow w;
  w.tokens = {{2, 0, 0, -1, -1, true}, {7, 0, 2, 0, 0, false}, {3, 0, 0, -1, -1, true}, {3, 0, 0, -1, -1, true}};
  w.start_logits = w.end_logits = {1, 2, 3, 4};
  QuestionAnsweringOptions o;
  o.cls_token_id = 2;
  // As transformers: ([CLS], [CLS]) is the only candidate left, score 0, answer "" at 0..0.
  auto r = AnswerQuestion("Q?", "   ", {w}, o);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->size(), 1u);
  EXPECT_EQ((*r)[0].answer, "");
  EXPECT_EQ((*r)[0].start, 0);
  EXPECT_EQ((*r)[0].end, 0);
  EXPECT_EQ((*r)[0].score, 0.0);
  o.handle_impossible_answer = true;
  o.top_k = 3;
  r = AnswerQuestion("Q?", "   ", {w}, o);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->size(), 2u);  // the null answer first, then the score-0 span (not merged with it)
  EXPECT_EQ((*r)[0].answer, "");
  EXPECT_DOUBLE_EQ((*r)[0].score, 1.0);  // [CLS] is the only unmasked token: p = 1 * 1
  EXPECT_EQ((*r)[1].answer, "");
  EXPECT_EQ((*r)[1].score, 0.0);
}

TEST(HeadsQuestionAnswering, RejectsBadOptionsAndInputs) {
  QuestionAnsweringOptions o;
  EXPECT_INVALID(AnswerQuestion("", "ctx", {QaToy()}, o), "`question` cannot be empty");
  EXPECT_INVALID(AnswerQuestion("Q?", "", {QaToy()}, o), "`context` cannot be empty");
  o.top_k = 0;
  EXPECT_INVALID(AnswerQuestion("Q?", "Ab cd", {QaToy()}, o), "top_k parameter should be >= 1 (got 0)");
  o.top_k = 1;
  o.max_answer_len = 0;
  EXPECT_INVALID(AnswerQuestion("Q?", "Ab cd", {QaToy()}, o), "max_answer_len parameter should be >= 1 (got 0)");
  o.max_answer_len = 15;
  EXPECT_INVALID(AnswerQuestion("Q?", "Ab cd", {}, o), "no window");
  QaWindow bad = QaToy();
  bad.end_logits.pop_back();
  EXPECT_INVALID(AnswerQuestion("Q?", "Ab cd", {bad}, o), "7 tokens but 7 start and 6 end logits");
  bad = QaToy();
  bad.start_logits[3] = std::numeric_limits<float>::quiet_NaN();
  EXPECT_INVALID(AnswerQuestion("Q?", "Ab cd", {bad}, o), "logit 3 is not finite");
  bad = QaToy();
  bad.tokens[5].end_byte = 6;
  EXPECT_INVALID(AnswerQuestion("Q?", "Ab cd", {bad}, o), "past the end of text 1");
  o.context_sequence_id = 2;
  EXPECT_INVALID(AnswerQuestion("Q?", "Ab cd", {QaToy()}, o), "context_sequence_id must be 0 or 1");
}

// ---------------------------------------------------------------------------------------------
// sentence embeddings

TEST(HeadsSentenceEmbedding, PoolingEdgeCases) {
  const std::vector<float> h = {1, 2, 3, 4, 100, 100};  // (3 tokens, 2)
  auto mean = PoolTokenEmbeddings(h.data(), 3, 2, {1, 1, 0}, Pooling::kMean, false);
  ASSERT_TRUE(mean.ok());
  EXPECT_EQ(*mean, (std::vector<float>{2, 3}));  // padding excluded
  auto cls = PoolTokenEmbeddings(h.data(), 3, 2, {1, 1, 0}, Pooling::kCls, true);
  ASSERT_TRUE(cls.ok());
  EXPECT_NEAR((*cls)[0], 1 / std::sqrt(5.0), 1e-7);  // float rounding of 1/sqrt(5)
  // No attended token: sum 0 / clamp(0, 1e-9) = 0, and normalising 0 stays 0 (torch semantics).
  auto zero = PoolTokenEmbeddings(h.data(), 3, 2, {0, 0, 0}, Pooling::kMean, true);
  ASSERT_TRUE(zero.ok());
  EXPECT_EQ(*zero, (std::vector<float>{0, 0}));
  EXPECT_INVALID(PoolTokenEmbeddings(h.data(), 3, 2, {1, 1}, Pooling::kMean, false),
                 "attention_mask has 2 entries for 3 tokens");
  EXPECT_INVALID(PoolTokenEmbeddings(h.data(), 3, 2, {1, 2, 0}, Pooling::kMean, false), "attention_mask[1] is 2");
  EXPECT_INVALID(PoolTokenEmbeddings(h.data(), 0, 2, {}, Pooling::kMean, false), "empty token embeddings");
  EXPECT_INVALID(CosineSimilarity({1, 2}, {1, 2, 3}), "vectors of 2 and 3 values");
  EXPECT_INVALID(RankBySimilarity({1, 0}, {{1, 0}}, 0), "top_k must be >= 1");
  auto hits = RankBySimilarity({1, 0}, {{0, 1}, {1, 0}, {2, 0}}, 5);
  ASSERT_TRUE(hits.ok());
  ASSERT_EQ(hits->size(), 3u);
  EXPECT_EQ((*hits)[0].corpus_id, 1u);  // equal similarity: corpus order
  EXPECT_EQ((*hits)[1].corpus_id, 2u);
  EXPECT_EQ((*hits)[2].corpus_id, 0u);
}

// ---------------------------------------------------------------------------------------------
// fill-mask

TEST(HeadsFillMask, RejectsBadOptionsAndInputs) {
  const TokenStrings vocab = {"[PAD]", "[CLS]", "[SEP]", "[MASK]", "the", "cat"};
  FillMaskOptions o;
  o.mask_token_id = 3;
  o.special_ids = {0, 1, 2, 3};
  const std::vector<float> logits = {0, 0, 0, 0, 1, 2};
  EXPECT_INVALID(FillMask({1, 4, 2}, logits, vocab, o), "No mask_token ([MASK]) found on the input");
  o.top_k = 0;
  EXPECT_INVALID(FillMask({1, 3, 2}, logits, vocab, o), "top_k must be >= 1 (got 0)");
  o.top_k = 7;
  EXPECT_INVALID(FillMask({1, 3, 2}, logits, vocab, o), "top_k 7 is larger than the vocabulary (6 tokens)");
  o.top_k = 2;
  EXPECT_INVALID(FillMask({1, 3, 2}, {0, 1}, vocab, o), "1 mask(s) x 6 vocabulary entries needs 6 logits, got 2");
  EXPECT_INVALID(FillMask({1, 9, 2}, logits, vocab, o), "input id 9 at position 1");
  o.target_ids = std::vector<int64_t>{};
  EXPECT_INVALID(FillMask({1, 3, 2}, logits, vocab, o), "At least one target must be provided when passed.");
  o.target_ids = std::vector<int64_t>{4, 99};
  EXPECT_INVALID(FillMask({1, 3, 2}, logits, vocab, o), "target id 99");
  o.target_ids = std::vector<int64_t>{4, 4};  // duplicates dropped, top_k capped to the targets
  auto r = FillMask({1, 3, 2}, logits, vocab, o);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->size(), 1u);
  ASSERT_EQ((*r)[0].size(), 1u);
  EXPECT_EQ((*r)[0][0].sequence, "the");
  o.mask_token_id = -1;
  EXPECT_INVALID(FillMask({1, 3, 2}, logits, vocab, o), "does not define a `mask_token`");
}

}  // namespace
}  // namespace edgebert
