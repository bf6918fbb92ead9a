// decode.h: token strings back to text the way a Hugging Face fast BERT tokenizer does it.
//
// convert_tokens_to_string(tokens) = the tokenizer.json WordPiece decoder: every token after the
// first gets a leading space unless it starts with the continuing-subword prefix ("##"), which is
// then removed once (the FIRST token keeps its "##"); with `cleanup` each piece is then cleaned
// (" ." -> ".", " n't" -> "n't", ...). decode(ids) maps ids to strings (optionally dropping special
// tokens), runs the same decoder and then, when clean_up_tokenization_spaces is set in
// tokenizer_config.json, transformers' Python-side clean_up_tokenization on the whole string.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "heads/token_meta.h"
#include "util/status.h"

namespace edgebert {

struct DecoderOptions {
  std::string continuing_subword_prefix = "##";  // tokenizer.json decoder.prefix
  bool wordpiece_cleanup = true;                  // tokenizer.json decoder.cleanup
  bool clean_up_tokenization_spaces = true;       // tokenizer_config.json (decode() only)
};

// tokenizer.convert_tokens_to_string(tokens).
std::string ConvertTokensToString(const std::vector<std::string>& tokens, const DecoderOptions& opts);

// transformers' PreTrainedTokenizerBase.clean_up_tokenization (whole-string replacements).
std::string CleanUpTokenization(std::string text);

// tokenizer.decode(ids, skip_special_tokens). `special_ids` are the special added tokens
// (tokenizer.all_special_ids). Ids outside the vocabulary are an InvalidArgument.
Result<std::string> DecodeIds(const std::vector<int64_t>& ids, const TokenStrings& vocab,
                              const std::vector<int64_t>& special_ids, bool skip_special_tokens,
                              const DecoderOptions& opts);

}  // namespace edgebert
