// sentence_embedding.cc: mean/CLS pooling, L2 normalisation, cosine similarity and ranking.
#include "heads/sentence_embedding.h"

#include <algorithm>
#include <cmath>
#include <string>

namespace edgebert {

namespace {

double Norm(const std::vector<float>& v) {
  double s = 0;
  for (float x : v) s += static_cast<double>(x) * x;
  return std::sqrt(s);
}

}  // namespace

Result<std::vector<float>> PoolTokenEmbeddings(const float* hidden, size_t seq_len, size_t hidden_size,
                                               const std::vector<int>& attention_mask, Pooling pooling,
                                               bool normalize) {
  if (seq_len == 0 || hidden_size == 0) {
    return InvalidArgument("pooling: empty token embeddings (" + std::to_string(seq_len) + " x " +
                           std::to_string(hidden_size) + ")");
  }
  if (attention_mask.size() != seq_len) {
    return InvalidArgument("pooling: attention_mask has " + std::to_string(attention_mask.size()) +
                           " entries for " + std::to_string(seq_len) + " tokens");
  }
  std::vector<double> acc(hidden_size, 0.0);
  if (pooling == Pooling::kCls) {
    for (size_t h = 0; h < hidden_size; ++h) acc[h] = hidden[h];
  } else {
    double count = 0;
    for (size_t t = 0; t < seq_len; ++t) {
      if (attention_mask[t] != 0 && attention_mask[t] != 1) {
        return InvalidArgument("pooling: attention_mask[" + std::to_string(t) + "] is " +
                               std::to_string(attention_mask[t]) + ", expected 0 or 1");
      }
      if (!attention_mask[t]) continue;
      count += 1;
      for (size_t h = 0; h < hidden_size; ++h) acc[h] += hidden[t * hidden_size + h];
    }
    const double denom = std::max(count, 1e-9);  // torch.clamp(sum_mask, min=1e-9)
    for (double& a : acc) a /= denom;
  }
  std::vector<float> out(acc.begin(), acc.end());
  for (float x : out) {
    if (!std::isfinite(x)) return InvalidArgument("pooling: the token embeddings contain a non-finite value");
  }
  if (normalize) {
    const double n = std::max(Norm(out), 1e-12);
    for (float& x : out) x = static_cast<float>(x / n);
  }
  return out;
}

Result<float> CosineSimilarity(const std::vector<float>& a, const std::vector<float>& b) {
  if (a.size() != b.size() || a.empty()) {
    return InvalidArgument("cosine similarity: vectors of " + std::to_string(a.size()) + " and " +
                           std::to_string(b.size()) + " values (need the same, non-zero length)");
  }
  double dot = 0;
  for (size_t i = 0; i < a.size(); ++i) dot += static_cast<double>(a[i]) * b[i];
  return static_cast<float>(dot / (std::max(Norm(a), 1e-12) * std::max(Norm(b), 1e-12)));
}

Result<std::vector<SearchHit>> RankBySimilarity(const std::vector<float>& query,
                                                const std::vector<std::vector<float>>& corpus, size_t top_k) {
  if (top_k < 1) return InvalidArgument("ranking: top_k must be >= 1 (got 0)");
  std::vector<SearchHit> hits;
  hits.reserve(corpus.size());
  for (size_t i = 0; i < corpus.size(); ++i) {
    auto s = CosineSimilarity(query, corpus[i]);
    if (!s.ok()) return InvalidArgument("ranking: passage " + std::to_string(i) + ": " + s.status().message());
    hits.push_back({i, *s});
  }
  std::stable_sort(hits.begin(), hits.end(), [](const SearchHit& x, const SearchHit& y) { return x.score > y.score; });
  if (hits.size() > top_k) hits.resize(top_k);
  return hits;
}

}  // namespace edgebert
