// decode.cc: WordPiece decoder and transformers' clean-up, replacement for replacement.
#include "heads/decode.h"

#include <algorithm>

namespace edgebert {

namespace {

// Python's / Rust's str.replace: every non-overlapping occurrence, left to right.
void ReplaceAll(std::string* s, std::string_view from, std::string_view to) {
  size_t pos = 0;
  while ((pos = s->find(from, pos)) != std::string::npos) {
    s->replace(pos, from.size(), to);
    pos += to.size();
  }
}

// tokenizers' decoders::wordpiece::cleanup (applied per token piece). It has one pair more than
// the Python one: " do not" -> " don't".
std::string WordPieceCleanup(std::string s) {
  ReplaceAll(&s, " .", ".");
  ReplaceAll(&s, " ?", "?");
  ReplaceAll(&s, " !", "!");
  ReplaceAll(&s, " ,", ",");
  ReplaceAll(&s, " ' ", "'");
  ReplaceAll(&s, " n't", "n't");
  ReplaceAll(&s, " 'm", "'m");
  ReplaceAll(&s, " do not", " don't");
  ReplaceAll(&s, " 's", "'s");
  ReplaceAll(&s, " 've", "'ve");
  ReplaceAll(&s, " 're", "'re");
  return s;
}

}  // namespace

std::string ConvertTokensToString(const std::vector<std::string>& tokens, const DecoderOptions& opts) {
  std::string out;
  const std::string& prefix = opts.continuing_subword_prefix;
  for (size_t i = 0; i < tokens.size(); ++i) {
    std::string piece;
    if (i == 0) {
      piece = tokens[i];
    } else if (!prefix.empty() && tokens[i].compare(0, prefix.size(), prefix) == 0) {
      piece = tokens[i].substr(prefix.size());
    } else {
      piece = " " + tokens[i];
    }
    out += opts.wordpiece_cleanup ? WordPieceCleanup(std::move(piece)) : piece;
  }
  return out;
}

std::string CleanUpTokenization(std::string s) {
  ReplaceAll(&s, " .", ".");
  ReplaceAll(&s, " ?", "?");
  ReplaceAll(&s, " !", "!");
  ReplaceAll(&s, " ,", ",");
  ReplaceAll(&s, " ' ", "'");
  ReplaceAll(&s, " n't", "n't");
  ReplaceAll(&s, " 'm", "'m");
  ReplaceAll(&s, " 's", "'s");
  ReplaceAll(&s, " 've", "'ve");
  ReplaceAll(&s, " 're", "'re");
  return s;
}

Result<std::string> DecodeIds(const std::vector<int64_t>& ids, const TokenStrings& vocab,
                              const std::vector<int64_t>& special_ids, bool skip_special_tokens,
                              const DecoderOptions& opts) {
  std::vector<std::string> tokens;
  tokens.reserve(ids.size());
  for (int64_t id : ids) {
    if (id < 0 || static_cast<uint64_t>(id) >= vocab.size()) {
      return InvalidArgument("decode: token id " + std::to_string(id) + " is outside the vocabulary of " +
                             std::to_string(vocab.size()) + " tokens");
    }
    if (skip_special_tokens && std::find(special_ids.begin(), special_ids.end(), id) != special_ids.end()) {
      continue;
    }
    tokens.push_back(vocab[id]);
  }
  std::string text = ConvertTokensToString(tokens, opts);
  if (opts.clean_up_tokenization_spaces) text = CleanUpTokenization(std::move(text));
  return text;
}

}  // namespace edgebert
