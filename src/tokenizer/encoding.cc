// encoding.cc: Encoding truncation into windows, merging (with overflow combinations), padding.
#include "tokenizer/encoding.h"

#include <algorithm>

namespace edgebert {
namespace {

template <typename T>
void AppendRange(std::vector<T>* dst, const std::vector<T>& src, size_t b, size_t e) {
  dst->insert(dst->end(), src.begin() + static_cast<std::ptrdiff_t>(b),
              src.begin() + static_cast<std::ptrdiff_t>(e));
}

Encoding Slice(const Encoding& e, size_t b, size_t stop) {
  Encoding s;
  AppendRange(&s.ids, e.ids, b, stop);
  AppendRange(&s.type_ids, e.type_ids, b, stop);
  AppendRange(&s.attention_mask, e.attention_mask, b, stop);
  AppendRange(&s.special_tokens_mask, e.special_tokens_mask, b, stop);
  AppendRange(&s.offsets, e.offsets, b, stop);
  AppendRange(&s.word_ids, e.word_ids, b, stop);
  // HF drops sequence ranges when truncating; the post-processor sets them again.
  s.sequence_ids.assign(stop - b, -1);
  return s;
}

}  // namespace

void Encoding::Reserve(size_t n) {
  ids.reserve(n);
  type_ids.reserve(n);
  attention_mask.reserve(n);
  special_tokens_mask.reserve(n);
  offsets.reserve(n);
  word_ids.reserve(n);
  sequence_ids.reserve(n);
}

void Encoding::SetSequenceId(int32_t id) { std::fill(sequence_ids.begin(), sequence_ids.end(), id); }

void Encoding::SetTypeIds(int32_t type_id) { std::fill(type_ids.begin(), type_ids.end(), type_id); }

void Encoding::Truncate(size_t max_len, size_t stride, bool keep_overflow) {
  const size_t n = ids.size();
  if (max_len >= n) return;
  if (!keep_overflow) {
    *this = Slice(*this, 0, max_len);
    return;
  }
  if (max_len == 0) {
    Encoding all = std::move(*this);
    *this = Encoding();
    overflowing.push_back(std::move(all));
    return;
  }
  const size_t step = max_len - stride;  // caller guarantees stride < max_len
  std::vector<std::pair<size_t, size_t>> parts;
  for (size_t start = 0; start < n; start += step) {
    const size_t stop = std::min(start + max_len, n);
    parts.emplace_back(start, stop);
    if (stop == n) break;
  }
  Encoding first = Slice(*this, parts[0].first, parts[0].second);
  for (size_t i = 1; i < parts.size(); ++i) {
    first.overflowing.push_back(Slice(*this, parts[i].first, parts[i].second));
  }
  *this = std::move(first);
}

void Encoding::MergeWith(const Encoding& pair) {
  std::vector<Encoding> merged_overflow;
  for (const Encoding& self_o : overflowing) {
    Encoding n = self_o;
    n.MergeWith(pair);
    merged_overflow.push_back(std::move(n));
    for (const Encoding& other_o : pair.overflowing) {
      Encoding m = self_o;
      m.MergeWith(other_o);
      merged_overflow.push_back(std::move(m));
    }
  }
  if (!pair.overflowing.empty()) {
    // HF clones `self` including its overflowing; merging that clone recomputes the same
    // combinations, nested one level deeper.
    for (const Encoding& other_o : pair.overflowing) {
      Encoding n = *this;
      n.MergeWith(other_o);
      merged_overflow.push_back(std::move(n));
    }
  }
  AppendRange(&ids, pair.ids, 0, pair.ids.size());
  AppendRange(&type_ids, pair.type_ids, 0, pair.type_ids.size());
  AppendRange(&attention_mask, pair.attention_mask, 0, pair.attention_mask.size());
  AppendRange(&special_tokens_mask, pair.special_tokens_mask, 0, pair.special_tokens_mask.size());
  AppendRange(&offsets, pair.offsets, 0, pair.offsets.size());
  AppendRange(&word_ids, pair.word_ids, 0, pair.word_ids.size());
  AppendRange(&sequence_ids, pair.sequence_ids, 0, pair.sequence_ids.size());
  overflowing = std::move(merged_overflow);
}

size_t Encoding::TotalTokens() const {
  size_t n = ids.size();
  for (const Encoding& o : overflowing) n += o.TotalTokens();
  return n;
}

void Encoding::Pad(size_t target_length, int32_t pad_id, int32_t pad_type_id) {
  for (Encoding& o : overflowing) o.Pad(target_length, pad_id, pad_type_id);
  if (ids.size() >= target_length) return;
  const size_t k = target_length - ids.size();
  ids.insert(ids.end(), k, pad_id);
  type_ids.insert(type_ids.end(), k, pad_type_id);
  attention_mask.insert(attention_mask.end(), k, 0);
  special_tokens_mask.insert(special_tokens_mask.end(), k, 1);
  offsets.insert(offsets.end(), k, TokenOffsets{});
  word_ids.insert(word_ids.end(), k, -1);
  sequence_ids.insert(sequence_ids.end(), k, -1);
}

}  // namespace edgebert
