// wordpiece.h: vocabulary hash table, BertPreTokenizer and the WordPiece model (HF semantics).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/normalizer.h"
#include "util/status.h"

namespace edgebert {

// token string -> id, open addressing over one byte pool (no per-token allocation, lookups by
// string_view without building a std::string).
class Vocab {
 public:
  // Fails on an empty token list or a duplicate token (named in the message).
  static Result<Vocab> Build(const std::vector<std::string>& tokens_by_id, std::string_view what);
  int32_t Find(std::string_view token) const;  // -1 when absent
  std::string_view Token(int32_t id) const;    // "" when out of range
  size_t size() const { return offsets_.empty() ? 0 : offsets_.size() - 1; }
  size_t max_token_bytes() const { return max_token_bytes_; }

 private:
  std::string pool_;
  std::vector<uint32_t> offsets_;  // (size + 1): token i is pool_[offsets_[i], offsets_[i+1])
  std::vector<int32_t> slots_;     // (capacity, power of two): id or -1
  std::vector<uint32_t> hashes_;   // (capacity): hash of the token in the slot
  size_t max_token_bytes_ = 0;
};

// A pre-token ("word"): normalized characters [begin, end) of the normalized sequence.
struct WordSpan {
  uint32_t begin;
  uint32_t end;
};

// BertPreTokenizer: split on White_Space (removed), then isolate every punctuation character
// (Unicode P* and ASCII punctuation). Appends to *words.
void BertPreTokenize(const std::vector<NormChar>& chars, size_t begin, size_t end,
                     std::vector<WordSpan>* words);

struct WordPieceToken {
  int32_t id;
  uint32_t begin;  // normalized character range of the token
  uint32_t end;
};

struct WordPieceOptions {
  std::string unk_token = "[UNK]";
  std::string continuing_subword_prefix = "##";
  size_t max_input_chars_per_word = 100;
};

// Byte trie over vocabulary entries: the longest entry that is a prefix of some text, in one walk
// (no hashing of every candidate length). Transitions live in one open-addressing table keyed
// by (node, byte) in 32 bits (cheap in wasm32), so at most kMaxNodes nodes.
class TokenTrie {
 public:
  static constexpr size_t kMaxNodes = (1u << 24) - 1;
  void Insert(std::string_view token, int32_t id);
  // Longest entry that is a prefix of text: sets *len (bytes) and returns its id, or -1.
  int32_t LongestPrefix(const char* text, size_t n, size_t* len) const;

 private:
  int32_t Child(uint32_t node, unsigned char byte) const;
  void Grow();
  std::vector<int32_t> terminal_ = {-1};  // (nodes): token id ending at the node, or -1
  std::vector<uint32_t> keys_;            // (capacity): node << 8 | byte, plus 1; 0 = empty
  std::vector<uint32_t> children_;        // (capacity)
  size_t used_ = 0;
};

class WordPiece {
 public:
  // Fails when unk_token is not in the vocabulary.
  static Result<WordPiece> Create(Vocab vocab, WordPieceOptions options);
  const Vocab& vocab() const { return vocab_; }
  const WordPieceOptions& options() const { return options_; }
  int32_t unk_id() const { return unk_id_; }

  // Greedy longest-match-first over one word; the whole word becomes [UNK] when any position
  // has no match or when it has more than max_input_chars_per_word characters.
  // `scratch` and `byte_to_char` are reused between calls to avoid allocations.
  void Tokenize(const std::vector<NormChar>& chars, WordSpan word, std::string* scratch,
                std::vector<uint32_t>* byte_to_char, std::vector<WordPieceToken>* out) const;

 private:
  Vocab vocab_;
  WordPieceOptions options_;
  int32_t unk_id_ = -1;
  TokenTrie word_start_;    // entries without the continuing-subword prefix
  TokenTrie continuation_;  // entries with it, prefix removed
};

}  // namespace edgebert
