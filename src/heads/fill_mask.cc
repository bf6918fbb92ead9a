// fill_mask.cc: softmax over the vocabulary (or the targets), top-k and decoding per [MASK].
#include "heads/fill_mask.h"

#include <algorithm>
#include <cmath>

namespace edgebert {

Result<std::vector<std::vector<FillMaskCandidate>>> FillMask(const std::vector<int64_t>& input_ids,
                                                             const std::vector<float>& mask_logits,
                                                             const TokenStrings& vocab,
                                                             const FillMaskOptions& options) {
  const size_t v = vocab.size();
  if (v == 0) return InvalidArgument("fill-mask: empty vocabulary");
  if (options.mask_token_id < 0 || static_cast<size_t>(options.mask_token_id) >= v) {
    return InvalidArgument("fill-mask: The tokenizer does not define a `mask_token` (mask_token_id " +
                           std::to_string(options.mask_token_id) + ")");
  }
  std::vector<size_t> positions;
  for (size_t i = 0; i < input_ids.size(); ++i) {
    if (input_ids[i] < 0 || static_cast<size_t>(input_ids[i]) >= v) {
      return InvalidArgument("fill-mask: input id " + std::to_string(input_ids[i]) + " at position " +
                             std::to_string(i) + " is outside the vocabulary of " + std::to_string(v) + " tokens");
    }
    if (input_ids[i] == options.mask_token_id) positions.push_back(i);
  }
  if (positions.empty()) {
    return InvalidArgument("fill-mask: No mask_token (" + vocab[options.mask_token_id] + ") found on the input");
  }
  if (mask_logits.size() != positions.size() * v) {
    return InvalidArgument("fill-mask: " + std::to_string(positions.size()) + " mask(s) x " + std::to_string(v) +
                           " vocabulary entries needs " + std::to_string(positions.size() * v) + " logits, got " +
                           std::to_string(mask_logits.size()));
  }
  std::vector<int64_t> candidates;  // ids the scores are taken over
  if (options.target_ids) {
    for (int64_t id : *options.target_ids) {
      if (id < 0 || static_cast<size_t>(id) >= v) {
        return InvalidArgument("fill-mask: target id " + std::to_string(id) + " is outside the vocabulary of " +
                               std::to_string(v) + " tokens");
      }
      if (std::find(candidates.begin(), candidates.end(), id) == candidates.end()) candidates.push_back(id);
    }
    if (candidates.empty()) return InvalidArgument("At least one target must be provided when passed.");
  } else {
    for (size_t i = 0; i < v; ++i) candidates.push_back(static_cast<int64_t>(i));
  }
  if (options.top_k < 1) {
    return InvalidArgument("fill-mask: top_k must be >= 1 (got " + std::to_string(options.top_k) + ")");
  }
  const size_t k = std::min(static_cast<size_t>(options.top_k), candidates.size());
  if (!options.target_ids && static_cast<size_t>(options.top_k) > v) {
    return InvalidArgument("fill-mask: top_k " + std::to_string(options.top_k) + " is larger than the vocabulary (" +
                           std::to_string(v) + " tokens)");
  }

  const bool single_mask = positions.size() == 1;
  std::vector<std::vector<FillMaskCandidate>> out;
  for (size_t m = 0; m < positions.size(); ++m) {
    // Softmax over the whole vocabulary, then the targets' probabilities (as transformers).
    std::vector<float> probs(mask_logits.begin() + m * v, mask_logits.begin() + (m + 1) * v);
    for (float x : probs) {
      if (!std::isfinite(x)) return InvalidArgument("fill-mask: mask " + std::to_string(m) + " has a non-finite logit");
    }
    SoftmaxInPlace(probs.data(), v);
    std::vector<size_t> order(candidates.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::partial_sort(order.begin(), order.begin() + k, order.end(), [&](size_t a, size_t b) {
      const float pa = probs[candidates[a]], pb = probs[candidates[b]];
      return pa != pb ? pa > pb : a < b;
    });
    std::vector<FillMaskCandidate> row;
    for (size_t r = 0; r < k; ++r) {
      const int64_t token = candidates[order[r]];
      std::vector<int64_t> ids;
      ids.reserve(input_ids.size());
      for (size_t i = 0; i < input_ids.size(); ++i) {
        const int64_t id = i == positions[m] ? token : input_ids[i];
        if (id != options.pad_token_id) ids.push_back(id);
      }
      FillMaskCandidate c;
      c.score = probs[token];
      c.token = token;
      EB_ASSIGN_OR_RETURN(c.token_str, DecodeIds({token}, vocab, options.special_ids, false, options.decoder));
      EB_ASSIGN_OR_RETURN(c.sequence, DecodeIds(ids, vocab, options.special_ids, single_mask, options.decoder));
      row.push_back(std::move(c));
    }
    out.push_back(std::move(row));
  }
  return out;
}

}  // namespace edgebert
