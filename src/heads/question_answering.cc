// question_answering.cc: masked softmax, span search, word alignment and answer merging per window.
#include "heads/question_answering.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <unordered_map>
#include <utility>

#include "tokenizer/unicode_ops.h"
#include "util/utf8.h"

namespace edgebert {

namespace {

struct Span {
  int start, end;  // token indices, inclusive
  float score;
};

// Best first: higher score, then earlier start, then earlier end (a strict total order).
bool Better(const Span& a, const Span& b) {
  if (a.score != b.score) return a.score > b.score;
  return a.start != b.start ? a.start < b.start : a.end < b.end;
}

// The best `k` spans s <= e < s + max_len with both ends allowed and not at position 0, best
// first. O(L * min(L, max_len) * log k) time and O(k) memory: a heap keeps the k best seen so far
// (its top is the worst of them), instead of the L x L matrix or every candidate.
std::vector<Span> BestSpans(const std::vector<float>& ps, const std::vector<float>& pe,
                            const std::vector<char>& allowed, int max_len, size_t k, size_t* examined) {
  std::vector<Span> heap;
  const int n = static_cast<int>(ps.size());
  for (int s = 1; s < n; ++s) {
    if (!allowed[s]) continue;
    const int stop = static_cast<int>(std::min<int64_t>(n, int64_t{s} + max_len));
    for (int e = s; e < stop; ++e) {
      if (!allowed[e]) continue;
      ++*examined;
      const Span span{s, e, ps[s] * pe[e]};
      if (heap.size() < k) {
        heap.push_back(span);
        std::push_heap(heap.begin(), heap.end(), Better);
      } else if (k > 0 && Better(span, heap.front())) {
        std::pop_heap(heap.begin(), heap.end(), Better);
        heap.back() = span;
        std::push_heap(heap.begin(), heap.end(), Better);
      }
    }
  }
  std::sort_heap(heap.begin(), heap.end(), Better);  // ascending in "worse": best first
  return heap;
}

// The context lowercased once (PythonLower works character by character, so the lowercase of a
// slice is the slice of the lowercase), with polynomial prefix hashes: an answer's case-insensitive
// key is then compared in O(1) expected time instead of lowering every answer for every other one.
class LoweredText {
 public:
  explicit LoweredText(std::string_view text) : at_(text.size() + 1, 0) {
    size_t i = 0;
    while (i < text.size()) {
      char32_t cp;
      const size_t len = std::max<size_t>(DecodeUtf8(text, i, &cp), 1);
      char32_t low[3];
      const int n = unicode::ToLowercase(cp, low);
      for (size_t j = i; j < std::min(i + len, text.size()); ++j) at_[j] = static_cast<uint32_t>(lower_.size());
      for (int k = 0; k < n; ++k) AppendUtf8(low[k], &lower_);
      i += len;
    }
    at_[text.size()] = static_cast<uint32_t>(lower_.size());
    hash_.assign(lower_.size() + 1, 0);
    pow_.assign(lower_.size() + 1, 1);
    for (size_t j = 0; j < lower_.size(); ++j) {
      hash_[j + 1] = hash_[j] * kBase + static_cast<unsigned char>(lower_[j]) + 1;
      pow_[j + 1] = pow_[j] * kBase;
    }
  }
  // The lowercase of text[start, end) as a range of the lowered text.
  std::pair<uint32_t, uint32_t> Range(int start, int end) const { return {at_[start], at_[end]}; }
  uint64_t Hash(std::pair<uint32_t, uint32_t> r) const {
    return hash_[r.second] - hash_[r.first] * pow_[r.second - r.first];
  }
  bool Equal(std::pair<uint32_t, uint32_t> a, std::pair<uint32_t, uint32_t> b) const {
    return a.second - a.first == b.second - b.first &&
           std::string_view(lower_).substr(a.first, a.second - a.first) ==
               std::string_view(lower_).substr(b.first, b.second - b.first);
  }

