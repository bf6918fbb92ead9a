// fill_mask.h: masked-LM logits to the top tokens for each [MASK], as transformers'
// FillMaskPipeline (4.57) post-processes them, with the decoded sequences.
//
// Only the logits rows at the [MASK] positions are needed (the caller runs the MLM head just
// there). "sequence" is tokenizer.decode of the input with the mask replaced: special tokens are
// skipped when there is one mask, kept (other [MASK]s, [CLS], [SEP]) when there are several.
// Example (tests/fixtures/pipelines/fill_mask.json: the tiny random uncased model,
// "The capital of France is [MASK].", top_k 2):
//   -> [[{score 0.2772, token 344, token_str "##と", sequence "the capital of france isと."},
//        {score 0.0662, token 754, token_str "παπαδοπουλ", sequence "the capital of france is παπαδοπουλ."}]]
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "heads/decode.h"
#include "heads/token_meta.h"
#include "util/status.h"

namespace edgebert {

struct FillMaskOptions {
  int top_k = 5;  // >= 1; capped to the number of targets when targets are given
  // Restrict predictions to these ids (the pipeline's `targets`, already resolved to ids;
  // duplicates are dropped). Must not be empty when given.
  std::optional<std::vector<int64_t>> target_ids;
  int64_t mask_token_id = -1;
  int64_t pad_token_id = -1;         // removed from the sequence before decoding (-1: none)
  std::vector<int64_t> special_ids;  // tokenizer.all_special_ids (skipped when decoding one mask)
  DecoderOptions decoder;
};

struct FillMaskCandidate {
  float score = 0;
  int64_t token = 0;
  std::string token_str;  // tokenizer.decode([token])
  std::string sequence;   // tokenizer.decode(input with this token at the mask)
};

// `input_ids`: the encoded input; `mask_logits`: (number of [MASK] tokens in input_ids,
// vocab.size()) row-major, in input order. Returns one list of candidates per mask, best first.
Result<std::vector<std::vector<FillMaskCandidate>>> FillMask(const std::vector<int64_t>& input_ids,
                                                             const std::vector<float>& mask_logits,
                                                             const TokenStrings& vocab,
                                                             const FillMaskOptions& options);

}  // namespace edgebert
