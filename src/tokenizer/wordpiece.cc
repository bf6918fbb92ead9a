// wordpiece.cc: vocabulary hashing, BERT pre-tokenization and greedy WordPiece.
#include "tokenizer/wordpiece.h"

#include <cstring>

#include "util/unicode_tables.h"
#include "util/utf8.h"

namespace edgebert {
namespace {

// FNV-1a, 32-bit: tokens are short, and this keeps lookups cheap in wasm as well.
inline uint32_t HashBytes(const char* p, size_t n) {
  uint32_t h = 2166136261u;
  for (size_t i = 0; i < n; ++i) h = (h ^ static_cast<unsigned char>(p[i])) * 16777619u;
  return h;
}

}  // namespace

Result<Vocab> Vocab::Build(const std::vector<std::string>& tokens_by_id, std::string_view what) {
  if (tokens_by_id.empty()) return InvalidArgument(std::string(what) + ": the vocabulary is empty");
  Vocab v;
  v.offsets_.reserve(tokens_by_id.size() + 1);
  v.offsets_.push_back(0);
  for (const std::string& t : tokens_by_id) {
    v.pool_ += t;
    v.offsets_.push_back(static_cast<uint32_t>(v.pool_.size()));
    if (t.size() > v.max_token_bytes_) v.max_token_bytes_ = t.size();
  }
  size_t cap = 16;
  while (cap < tokens_by_id.size() * 2) cap <<= 1;
  v.slots_.assign(cap, -1);
  v.hashes_.assign(cap, 0);
  for (size_t id = 0; id < tokens_by_id.size(); ++id) {
    const std::string& t = tokens_by_id[id];
    const uint32_t h = HashBytes(t.data(), t.size());
    size_t i = h & (cap - 1);
    while (v.slots_[i] >= 0) {
      if (v.hashes_[i] == h && v.Token(v.slots_[i]) == t) {
        return InvalidArgument(std::string(what) + ": token '" + t + "' appears twice (ids " +
                               std::to_string(v.slots_[i]) + " and " + std::to_string(id) + ")");
      }
      i = (i + 1) & (cap - 1);
    }
    v.slots_[i] = static_cast<int32_t>(id);
    v.hashes_[i] = h;
  }
  return v;
}

int32_t Vocab::Find(std::string_view token) const {
  if (slots_.empty()) return -1;
  const uint32_t h = HashBytes(token.data(), token.size());
  const size_t mask = slots_.size() - 1;
  for (size_t i = h & mask;; i = (i + 1) & mask) {
    const int32_t id = slots_[i];
    if (id < 0) return -1;
    if (hashes_[i] == h) {
      const uint32_t a = offsets_[id], b = offsets_[id + 1];
      if (b - a == token.size() && std::memcmp(pool_.data() + a, token.data(), token.size()) == 0) {
        return id;
      }
    }
  }
}

std::string_view Vocab::Token(int32_t id) const {
  if (id < 0 || static_cast<size_t>(id) >= size()) return {};
  return std::string_view(pool_).substr(offsets_[id], offsets_[id + 1] - offsets_[id]);
}

void BertPreTokenize(const std::vector<NormChar>& chars, size_t begin, size_t end,
                     std::vector<WordSpan>* words) {
  size_t word_start = begin;
  for (size_t i = begin; i < end; ++i) {
    const char32_t cp = chars[i].cp;
    uint8_t f;
    if (cp < 0x80) {
      // ASCII fast path: same answers as the table.
      const bool ws = cp == ' ' || (cp >= 0x09 && cp <= 0x0D);
      const bool punct = (cp >= 0x21 && cp <= 0x2F) || (cp >= 0x3A && cp <= 0x40) ||
                         (cp >= 0x5B && cp <= 0x60) || (cp >= 0x7B && cp <= 0x7E);
      f = static_cast<uint8_t>((ws ? unicode::kWhiteSpace : 0) | (punct ? unicode::kBertPunct : 0));
    } else {
      f = unicode::Flags(cp);
    }
    if (f & (unicode::kWhiteSpace | unicode::kBertPunct)) {
      if (i > word_start) {
        words->push_back({static_cast<uint32_t>(word_start), static_cast<uint32_t>(i)});
      }
      if (!(f & unicode::kWhiteSpace)) {
        words->push_back({static_cast<uint32_t>(i), static_cast<uint32_t>(i + 1)});
      }
      word_start = i + 1;
    }
  }
  if (end > word_start) {
    words->push_back({static_cast<uint32_t>(word_start), static_cast<uint32_t>(end)});
  }
}

Result<WordPiece> WordPiece::Create(Vocab vocab, WordPieceOptions options) {
  WordPiece wp;
  wp.unk_id_ = vocab.Find(options.unk_token);
  if (wp.unk_id_ < 0) {
    return NotFound("WordPiece: unk_token '" + options.unk_token + "' is not in the vocabulary");
  }
  wp.vocab_ = std::move(vocab);
  wp.options_ = std::move(options);
  return wp;
}

void WordPiece::Tokenize(const std::vector<NormChar>& chars, WordSpan word, std::string* scratch,
                         std::vector<uint32_t>* char_starts,
                         std::vector<WordPieceToken>* out) const {
  const size_t n_chars = word.end - word.begin;
  if (n_chars > options_.max_input_chars_per_word) {
    out->push_back({unk_id_, word.begin, word.end});
    return;
  }
  // scratch = room for the prefix + UTF-8 of the word.
  const std::string& prefix = options_.continuing_subword_prefix;
  scratch->assign(prefix);
  char_starts->clear();
  for (uint32_t i = word.begin; i < word.end; ++i) {
    char_starts->push_back(static_cast<uint32_t>(scratch->size() - prefix.size()));
    AppendUtf8(chars[i].cp, scratch);
  }
  const size_t n_bytes = scratch->size() - prefix.size();
  char_starts->push_back(static_cast<uint32_t>(n_bytes));
  // Continuation pieces are looked up as prefix + bytes: the prefix is written over the bytes
  // just before the piece, which belong to pieces already consumed (or to the leading pad).
  char* bytes = &(*scratch)[prefix.size()];
  const size_t max_bytes = vocab_.max_token_bytes();
  const size_t out_mark = out->size();
  size_t c = 0;  // current character index in the word
  while (c < n_chars) {
    const size_t start = (*char_starts)[c];
    const size_t pre = c > 0 ? prefix.size() : 0;
    if (pre > 0) std::memcpy(bytes + start - pre, prefix.data(), pre);
    int32_t found = -1;
    size_t e = n_chars;
    // Longest first; pieces longer than the longest vocabulary entry cannot match.
    while (e > c && (*char_starts)[e] - start + pre > max_bytes) --e;
    for (; e > c; --e) {
      const size_t len = (*char_starts)[e] - start;
      found = vocab_.Find(std::string_view(bytes + start - pre, len + pre));
      if (found >= 0) break;
    }
    if (found < 0) {
      out->resize(out_mark);
      out->push_back({unk_id_, word.begin, word.end});
      return;
    }
    out->push_back({found, static_cast<uint32_t>(word.begin + c), static_cast<uint32_t>(word.begin + e)});
    c = e;
  }
}

}  // namespace edgebert
