// question_answering.h: start/end logits of the (question, context) windows to answers, as
// transformers' QuestionAnsweringPipeline (4.57, fast tokenizer, question first) post-processes them.
//
// Per window: logits of tokens outside the context (question, specials, padding) are set to -10000
// except [CLS]; softmax of start and of end; with handle_impossible_answer the null score is
// p_start[0] * p_end[0], minimised over windows; position 0 is then zeroed; a span (s, e) scores
// p_start[s] * p_end[e] for s <= e < s + max_answer_len with both ends in the context; the best
// top_k (2 * top_k + 10 when aligning to words) spans of each window map to context offsets,
// equal answers (case-insensitive) add their scores, the null answer is appended, and the top_k
// best are returned, best first.
//
// Example (tests/fixtures/pipelines/question_answering.json, case "multilingual", top_k 3, first answer):
//   AnswerQuestion("Wo liegt die Straße?", "Die Straße liegt in Düsseldorf, 東京 oder São Paulo 🎉 café.",
//                  windows, opts) -> [{score 0.0257, start 21, end 50, answer "Düsseldorf, 東京 oder São"}, ...]
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "heads/token_meta.h"
#include "util/status.h"

namespace edgebert {

struct QuestionAnsweringOptions {
  int top_k = 1;                    // >= 1
  int max_answer_len = 15;          // in tokens, >= 1
  bool handle_impossible_answer = false;
  bool align_to_words = true;       // widen the span to whole words (of this window)
  int64_t cls_token_id = -1;        // tokens with this id stay unmasked (transformers keeps [CLS] for the null answer)
  int context_sequence_id = 1;      // question first: the context is the second sequence
};

// One window: the question, then a slice of the context (overflowing tokens with doc_stride).
struct QaWindow {
  std::vector<TokenMeta> tokens;    // offsets of context tokens are bytes into `context`
  std::vector<float> start_logits;  // (tokens)
  std::vector<float> end_logits;    // (tokens)
};

struct Answer {
  double score = 0;  // probability (summed over equal answers, as transformers does)
  int start = 0;     // byte offsets into the context; 0, 0 for the null answer
  int end = 0;
  std::string answer;
};

// What one call did, for tests that check the cost grows linearly with the input.
struct QuestionAnsweringWork {
  size_t spans_examined = 0;  // (start, end) candidates scored, over all windows
  size_t answers_kept = 0;    // distinct answers (case-insensitive) before the final top_k
  size_t dedup_probes = 0;    // answer comparisons made while merging equal answers
};

// Differences from transformers, all on spans whose score is exactly 0 (masked or underflowed):
// transformers may return arbitrary ones of those (numpy's argpartition order), including spans
// starting at [CLS] or ending before they start; we never return a span touching position 0 and
// order equal scores by position. The one exception is a window without any context token (a
// whitespace-only context): there, as in transformers, the only candidate is ([CLS], [CLS]) and the
// answer is {score 0, start 0, end 0, ""} (after the null answer with handle_impossible_answer).
Result<std::vector<Answer>> AnswerQuestion(std::string_view question, std::string_view context,
                                           const std::vector<QaWindow>& windows,
                                           const QuestionAnsweringOptions& options,
                                           QuestionAnsweringWork* work = nullptr);

}  // namespace edgebert
