// normalizer.h: Hugging Face's BertNormalizer with exact offset tracking (NormalizedString model).
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace edgebert {

// One character of normalized text and the byte range [start, end) of the ORIGINAL input it is
// aligned to. HF's NormalizedString stores one (start, end) pair per normalized BYTE; every byte of
// a normalized character always carries the same pair (transform() assigns alignments per char),
// so one pair per character holds exactly the same information in a quarter of the memory.
struct NormChar {
  char32_t cp;
  uint32_t start;
  uint32_t end;
};

struct BertNormalizerOptions {
  bool clean_text = true;            // drop NUL, U+FFFD and Cc/Cf/Co; map whitespace to ' '
  bool handle_chinese_chars = true;  // put spaces around CJK ideographs
  std::optional<bool> strip_accents; // NFD then drop Mn; unset = follow `lowercase` (as HF)
  bool lowercase = true;             // Rust char::to_lowercase (full mapping, no final sigma)
};

// Steps run in HF's order: clean_text, handle_chinese_chars, strip_accents, lowercase. The
// alignment rules are HF's transform(): a character that replaces one takes that character's
// alignment, an inserted character takes the alignment of the last replaced one. NFD reorders
// combining marks, and HF assigns alignments by position after the reordering; we do the same.
class BertNormalizer {
 public:
  BertNormalizer() = default;
  explicit BertNormalizer(const BertNormalizerOptions& options) : options_(options) {}
  const BertNormalizerOptions& options() const { return options_; }
  bool strips_accents() const { return options_.strip_accents.value_or(options_.lowercase); }

  // Normalizes the bytes text[begin, end) and APPENDS the characters to *out, with alignments as
  // absolute byte offsets into `text`. Invalid UTF-8 is read as U+FFFD per maximal subpart.
  void Normalize(std::string_view text, size_t begin, size_t end, std::vector<NormChar>* out) const;

 private:
  BertNormalizerOptions options_;
};

}  // namespace edgebert
