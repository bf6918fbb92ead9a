// token_classification.h: per-token logits to entities, as transformers' TokenClassificationPipeline
// (4.57) post-processes them, with the five aggregation strategies.
//
// Example (tests/fixtures/pipelines/token_classification.json: tiny random cased NER model,
// text "Zoë Saldaña and José Martínez visited São Paulo ...", aggregation kFirst):
//   ClassifyTokens(text, windows, id2label, vocab, opts)
//     -> [{entity "ORG", score 0.7358, word "Zoë Saldaña", start 0, end 13 (bytes), source "Zoë Saldaña"}, ...]
// `word` is transformers' "word" (the WordPiece decoder over the vocabulary strings: lower-cased
// for uncased models, "##" merged, a group starting mid-word keeps its "##"); `source` is the exact
// slice text[start, end).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "heads/decode.h"
#include "heads/token_meta.h"
#include "util/status.h"

namespace edgebert {

enum class AggregationStrategy { kNone, kSimple, kFirst, kAverage, kMax };
// "none", "simple", "first", "average", "max" (any case).
Result<AggregationStrategy> ParseAggregationStrategy(std::string_view name);

// How a token is recognised as the continuation of the previous word (transformers'
// gather_pre_entities): kContinuingPrefix for tokenizers whose model has a continuing-subword
// prefix (WordPiece "##"): the token string's length differs from its source slice's length, in
// code points. kSpaceHeuristic otherwise: the token does not start the text and neither the
// character before it nor its first character is a space. An [UNK] token is never a subword.
enum class SubwordRule { kContinuingPrefix, kSpaceHeuristic };

struct TokenClassificationOptions {
  AggregationStrategy aggregation_strategy = AggregationStrategy::kNone;
  std::vector<std::string> ignore_labels = {"O"};  // compared to the label (kNone) or the group name
  SubwordRule subword_rule = SubwordRule::kContinuingPrefix;
  bool fast_tokenizer = true;  // transformers refuses first/average/max with a slow tokenizer
  int64_t unk_token_id = -1;   // its "word" is the source slice; -1 when the vocabulary has none
  DecoderOptions decoder;      // for "word" (convert_tokens_to_string)
};

// One window (the whole encoding, or one overflowing chunk when the text was split with a stride).
struct TokenWindow {
  std::vector<TokenMeta> tokens;
  std::vector<float> logits;  // (tokens, num_labels) row-major
};

struct Entity {
  std::string entity;  // the label ("B-PER") with kNone; the group ("PER") otherwise
  float score = 0;
  int index = -1;      // kNone: token index within its window; -1 for groups
  std::string word;    // transformers' "word"
  int start = 0;       // byte offsets into the text
  int end = 0;
  std::string source;  // text[start, end)
};

// All tokens' offsets refer to `text` (sequence 0). With several windows (stride), the entities of
// all windows are merged like transformers' aggregate_overlapping_entities; that needs an
// aggregation strategy other than kNone, as in transformers.
Result<std::vector<Entity>> ClassifyTokens(std::string_view text, const std::vector<TokenWindow>& windows,
                                           const std::vector<std::string>& id2label, const TokenStrings& vocab,
                                           const TokenClassificationOptions& options);

}  // namespace edgebert
