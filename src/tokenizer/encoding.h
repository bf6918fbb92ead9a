// encoding.h: the tokenizer's output (HF tokenizers' Encoding) and its truncate/merge/pad steps.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace edgebert {

// [start, end) byte offsets into the text of the token's own sequence (for a pair, the second
// text's tokens index the second text). Special and padding tokens have (0, 0).
struct TokenOffsets {
  uint32_t start = 0;
  uint32_t end = 0;
  bool operator==(const TokenOffsets& o) const { return start == o.start && end == o.end; }
};

struct Encoding {
  std::vector<int32_t> ids;
  std::vector<int32_t> type_ids;             // token_type_ids (segment ids)
  std::vector<int32_t> attention_mask;       // 1 for real tokens, 0 for padding
  std::vector<int32_t> special_tokens_mask;  // 1 for post-processor specials and padding
  std::vector<TokenOffsets> offsets;
  std::vector<int32_t> word_ids;             // pre-token index within its sequence; -1 if none
  std::vector<int32_t> sequence_ids;         // 0 / 1 for the pair member; -1 for specials, pads
  // Overflowing windows (truncation with stride), each a full encoding, in HF's order. A window
  // may itself have windows only in the rare both-sequences-overflow case, exactly as HF.
  std::vector<Encoding> overflowing;

  size_t size() const { return ids.size(); }
  void Reserve(size_t n);
  void SetSequenceId(int32_t id);  // HF set_sequence_id: every token belongs to sequence `id`
  void SetTypeIds(int32_t type_id);
  // HF Encoding::truncate (right direction): keeps the first max_len tokens and moves the rest
  // into overflowing windows of max_len tokens overlapping by `stride`. Requires stride < max_len
  // unless max_len == 0 (checked by the caller). With `keep_overflow` false only the first window
  // is kept and nothing past it is copied (the cost is then that of the kept tokens).
  void Truncate(size_t max_len, size_t stride, bool keep_overflow = true);
  // HF Encoding::merge_with(pair, growing_offsets = false), including the combination of both
  // sides' overflowing windows: with p overflowing windows here and q in `pair` that is
  // 1 + p + q + 3pq encodings, so callers bound p * q first (Tokenizer::PostProcess does).
  void MergeWith(const Encoding& pair);
  // Tokens held by this encoding and all its overflowing windows (the memory it takes, in tokens).
  size_t TotalTokens() const;
  // HF Encoding::pad (right side): pads this and every overflowing window to target_length.
  void Pad(size_t target_length, int32_t pad_id, int32_t pad_type_id);
};

}  // namespace edgebert
