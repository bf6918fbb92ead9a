// token_classification.cc: pre-entities, word aggregation, B-/I- grouping and window merging.
#include "heads/token_classification.h"

#include <algorithm>
#include <cctype>
#include <cmath>

namespace edgebert {

namespace {

// A non-special token with its softmax scores (transformers' "pre_entity").
struct PreEntity {
  std::string word;  // token string, or the source slice for [UNK]
  const float* scores = nullptr;
  int start = 0, end = 0, index = 0;
  bool is_subword = false;
};

// A token or word carrying one label (transformers' "entity" before grouping).
struct Labelled {
  int label = 0;
  float score = 0;
  int index = -1;
  std::string word;
  int start = 0, end = 0;
};

int Argmax(const float* x, size_t n) {  // first maximum, as numpy
  return static_cast<int>(std::max_element(x, x + n) - x);
}

// transformers' get_tag: "B-X" -> (B, X), "I-X" -> (I, X), anything else -> (I, whole label).
std::pair<char, std::string_view> GetTag(std::string_view label) {
  if (label.substr(0, 2) == "B-") return {'B', label.substr(2)};
  if (label.substr(0, 2) == "I-") return {'I', label.substr(2)};
  return {'I', label};
}

Entity MakeGroup(const std::vector<Labelled>& members, const std::vector<std::string>& id2label,
                 const DecoderOptions& decoder, std::string_view text) {
  // group_sub_entities: name = first label's text after its first '-', score = mean, word decoded.
  const std::string& first = id2label[members.front().label];
  const size_t dash = first.find('-');
  Entity g;
  g.entity = dash == std::string::npos ? first : first.substr(dash + 1);
  double sum = 0;
  std::vector<std::string> words;
  for (const Labelled& m : members) {
    sum += m.score;
    words.push_back(m.word);
  }
  g.score = static_cast<float>(sum / members.size());
  g.word = ConvertTokensToString(words, decoder);
  g.start = members.front().start;
  g.end = members.back().end;
  g.source = std::string(text.substr(g.start, g.end - g.start));
  return g;
}

}  // namespace

Result<AggregationStrategy> ParseAggregationStrategy(std::string_view name) {
  std::string n(name);
  for (char& c : n) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (n == "none") return AggregationStrategy::kNone;
  if (n == "simple") return AggregationStrategy::kSimple;
  if (n == "first") return AggregationStrategy::kFirst;
  if (n == "average") return AggregationStrategy::kAverage;
  if (n == "max") return AggregationStrategy::kMax;
  return InvalidArgument("unknown aggregation_strategy '" + std::string(name) +
                         "': expected one of none, simple, first, average, max");
}

Result<std::vector<Entity>> ClassifyTokens(std::string_view text, const std::vector<TokenWindow>& windows,
                                           const std::vector<std::string>& id2label, const TokenStrings& vocab,
                                           const TokenClassificationOptions& options) {
  const AggregationStrategy strategy = options.aggregation_strategy;
  const bool word_strategy = strategy == AggregationStrategy::kFirst || strategy == AggregationStrategy::kAverage ||
                             strategy == AggregationStrategy::kMax;
  if (word_strategy && !options.fast_tokenizer) {
    return InvalidArgument(
        "Slow tokenizers cannot handle subwords. Please set the `aggregation_strategy` option to `\"simple\"` or use "
        "a fast tokenizer.");
  }
  if (windows.empty()) return InvalidArgument("token classification: no window given (an encoding has at least one)");
  if (windows.size() > 1 && strategy == AggregationStrategy::kNone) {
    return InvalidArgument(
        "`stride` was provided to process all the text but `aggregation_strategy=\"none\"`, please select another "
        "one instead (" + std::to_string(windows.size()) + " windows given)");
  }
  const size_t num_labels = id2label.size();
  if (num_labels == 0) return InvalidArgument("token classification: id2label is empty");

  std::vector<Entity> all;
  for (size_t w = 0; w < windows.size(); ++w) {
    const TokenWindow& win = windows[w];
    const std::string what = "token classification window " + std::to_string(w);
    EB_RETURN_IF_ERROR(ValidateTokens(win.tokens, {text}, vocab.size(), what));
    if (win.logits.size() != win.tokens.size() * num_labels) {
      return InvalidArgument(what + ": " + std::to_string(win.tokens.size()) + " tokens x " +
                             std::to_string(num_labels) + " labels needs " +
                             std::to_string(win.tokens.size() * num_labels) + " logits, got " +
                             std::to_string(win.logits.size()));
    }
    for (float v : win.logits) {
      if (!std::isfinite(v)) return InvalidArgument(what + ": a logit is not finite");
    }
    std::vector<float> scores = win.logits;  // (tokens, num_labels)
    for (size_t t = 0; t < win.tokens.size(); ++t) SoftmaxInPlace(&scores[t * num_labels], num_labels);

    // gather_pre_entities
    std::vector<PreEntity> pre;
    for (size_t t = 0; t < win.tokens.size(); ++t) {
      const TokenMeta& tok = win.tokens[t];
      if (tok.special) continue;
      if (tok.sequence_id != 0) {
        return InvalidArgument(what + " token " + std::to_string(t) +
                               ": a non-special token must belong to the text (sequence 0)");
      }
      PreEntity p;
      p.word = vocab[tok.id];
      p.scores = &scores[t * num_labels];
      p.start = tok.start_byte;
      p.end = tok.end_byte;
      p.index = static_cast<int>(t);
      const std::string_view ref = text.substr(tok.start_byte, tok.end_byte - tok.start_byte);
      if (options.subword_rule == SubwordRule::kContinuingPrefix) {
        p.is_subword = CountCodePoints(p.word) != CountCodePoints(ref);
      } else {
        const bool space_before = tok.start_byte > 0 && text[tok.start_byte - 1] == ' ';
        const bool space_at = static_cast<size_t>(tok.start_byte) < text.size() && text[tok.start_byte] == ' ';
        p.is_subword = tok.start_byte > 0 && !space_before && !space_at;
      }
      if (tok.id == options.unk_token_id) {
        p.word = std::string(ref);
        p.is_subword = false;
      }
      pre.push_back(std::move(p));
    }

    // aggregate: one label per token (none/simple) or per word (first/average/max)
    std::vector<Labelled> labelled;
    if (!word_strategy) {
      for (const PreEntity& p : pre) {
        const int k = Argmax(p.scores, num_labels);
        labelled.push_back({k, p.scores[k], p.index, p.word, p.start, p.end});
      }
    } else {
      size_t i = 0;
      while (i < pre.size()) {
        size_t j = i + 1;
        while (j < pre.size() && pre[j].is_subword) ++j;  // word = pre[i, j)
        std::vector<std::string> pieces;
        for (size_t k = i; k < j; ++k) pieces.push_back(pre[k].word);
        Labelled l;
        if (strategy == AggregationStrategy::kFirst) {
          l.label = Argmax(pre[i].scores, num_labels);
          l.score = pre[i].scores[l.label];
        } else if (strategy == AggregationStrategy::kMax) {
          size_t best = i;  // first token holding the highest score (Python's max())
          for (size_t k = i + 1; k < j; ++k) {
            if (*std::max_element(pre[k].scores, pre[k].scores + num_labels) >
                *std::max_element(pre[best].scores, pre[best].scores + num_labels)) {
              best = k;
            }
          }
          l.label = Argmax(pre[best].scores, num_labels);
          l.score = pre[best].scores[l.label];
        } else {  // kAverage: mean score per label over the word's tokens, then argmax
          std::vector<float> mean(num_labels);
          for (size_t c = 0; c < num_labels; ++c) {
            double s = 0;
            for (size_t k = i; k < j; ++k) s += pre[k].scores[c];
            mean[c] = static_cast<float>(s / (j - i));
          }
          l.label = Argmax(mean.data(), num_labels);
          l.score = mean[l.label];
        }
        l.word = ConvertTokensToString(pieces, options.decoder);
        l.start = pre[i].start;
        l.end = pre[j - 1].end;
        labelled.push_back(std::move(l));
        i = j;
      }
    }

    std::vector<Entity> entities;
    if (strategy == AggregationStrategy::kNone) {
      for (const Labelled& l : labelled) {
        entities.push_back({id2label[l.label], l.score, l.index, l.word, l.start, l.end,
                            std::string(text.substr(l.start, l.end - l.start))});
      }
    } else {
      // group_entities: extend the open group while the tag is the same and the new one is not B-.
      std::vector<Labelled> group;
      for (Labelled& l : labelled) {
        if (!group.empty()) {
          auto [bi, tag] = GetTag(id2label[l.label]);
          auto [last_bi, last_tag] = GetTag(id2label[group.back().label]);
          (void)last_bi;
          if (!(tag == last_tag && bi != 'B')) {
            entities.push_back(MakeGroup(group, id2label, options.decoder, text));
            group.clear();
          }
        }
        group.push_back(std::move(l));
      }
      if (!group.empty()) entities.push_back(MakeGroup(group, id2label, options.decoder, text));
    }
    for (Entity& e : entities) {
      if (std::find(options.ignore_labels.begin(), options.ignore_labels.end(), e.entity) ==
          options.ignore_labels.end()) {
        all.push_back(std::move(e));
      }
    }
  }
  if (windows.size() == 1 || all.empty()) return all;

  // aggregate_overlapping_entities: sort by start (stable); among entities starting inside the
  // kept one, keep the longest, then the higher score; the first seen wins ties.
  std::stable_sort(all.begin(), all.end(), [](const Entity& a, const Entity& b) { return a.start < b.start; });
  std::vector<Entity> merged;
  Entity previous = all.front();
  for (Entity& e : all) {
    if (previous.start <= e.start && e.start < previous.end) {
      const int len = e.end - e.start, previous_len = previous.end - previous.start;
      if (len > previous_len || (len == previous_len && e.score > previous.score)) previous = e;
    } else {
      merged.push_back(std::move(previous));
      previous = e;
    }
  }
  merged.push_back(std::move(previous));
  return merged;
}

}  // namespace edgebert
