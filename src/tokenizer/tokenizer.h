// tokenizer.h: BERT WordPiece tokenizer with Hugging Face (fast, Rust) parity and byte offsets.
//
// Loads tokenizer.json (WordPiece + BertNormalizer + BertPreTokenizer + TemplateProcessing or
// BertProcessing) or vocab.txt with tokenizer_config.json / special_tokens_map.json, and encodes
// single texts and pairs exactly like `tokenizers` 0.22 / transformers' BertTokenizerFast:
// ids, token_type_ids, attention_mask, special_tokens_mask, offsets, word ids, sequence ids,
// truncation (longest_first / only_first / only_second) with stride and overflowing windows,
// padding. Offsets are BYTE offsets into the caller's UTF-8 text; ConvertOffsets() turns them into
// UTF-16 code units (JavaScript) or code points (Python).
//
// Example:
//   EB_ASSIGN_OR_RETURN(Tokenizer tok, Tokenizer::FromTokenizerJson(json_text));
//   EncodeOptions opt;
//   opt.truncation = {true, 384, 128, TruncationStrategy::kOnlySecond};
//   EB_ASSIGN_OR_RETURN(Encoding enc, tok.EncodePair(question, context, opt));
//   // enc and enc.overflowing[i]: one window each, like the question-answering pipeline.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/encoding.h"
#include "tokenizer/normalizer.h"
#include "tokenizer/wordpiece.h"
#include "util/status.h"

namespace edgebert {

enum class TruncationStrategy { kLongestFirst, kOnlyFirst, kOnlySecond };

// The most tokens one Encode/EncodePair may produce across the encoding and its overflowing
// windows, padding included (about 120 MB of fields), and the most windows truncation may make
// (a pair's windows counted as the product of both sides'; HF's merge nests about 3x that). A
// stride close to max_length repeats each token in many windows, and a pair whose two texts both
// overflow makes one window per combination, so small texts could otherwise ask for gigabytes and
// minutes; beyond these: OutOfRange.
constexpr size_t kMaxEncodingTokens = size_t{1} << 22;
constexpr size_t kMaxEncodingWindows = size_t{1} << 14;
enum class PaddingStrategy { kNone, kLongest, kMaxLength };

struct TruncationOptions {
  bool enabled = false;
  size_t max_length = 512;  // including the special tokens the post-processor adds
  size_t stride = 0;        // tokens shared by consecutive overflowing windows (< the room left)
  TruncationStrategy strategy = TruncationStrategy::kLongestFirst;
  // The overflowing windows (HF return_overflowing_tokens). false keeps the first window only,
  // which is all that transformers' pipelines use from truncation=True: then nothing past it is
  // copied, and a pair never builds the combinations of both sides' windows.
  bool return_overflowing = true;
};

// A pair whose two sequences both overflow gives every combination of their windows, as HF does
// (Encoding::MergeWith: 1 + p + q + 3pq windows). Above this many tokens in all those windows
// together the pair is refused instead of allocated: the same bound as one encoding's tokens
// (kMaxEncodingTokens, checked on the windows' product before they exist), here on the merged
// total, which nests the windows into about 3x as many.
inline constexpr size_t kMaxPairOverflowTokens = kMaxEncodingTokens;

struct PaddingOptions {
  PaddingStrategy strategy = PaddingStrategy::kNone;
  size_t max_length = 0;          // the target for kMaxLength
  size_t pad_to_multiple_of = 0;  // 0 = off
};

struct EncodeOptions {
  bool add_special_tokens = true;
  TruncationOptions truncation;
  PaddingOptions padding;
};

// A token matched in the raw text before normalization (HF AddedVocabulary), e.g. "[MASK]".
struct AddedToken {
  std::string content;
  int32_t id = -1;
  bool single_word = false;
  bool lstrip = false;
  bool rstrip = false;
  bool normalized = false;
  bool special = true;
};

// One piece of a post-processor template: a special token or the A/B sequence.
struct TemplatePiece {
  bool is_sequence = false;
  int sequence = 0;             // 0 = A, 1 = B (when is_sequence)
  std::vector<int32_t> ids;     // the special token's ids (when !is_sequence)
  int32_t type_id = 0;
};

enum class OffsetUnit { kByte, kUtf16, kCodePoint };

class Tokenizer {
 public:
  // tokenizer.json as written by `tokenizers` / transformers. Components other than the BERT
  // ones, and added tokens with single_word=true, give Unsupported naming the component.
  static Result<Tokenizer> FromTokenizerJson(std::string_view tokenizer_json);
  // vocab.txt plus the optional JSON configs (pass "" when a file is absent), building the same
  // pipeline transformers' BertTokenizerFast converter builds.
  static Result<Tokenizer> FromVocabFiles(std::string_view vocab_txt,
                                          std::string_view tokenizer_config_json,
                                          std::string_view special_tokens_map_json);

