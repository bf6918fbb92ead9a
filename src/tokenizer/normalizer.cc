// normalizer.cc: BertNormalizer as one streaming pass (decode, clean, CJK, NFD, strip, lowercase).
#include "tokenizer/normalizer.h"

#include <algorithm>

#include "tokenizer/unicode_ops.h"
#include "util/utf8.h"

namespace edgebert {
namespace {

using unicode::Flags;

// The NFD + strip-accents + lowercase tail of the pipeline. Characters enter in text order with
// their alignment; starters (combining class 0) are emitted at once, non-starters wait until the
// next starter so the run can be put in canonical order (a stable sort by combining class, as
// unicode-normalization does). Alignments are then handed out by position exactly like HF's
// transform(): the k-th emitted "replacing" character takes the k-th input character's alignment;
// the extra characters of a decomposition ("inserted") take the last handed-out alignment.
class Tail {
 public:
  Tail(bool nfd, bool lowercase, uint32_t piece_start, std::vector<NormChar>* out)
      : nfd_(nfd), lowercase_(lowercase), last_{0, piece_start, piece_start}, out_(out) {}

  // ASCII: never decomposes, never a mark, lowercases to ASCII.
  void PushAscii(char32_t cp, uint32_t start) {
    if (!pending_.empty()) {
      Push(cp, start, start + 1);
      return;
    }
    if (lowercase_ && cp >= 'A' && cp <= 'Z') cp += 32;
    last_ = NormChar{cp, start, start + 1};
    out_->push_back(last_);
  }

  void Push(char32_t cp, uint32_t start, uint32_t end) {
    if (!nfd_) {
      Emit(cp, NormChar{cp, start, end});
      return;
    }
    const uint8_t f = Flags(cp);
    if (!(f & (unicode::kDecomposes | unicode::kNonStarter)) && pending_.empty()) {
      last_ = NormChar{cp, start, end};  // fast path: a starter that does not decompose
      if (!(f & unicode::kMn)) Emit(cp, last_);
      return;
    }
    sources_.push_back(NormChar{cp, start, end});
    char32_t parts[4];
    const int n = unicode::DecomposeCanonical(cp, parts);
    for (int i = 0; i < n; ++i) {
      const uint8_t ccc = unicode::CombiningClass(parts[i]);
      if (ccc == 0) Flush();
      Pending p{parts[i], ccc, i > 0};
      if (ccc == 0) {
        Release(p);
      } else {
        pending_.push_back(p);
      }
    }
  }

  void Finish() { Flush(); }

 private:
  struct Pending {
    char32_t cp;
    uint8_t ccc;
    bool inserted;
  };

  void Flush() {
    if (pending_.empty()) return;
    std::stable_sort(pending_.begin(), pending_.end(),
                     [](const Pending& a, const Pending& b) { return a.ccc < b.ccc; });
    for (const Pending& p : pending_) Release(p);
    pending_.clear();
  }

  void Release(const Pending& p) {
    if (!p.inserted) {
      last_ = sources_[next_source_++];
      if (next_source_ == sources_.size()) {
        sources_.clear();
        next_source_ = 0;
      }
    }
    if (Flags(p.cp) & unicode::kMn) return;  // strip_accents: drop nonspacing marks
    Emit(p.cp, last_);
  }

  void Emit(char32_t cp, const NormChar& align) {
    if (!lowercase_) {
      out_->push_back(NormChar{cp, align.start, align.end});
      return;
    }
    char32_t low[3];
    const int n = unicode::ToLowercase(cp, low);
    for (int i = 0; i < n; ++i) out_->push_back(NormChar{low[i], align.start, align.end});
  }

  bool nfd_;
  bool lowercase_;
  NormChar last_;
  std::vector<NormChar>* out_;
  std::vector<Pending> pending_;
  std::vector<NormChar> sources_;  // input characters whose alignment is not handed out yet
  size_t next_source_ = 0;
};

}  // namespace

void BertNormalizer::Normalize(std::string_view text, size_t begin, size_t end,
                               std::vector<NormChar>* out) const {
  const bool clean = options_.clean_text;
  const bool chinese = options_.handle_chinese_chars;
  const bool lower = options_.lowercase;
  Tail tail(strips_accents(), lower, static_cast<uint32_t>(begin), out);
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  size_t pos = begin;
  while (pos < end) {
    const unsigned char b = s[pos];
    if (b < 0x80) {  // ASCII: no decomposition, no marks, no CJK
      const uint32_t p = static_cast<uint32_t>(pos);
      ++pos;
      char32_t cp = b;
      if (clean) {
        if (b == '\t' || b == '\n' || b == '\r') {
          cp = ' ';
        } else if (b < 0x20 || b == 0x7F) {
          continue;
        }
      }
      tail.PushAscii(cp, p);
      continue;
    }
    char32_t cp;
    const size_t len = DecodeUtf8(text.substr(0, end), pos, &cp);
    const uint32_t start = static_cast<uint32_t>(pos), stop = static_cast<uint32_t>(pos + len);
    pos += len;
    const uint8_t f = Flags(cp);
    if (clean) {
      if (cp == kReplacementChar || (f & unicode::kOther)) continue;
      if (f & unicode::kWhiteSpace) cp = ' ';
    }
    if (chinese && (f & unicode::kChinese)) {
      tail.Push(' ', start, stop);
      tail.Push(cp, start, stop);
      tail.Push(' ', start, stop);
      continue;
    }
    tail.Push(cp, start, stop);
  }
  tail.Finish();
}

}  // namespace edgebert