 private:
  static constexpr uint64_t kBase = 0x100000001B3ull;  // arithmetic mod 2^64
  std::string lower_;
  std::vector<uint32_t> at_;  // byte offset in the text -> byte offset in lower_
  std::vector<uint64_t> hash_, pow_;
};

struct Candidate {
  double score;
  int start, end;                        // byte offsets into the context
  std::pair<uint32_t, uint32_t> key;     // its lowercase, in LoweredText
  size_t next_same_hash;                 // chain of candidates with the same key hash
};

constexpr size_t kNone = static_cast<size_t>(-1);

}  // namespace

Result<std::vector<Answer>> AnswerQuestion(std::string_view question, std::string_view context,
                                           const std::vector<QaWindow>& windows,
                                           const QuestionAnsweringOptions& options, QuestionAnsweringWork* work) {
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
  if (context.size() >= std::numeric_limits<uint32_t>::max()) {
    return OutOfRange("question answering: the context is over 4 GiB");
  }
  QuestionAnsweringWork local;
  if (!work) work = &local;

  const int ctx = options.context_sequence_id;
  std::vector<std::string_view> texts = ctx == 1 ? std::vector<std::string_view>{question, context}
                                                 : std::vector<std::string_view>{context, question};
  const size_t pre_top_k = options.align_to_words ? static_cast<size_t>(options.top_k) * 2 + 10 : options.top_k;
  double min_null_score = 1000000;  // transformers' "large and positive" start value
  const LoweredText lowered(context);
  std::vector<Candidate> answers;
  std::unordered_map<uint64_t, size_t> by_hash;  // key hash -> last candidate with it

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

    // Encoding.word_to_chars within this window, for every context word at once: the first
    // token's start and the last token's end (indexed by word id - first_word).
    int first_word = std::numeric_limits<int>::max(), last_word = -1;
    for (const TokenMeta& t : win.tokens) {
      if (t.sequence_id == ctx && t.word_id >= 0) {
        first_word = std::min(first_word, t.word_id);
        last_word = std::max(last_word, t.word_id);
      }
    }
    std::vector<int> word_start, word_end;
    if (options.align_to_words && last_word >= 0) {
      word_start.assign(static_cast<size_t>(last_word - first_word) + 1, -1);
      word_end.assign(word_start.size(), -1);
      for (const TokenMeta& t : win.tokens) {
        if (t.sequence_id != ctx || t.word_id < 0) continue;
        const size_t k = static_cast<size_t>(t.word_id - first_word);
        if (word_start[k] < 0) word_start[k] = t.start_byte;
        word_end[k] = t.end_byte;
      }
    }
    auto word_index = [&](int word) -> int {
      if (word < first_word || word > last_word || word_start.empty()) return -1;
      return word - first_word;
    };

    std::vector<Span> spans = BestSpans(ps, pe, allowed, options.max_answer_len, pre_top_k, &work->spans_examined);
    if (spans.empty() && allowed[0]) {
      // No context token in this window (a whitespace-only context): transformers' only unmasked
      // candidate is then ([CLS], [CLS]), score 0, which it returns as the answer "" at 0..0.
      spans.push_back({0, 0, 0.0f});
    }
    for (const Span& span : spans) {
      const TokenMeta& ts = win.tokens[span.start];
      const TokenMeta& te = win.tokens[span.end];
      // Every token with the [CLS] id is a candidate, as in transformers (which unmasks each one),
      // also one inside the question (a question that tokenizes to it): its offsets are the
      // question's, not the context's, so such a span is skipped. Token 0 (the null answer) is kept.
      if ((span.start != 0 && ts.sequence_id != ctx) || (span.end != 0 && te.sequence_id != ctx)) continue;
      int start = ts.start_byte, end = te.end_byte;
      if (options.align_to_words && ts.word_id >= 0 && te.word_id >= 0) {
        if (const int k = word_index(ts.word_id); k >= 0) start = word_start[k];
        if (const int k = word_index(te.word_id); k >= 0) end = word_end[k];
      }
      if (end < start) end = start;  // cannot happen with s <= e on ordered offsets; keeps substr safe
      // Token 0's offsets lie in the context only when it is a [CLS] (0..0) or a context token.
      if (static_cast<size_t>(end) > context.size()) continue;
      const auto key = lowered.Range(start, end);
      const uint64_t h = lowered.Hash(key);
      size_t same = kNone;
      auto it = by_hash.find(h);
      for (size_t c = it == by_hash.end() ? kNone : it->second; c != kNone; c = answers[c].next_same_hash) {
        ++work->dedup_probes;
        if (lowered.Equal(answers[c].key, key)) {
          same = c;
          break;
        }
      }
      if (same != kNone) {
        answers[same].score += span.score;
      } else {
        const size_t prev = it == by_hash.end() ? kNone : it->second;
        answers.push_back({static_cast<double>(span.score), start, end, key, prev});
        by_hash[h] = answers.size() - 1;
      }
    }
  }
  work->answers_kept = answers.size();
  std::vector<Answer> out;
  out.reserve(std::min<size_t>(answers.size() + 1, static_cast<size_t>(options.top_k)));
  std::vector<size_t> order(answers.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  // transformers appends the null answer last and sorts stably by score.
  const size_t null_index = answers.size();
  if (options.handle_impossible_answer) order.push_back(null_index);
  auto score_of = [&](size_t i) { return i == null_index ? min_null_score : answers[i].score; };
  const size_t keep = std::min(order.size(), static_cast<size_t>(options.top_k));
  auto before = [&](size_t a, size_t b) {
    const double sa = score_of(a), sb = score_of(b);
    return sa != sb ? sa > sb : a < b;  // equal scores keep insertion order (a stable sort)
  };
  std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(keep), order.end(), before);
  for (size_t r = 0; r < keep; ++r) {
    const size_t i = order[r];
    if (i == null_index) {
      out.push_back({min_null_score, 0, 0, ""});
    } else {
      const Candidate& c = answers[i];
      out.push_back({c.score, c.start, c.end, std::string(context.substr(c.start, c.end - c.start))});
    }
  }
  return out;
}

}  // namespace edgebert