  Result<Encoding> Encode(std::string_view text, const EncodeOptions& options = {}) const;
  Result<Encoding> EncodePair(std::string_view first, std::string_view second,
                              const EncodeOptions& options = {}) const;
  // Batch form: padding kLongest pads every encoding (and its windows) to the longest main
  // encoding of the batch, as HF's encode_batch. `second` is empty or has texts.size() entries.
  Result<std::vector<Encoding>> EncodeBatch(const std::vector<std::string_view>& texts,
                                            const std::vector<std::string_view>& second,
                                            const EncodeOptions& options = {}) const;

  int32_t TokenToId(std::string_view token) const;  // -1 when unknown
  std::string_view IdToToken(int32_t id) const;     // "" when out of range
  size_t vocab_size() const { return model_.vocab().size(); }  // WordPiece entries (not added ones)
  int32_t pad_id() const { return pad_id_; }        // -1 when the files name no pad token
  int32_t pad_type_id() const { return pad_type_id_; }
  const BertNormalizer& normalizer() const { return normalizer_; }
  const std::vector<AddedToken>& added_tokens() const { return added_tokens_; }
  // Number of special tokens the post-processor adds (for a pair or a single text).
  size_t NumSpecialTokens(bool pair) const;
  // Defaults read from the files (tokenizer.json "truncation"/"padding"; model_max_length).
  const EncodeOptions& default_options() const { return defaults_; }
  size_t model_max_length() const { return model_max_length_; }

 private:
  Status EncodeSequence(std::string_view text, int32_t type_id, Encoding* out) const;
  Result<Encoding> PostProcess(Encoding a, Encoding* b, const EncodeOptions& options) const;
  Status Finalize(std::vector<Encoding>* encodings, const EncodeOptions& options) const;
  Status Validate();

  BertNormalizer normalizer_;
  WordPiece model_;
  // What the added-token matcher looks for: raw text (normalized=false) or normalized text.
  struct AddedPattern {
    std::string content;  // as matched (normalized by our normalizer when normalized=true)
    int32_t id;
    bool lstrip;
    bool rstrip;
  };
  struct AddedMatcher {
    std::vector<AddedPattern> patterns;  // longest first
    bool first_byte[256] = {};
    bool empty() const { return patterns.empty(); }
  };
  struct Match {
    size_t start, stop;  // bytes
    int32_t id;
  };
  // HF AddedVocabulary::find_matches: leftmost-longest, with lstrip/rstrip widening.
  static void FindMatches(std::string_view s, const AddedMatcher& m, std::vector<Match>* out);

  std::vector<AddedToken> added_tokens_;
  AddedMatcher raw_added_;
  AddedMatcher normalized_added_;
  std::vector<TemplatePiece> single_;
  std::vector<TemplatePiece> pair_;
  bool has_post_processor_ = false;
  int32_t pad_id_ = -1;
  int32_t pad_type_id_ = 0;
  size_t model_max_length_ = 0;  // 0 = unknown
  EncodeOptions defaults_;
};

// Rewrites every offset of `enc` (and its windows) from bytes into `unit`, using the text each
// token belongs to (sequence 0 -> first, 1 -> second). Specials and padding stay (0, 0).
void ConvertOffsets(std::string_view first, std::string_view second, OffsetUnit unit,
                    Encoding* enc);

}  // namespace edgebert
