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

// Multiplicative hashing (Knuth): the high bits of key * 2654435769 are well mixed.
inline size_t Slot(uint32_t key, size_t mask) {
  return static_cast<size_t>((key * 2654435769u) >> 8) & mask;
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

void TokenTrie::Insert(std::string_view token, int32_t id) {
  uint32_t node = 0;
  for (const char ch : token) {
    const unsigned char b = static_cast<unsigned char>(ch);
    int32_t next = Child(node, b);
    if (next < 0) {
      if ((used_ + 1) * 2 > keys_.size()) Grow();
      next = static_cast<int32_t>(terminal_.size());
      terminal_.push_back(-1);
      const uint32_t key = ((node << 8) | b) + 1;
      const size_t mask = keys_.size() - 1;
      size_t i = Slot(key, mask);
      while (keys_[i] != 0) i = (i + 1) & mask;
      keys_[i] = key;
      children_[i] = static_cast<uint32_t>(next);
      ++used_;
    }
    node = static_cast<uint32_t>(next);
  }
  // A duplicate entry keeps the first id (Vocab::Build rejects duplicates anyway).
  if (terminal_[node] < 0) terminal_[node] = id;
}

void TokenTrie::Grow() {
  std::vector<uint32_t> old_keys = std::move(keys_);
  std::vector<uint32_t> old_children = std::move(children_);
  const size_t cap = old_keys.empty() ? 1024 : old_keys.size() * 2;
  keys_.assign(cap, 0);
  children_.assign(cap, 0);
  for (size_t j = 0; j < old_keys.size(); ++j) {
    if (old_keys[j] == 0) continue;
    size_t i = Slot(old_keys[j], cap - 1);
    while (keys_[i] != 0) i = (i + 1) & (cap - 1);
    keys_[i] = old_keys[j];
    children_[i] = old_children[j];
  }
}

inline int32_t TokenTrie::Child(uint32_t node, unsigned char byte) const {
  if (keys_.empty()) return -1;
  const uint32_t key = ((node << 8) | byte) + 1;
  const size_t mask = keys_.size() - 1;
  for (size_t i = Slot(key, mask);; i = (i + 1) & mask) {
    if (keys_[i] == key) return static_cast<int32_t>(children_[i]);
    if (keys_[i] == 0) return -1;
  }
}

int32_t TokenTrie::LongestPrefix(const char* text, size_t n, size_t* len) const {
  int32_t best = -1;
  uint32_t node = 0;
  for (size_t i = 0; i < n; ++i) {
    const int32_t next = Child(node, static_cast<unsigned char>(text[i]));
    if (next < 0) break;
    node = static_cast<uint32_t>(next);
    if (terminal_[node] >= 0) {
      best = terminal_[node];
      *len = i + 1;
    }
  }
  return best;
}

Result<WordPiece> WordPiece::Create(Vocab vocab, WordPieceOptions options) {
  WordPiece wp;
  wp.unk_id_ = vocab.Find(options.unk_token);
  if (wp.unk_id_ < 0) {
    return NotFound("WordPiece: unk_token '" + options.unk_token + "' is not in the vocabulary");
  }
  const std::string& prefix = options.continuing_subword_prefix;
  size_t total_bytes = 0;
  for (size_t id = 0; id < vocab.size(); ++id) total_bytes += vocab.Token(static_cast<int32_t>(id)).size();
  if (total_bytes > TokenTrie::kMaxNodes / 2) {
    return InvalidArgument("WordPiece: the vocabulary holds " + std::to_string(total_bytes) +
                           " bytes of tokens; at most " + std::to_string(TokenTrie::kMaxNodes / 2) +
                           " are supported");
  }
  for (size_t id = 0; id < vocab.size(); ++id) {
    const std::string_view t = vocab.Token(static_cast<int32_t>(id));
    if (t.empty()) continue;
    wp.word_start_.Insert(t, static_cast<int32_t>(id));
    if (!prefix.empty() && t.size() > prefix.size() && t.substr(0, prefix.size()) == prefix) {
      wp.continuation_.Insert(t.substr(prefix.size()), static_cast<int32_t>(id));
    }
  }
  if (prefix.empty()) wp.continuation_ = wp.word_start_;
  wp.vocab_ = std::move(vocab);
  wp.options_ = std::move(options);
  return wp;
}

void WordPiece::Tokenize(const std::vector<NormChar>& chars, WordSpan word, std::string* scratch,
                         std::vector<uint32_t>* byte_to_char,
                         std::vector<WordPieceToken>* out) const {
  const size_t n_chars = word.end - word.begin;
  if (n_chars > options_.max_input_chars_per_word) {
    out->push_back({unk_id_, word.begin, word.end});
    return;
  }
  // UTF-8 of the word, and for each byte offset the index of the character starting there.
  scratch->clear();
  byte_to_char->clear();
  for (uint32_t i = word.begin; i < word.end; ++i) {
    const char32_t cp = chars[i].cp;
    if (cp < 0x80) {
      scratch->push_back(static_cast<char>(cp));
      byte_to_char->push_back(i);
      continue;
    }
    char buf[4];
    const int n = EncodeUtf8(cp, buf);
    scratch->append(buf, static_cast<size_t>(n));
    for (int k = 0; k < n; ++k) byte_to_char->push_back(i);
  }
  byte_to_char->push_back(word.end);
  const size_t n_bytes = scratch->size();
  const size_t out_mark = out->size();
  size_t pos = 0;
  while (pos < n_bytes) {
    size_t len = 0;
    const TokenTrie& trie = pos == 0 ? word_start_ : continuation_;
    const int32_t id = trie.LongestPrefix(scratch->data() + pos, n_bytes - pos, &len);
    if (id < 0) {
      out->resize(out_mark);
      out->push_back({unk_id_, word.begin, word.end});
      return;
    }
    out->push_back({id, (*byte_to_char)[pos], (*byte_to_char)[pos + len]});
    pos += len;
  }
}

}  // namespace edgebert
