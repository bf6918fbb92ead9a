// question_answering.cc: masked softmax, span search, word alignment and answer merging per window.
#include "heads/question_answering.h"

#include <algorithm>
#include <cmath>

namespace edgebert {

namespace {

struct Span {
  int start, end;  // token indices, inclusive
  float score;
};

// The best `k` spans s <= e < s + max_len with both ends allowed and not at position 0, best
// first; equal scores in position order. O(L * max_len) candidates instead of the L x L matrix.
std::vector<Span> BestSpans(const std::vector<float>& ps, const std::vector<float>& pe,
                            const std::vector<char>& allowed, int max_len, size_t k) {
  std::vector<Span> spans;
  const int n = static_cast<int>(ps.size());
  for (int s = 1; s < n; ++s) {
    if (!allowed[s]) continue;
    for (int e = s; e < n && e - s < max_len; ++e) {
      if (allowed[e]) spans.push_back({s, e, ps[s] * pe[e]});
    }
  }
  const size_t keep = std::min(k, spans.size());
  auto better = [](const Span& a, const Span& b) {
    if (a.score != b.score) return a.score > b.score;
    return a.start != b.start ? a.start < b.start : a.end < b.end;
  };
  std::partial_sort(spans.begin(), spans.begin() + keep, spans.end(), better);
  spans.resize(keep);
  return spans;
}

}  // namespace

Result<std::vector<Answer>> AnswerQuestion(std::string_view question, std::string_view context,
                                           const std::vector<QaWindow>& windows,
                                           const QuestionAnsweringOptions& options) {
  if (question.empty()) return InvalidArgument("`question` cannot be empty");
  if (context.empty()) return InvalidArgument("`context` cannot be empty");
  if (options.top_k < 1) {
    return InvalidArgument("top_k parameter should be >= 1 (got " + std::to_string(options.top_k) + ")");
  }
  if (options.max_answer_len < 1) {
    return InvalidArgument("max_answer_len parameter should be >= 1 (got " + std::to_string(options.max_answer_len) +
                           ")");
  }
  if (options.context_sequence_id != 0 && options.context_sequence_id != 1) {
    return InvalidArgument("context_sequence_id must be 0 or 1 (got " + std::to_string(options.context_sequence_id) +
                           ")");
  }
  if (windows.empty()) return InvalidArgument("question answering: no window given (an encoding has at least one)");

  const int ctx = options.context_sequence_id;
  std::vector<std::string_view> texts = ctx == 1 ? std::vector<std::string_view>{question, context}
                                                 : std::vector<std::string_view>{context, question};
  const size_t pre_top_k = options.align_to_words ? static_cast<size_t>(options.top_k) * 2 + 10 : options.top_k;
  double min_null_score = 1000000;  // transformers' "large and positive" start value
  std::vector<Answer> answers;

  for (size_t w = 0; w < windows.size(); ++w) {
    const QaWindow& win = windows[w];
    const std::string what = "question answering window " + std::to_string(w);
    const size_t n = win.tokens.size();
    EB_RETURN_IF_ERROR(ValidateTokens(win.tokens, texts, 0, what));
    if (n == 0) return InvalidArgument(what + " has no tokens");
    if (win.start_logits.size() != n || win.end_logits.size() != n) {
      return InvalidArgument(what + ": " + std::to_string(n) + " tokens but " + std::to_string(win.start_logits.size()) +
                             " start and " + std::to_string(win.end_logits.size()) + " end logits");
    }
    std::vector<char> allowed(n);
    std::vector<float> ps(n), pe(n);
    for (size_t i = 0; i < n; ++i) {
      if (!std::isfinite(win.start_logits[i]) || !std::isfinite(win.end_logits[i])) {
        return InvalidArgument(what + ": logit " + std::to_string(i) + " is not finite");
      }
      allowed[i] = win.tokens[i].sequence_id == ctx || win.tokens[i].id == options.cls_token_id;
      ps[i] = allowed[i] ? win.start_logits[i] : -10000.0f;
      pe[i] = allowed[i] ? win.end_logits[i] : -10000.0f;
    }
    SoftmaxInPlace(ps.data(), n);
    SoftmaxInPlace(pe.data(), n);
    if (options.handle_impossible_answer) min_null_score = std::min<double>(min_null_score, ps[0] * pe[0]);
    ps[0] = pe[0] = 0;

    for (const Span& span : BestSpans(ps, pe, allowed, options.max_answer_len, pre_top_k)) {
      const TokenMeta& ts = win.tokens[span.start];
      const TokenMeta& te = win.tokens[span.end];
      int start = ts.start_byte, end = te.end_byte;
      if (options.align_to_words && ts.word_id >= 0 && te.word_id >= 0) {
        // Encoding.word_to_chars within this window: first token of the start word, last of the end word.
        bool found_start = false;
        for (size_t i = 0; i < n; ++i) {
          const TokenMeta& t = win.tokens[i];
          if (t.sequence_id != ctx) continue;
          if (t.word_id == ts.word_id && !found_start) {
            start = t.start_byte;
            found_start = true;
          }
          if (t.word_id == te.word_id) end = t.end_byte;
        }
      }
      if (end < start) end = start;  // cannot happen with s <= e on ordered offsets; keeps substr safe
      const std::string text(context.substr(start, end - start));
      const std::string lowered = PythonLower(text);
      auto same = std::find_if(answers.begin(), answers.end(),
                               [&](const Answer& a) { return PythonLower(a.answer) == lowered; });
      if (same != answers.end()) {
        same->score += span.score;
      } else {
        answers.push_back({static_cast<double>(span.score), start, end, text});
      }
    }
  }
  if (options.handle_impossible_answer) answers.push_back({min_null_score, 0, 0, ""});
  std::stable_sort(answers.begin(), answers.end(), [](const Answer& a, const Answer& b) { return a.score > b.score; });
  if (answers.size() > static_cast<size_t>(options.top_k)) answers.resize(options.top_k);
  return answers;
}

}  // namespace edgebert
