// sentence_embedding.h: token embeddings to one sentence embedding, and cosine-similarity search,
// as sentence-transformers' Pooling / Normalize modules and util.cos_sim / util.semantic_search do.
//
// The feature-extraction pipeline itself returns the encoder's last hidden state unchanged; these
// helpers are what a sentence-embedding model (e.g. all-MiniLM-L6-v2: mean pooling + normalize)
// adds on top.
// Example: PoolTokenEmbeddings(hidden, 9, 384, mask, Pooling::kMean, true) -> 384 floats, norm 1.
#pragma once

#include <cstddef>
#include <vector>

#include "util/status.h"

namespace edgebert {

enum class Pooling {
  kMean,  // sum over tokens with attention_mask 1, divided by max(count, 1e-9)
  kCls,   // the first token's vector
};

// `hidden` is (seq_len, hidden_size) row-major; `attention_mask` has seq_len entries (0 or 1).
// normalize: divide by max(L2 norm, 1e-12) (torch.nn.functional.normalize).
Result<std::vector<float>> PoolTokenEmbeddings(const float* hidden, size_t seq_len, size_t hidden_size,
                                               const std::vector<int>& attention_mask, Pooling pooling,
                                               bool normalize);

// Cosine similarity, each vector divided by max(norm, 1e-12) first (sentence-transformers' cos_sim).
// Vectors of different lengths are an InvalidArgument.
Result<float> CosineSimilarity(const std::vector<float>& a, const std::vector<float>& b);

struct SearchHit {
  size_t corpus_id = 0;
  float score = 0;
};

// The top_k (>= 1) passages most similar to the query, best first; equal scores keep corpus order.
Result<std::vector<SearchHit>> RankBySimilarity(const std::vector<float>& query,
                                                const std::vector<std::vector<float>>& corpus, size_t top_k);

}  // namespace edgebert
