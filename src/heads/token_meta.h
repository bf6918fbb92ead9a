// token_meta.h: the per-token metadata and helpers every task head consumes (pure data, no model).
//
// The heads are pure functions over (logits, TokenMeta, original text): the tokenizer produces the
// metadata, the encoder the logits. Offsets are BYTE offsets into the UTF-8 text of the token's
// sequence (Python's pipelines report code-point offsets; CodePointToByte/ByteToCodePoint convert).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "util/status.h"

namespace edgebert {

// One token of one window (an overflowing chunk, or the whole encoding when it fits).
struct TokenMeta {
  int64_t id = 0;        // vocabulary id
  int start_byte = 0;    // [start_byte, end_byte) in the UTF-8 text of `sequence_id`; 0,0 for specials
  int end_byte = 0;
  int word_id = -1;      // word index within its sequence (tokenizers' word_ids); -1 for specials
  int sequence_id = -1;  // 0 first text, 1 second text of a pair, -1 special/padding
  bool special = false;  // special-tokens mask: [CLS], [SEP], [PAD], ...
};

// id -> token string, as in vocab.txt / tokenizer.json (added tokens included).
using TokenStrings = std::vector<std::string>;

// Checks one window against the texts it was cut from: sequence ids in {-1, 0, 1} with a text for
// each, offsets ordered, inside that text and on UTF-8 character boundaries, ids inside the vocab
// (when `vocab_size` > 0). `what` names the window in messages ("window 2").
Status ValidateTokens(const std::vector<TokenMeta>& tokens, const std::vector<std::string_view>& texts,
                      size_t vocab_size, const std::string& what);

// Number of Unicode code points in valid UTF-8 (what Python's len() returns on the decoded str).
int CountCodePoints(std::string_view utf8);
// Byte offset of code point `cp` (clamped to the end), and the inverse for a byte offset on a
// character boundary.
int CodePointToByte(std::string_view utf8, int cp);
int ByteToCodePoint(std::string_view utf8, int byte);
bool IsUtf8Boundary(std::string_view utf8, int byte);

// Python's str.lower(): the full per-character lowercase mapping (tokenizer/unicode_ops.h, e.g.
// U+0130 -> "i\u0307"). Python additionally lowers a word-final capital sigma to "ς"; here every
// "Σ" becomes "σ". Invalid UTF-8 becomes U+FFFD.
std::string PythonLower(std::string_view utf8);

// Softmax computed like numpy's (x - max, exp, / sum); double inside, rounded to float.
void SoftmaxInPlace(float* x, size_t n);

}  // namespace edgebert
