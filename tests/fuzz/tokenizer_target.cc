// tokenizer_target.cc: tokenizer loading and encoding exactly as eb_tokenizer_from_json,
// eb_tokenizer_from_vocab and eb_tokenizer_encode do (wasm/tokenizer_bindings.cc).
//
// Input: 5 option bytes, then parts separated by kPartSeparator (0x1d).
//   byte 0: bits 0-1 source: 0 a fixture tokenizer.json, 1 fixture vocab files, 2 tokenizer.json
//           from part 0, 3 vocab.txt / tokenizer_config.json / special_tokens_map.json from parts
//           0-2; bits 2-3 truncation (0 off, 1 longest_first, 2 only_first, 3 only_second);
//           bit 4 pair; bit 5 no special tokens; bits 6-7 padding (0 off, 1 longest, 2 max_length)
//   bytes 1, 2, 3: max_length, stride, pad length (ByteToLength: 0-199 as is, 200-255 powers of two
//           up to 2^30, as a caller may pass any int)
//   byte 4: bits 0-1 offset unit (byte, UTF-16, code point), bits 2-7 which fixture tokenizer
// The parts after the files are the text and the pair's second text (any bytes: invalid UTF-8 too).
//
// Invariants: every field has one entry per token; byte offsets lie inside the token's own text,
// start <= end; with truncation, no window has more real tokens than max_length.
#include <algorithm>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_targets.h"
#include "tokenizer/tokenizer.h"

namespace edgebert::fuzz {

namespace {

std::vector<Tokenizer> LoadFixtureTokenizers(bool vocab_files) {
  std::vector<Tokenizer> out;
  if (!vocab_files) {
    for (const char* f : {"tokenizer/tokenizer_uncased_added.json", "tokenizer/tokenizer_cased_strip.json",
                          "tokenizer/tokenizer_uncased_nostrip.json", "vocab/cased/tokenizer.json",
                          "pipelines/models/ner_cased/tokenizer.json"}) {
      auto t = Tokenizer::FromTokenizerJson(FuzzReadFile(FuzzFixturePath(f)));
      FuzzCheck(t.ok(), "tokenizer: a fixture tokenizer.json does not load", f);
      out.push_back(std::move(t).value());
    }
  } else {
    for (const char* dir : {"vocab/uncased", "vocab/cased", "models/bert_qa", "pipelines/models/ner_cased_w24"}) {
      const std::string d = FuzzFixturePath(dir) + "/";
      auto t = Tokenizer::FromVocabFiles(FuzzReadFile(d + "vocab.txt"), FuzzReadFile(d + "tokenizer_config.json"),
                                         FuzzReadFile(d + "special_tokens_map.json"));
      FuzzCheck(t.ok(), "tokenizer: fixture vocab files do not load", dir);
      out.push_back(std::move(t).value());
    }
  }
  return out;
}

int ByteToLength(uint8_t b) { return b < 200 ? b : 1 << std::min(30, b - 200 + 8); }

// The work budget. Near the library's limits (kMaxEncodingWindows windows, kMaxEncodingTokens
// tokens) one input asks for tens of thousands of windows or millions of padded tokens, 0.5-2 s
// each under ASan: once the corpus held such inputs, mutating them kept the target at ~70-170
// exec/s. The same code runs for small windows and pads, so inputs whose work is estimated between
// these budgets and the limits are skipped; inputs past the limits still run (they must be refused
// before anything is allocated: a too-loose check shows up as a timeout or an out-of-memory there).
constexpr double kBudgetEncodings = 1024, kBudgetTokens = 1 << 16;

// Windows (encodings, nested ones included) and tokens that encoding asks for, estimated from the
// untruncated lengths the way Tokenizer::PostProcess and Finalize count them. Only used to skip
// inputs: an estimate that is off makes the target slower or skip more, never weakens a check on
// an input that runs.
struct Work {
  double windows = 1, tokens = 0;
  bool past_limits = false;
};

Work EstimateWork(const Tokenizer& tok, size_t n_a, size_t n_b, bool pair, const EncodeOptions& o) {
  Work w;
  const size_t added = o.add_special_tokens ? tok.NumSpecialTokens(pair) : 0;
  double window_tokens = static_cast<double>(added);
  double wa = 1, wb = 1;  // windows per side
  const TruncationOptions& tr = o.truncation;
  if (tr.enabled && tr.max_length < added) {  // refused before any work
    w.past_limits = true;
    return w;
  }
  auto side = [&](size_t n, size_t len) {
    window_tokens += static_cast<double>(len == 0 ? n : std::min(n, len));
    if (len == 0 || n <= len || tr.stride >= len) return 1.0;  // no windows, or refused
    return 1.0 + static_cast<double>((n - len + (len - tr.stride) - 1) / (len - tr.stride));
  };
  if (tr.enabled) {
    const size_t room = tr.max_length - added, total = n_a + (pair ? n_b : 0);
    if (room == 0) {
      wa = side(n_a, 0);
      if (pair) wb = side(n_b, 0);
    } else if (total > room && tr.strategy == TruncationStrategy::kLongestFirst && pair) {
      size_t n1 = std::min(n_a, n_b), n2 = n1 > room ? n1 : std::max(n1, room - n1);
      if (n1 + n2 > room) n1 = room / 2, n2 = n1 + room % 2;
      if (n_a > n_b) std::swap(n1, n2);
      wa = side(n_a, n1);
      wb = side(n_b, n2);
    } else if (total > room && tr.strategy == TruncationStrategy::kLongestFirst) {
      wa = side(n_a, room);
    } else if (total > room) {
      const bool second = tr.strategy == TruncationStrategy::kOnlySecond;
      const size_t n = second ? n_b : n_a, to_remove = total - room;
      if (n > to_remove) (second ? wb : wa) = side(n, n - to_remove);
      window_tokens += static_cast<double>(second ? n_a : n_b);
    } else {
      window_tokens += static_cast<double>(total);
    }
  } else {
    window_tokens += static_cast<double>(n_a + (pair ? n_b : 0));
  }
  const double p = wa - 1, q = wb - 1;
  w.windows = 1 + p + q + 3 * p * q;  // HF's merge nests a pair's combinations (Encoding::MergeWith)
  w.past_limits = wa * wb > static_cast<double>(kMaxEncodingWindows) ||
                  wa * wb * window_tokens > static_cast<double>(kMaxEncodingTokens);
  double padded = window_tokens;
  if (o.padding.strategy == PaddingStrategy::kMaxLength) padded = std::max(padded, static_cast<double>(o.padding.max_length));
  w.tokens = w.windows * padded;
  w.past_limits = w.past_limits || w.tokens > static_cast<double>(kMaxEncodingTokens);
  return w;
}

EB_FUZZ_NO_COVERAGE void CheckWindow(const Tokenizer& tok, const Encoding& e, std::string_view a, std::string_view b, int unit,
                 const EncodeOptions& o, bool pair) {
  const size_t n = e.size();
  FuzzCheck(e.type_ids.size() == n && e.attention_mask.size() == n && e.special_tokens_mask.size() == n &&
                e.offsets.size() == n && e.word_ids.size() == n && e.sequence_ids.size() == n,
            "tokenizer: fields of different lengths");
  size_t real = 0;
  for (size_t i = 0; i < n; ++i) {
    real += e.attention_mask[i] != 0;
    const TokenOffsets& off = e.offsets[i];
    FuzzCheck(off.start <= off.end, "tokenizer: offset start after end");
    if (unit == 0 && e.sequence_ids[i] >= 0) {
      const size_t len = e.sequence_ids[i] == 0 ? a.size() : b.size();
      FuzzCheck(e.sequence_ids[i] <= (pair ? 1 : 0), "tokenizer: sequence id of a missing sequence");
      if (off.end > len)
        FuzzFail("tokenizer: byte offset past the end of its text", std::to_string(off.end) + " > " + std::to_string(len));
    }
    if (e.attention_mask[i] != 0) FuzzCheck(e.ids[i] >= 0, "tokenizer: negative id for a real token");
  }
  // A side truncated to 0 tokens moves whole into one overflowing window, as HF's
  // Encoding::truncate(0) does: when the room (max_length minus the specials) is 0, and for a pair
  // under longest_first when it is 1 (HF gives the sides room / 2 = 0 and 1). Otherwise windows fit.
  const size_t specials = o.add_special_tokens ? tok.NumSpecialTokens(pair) : 0;
  const size_t min_room = pair && o.truncation.strategy == TruncationStrategy::kLongestFirst ? 2 : 1;
  if (o.truncation.enabled && o.truncation.max_length >= specials + min_room) {
    if (real > o.truncation.max_length)
      FuzzFail("tokenizer: window longer than max_length",
               std::to_string(real) + " > " + std::to_string(o.truncation.max_length));
  }
}

}  // namespace

void FuzzTokenizer(const uint8_t* data, size_t size) {
  if (size < 5) return;
  static const std::vector<Tokenizer> fixture_json = LoadFixtureTokenizers(false);
  static const std::vector<Tokenizer> fixture_vocab = LoadFixtureTokenizers(true);
  const int source = data[0] & 3, truncation = (data[0] >> 2) & 3, padding = (data[0] >> 6) & 3;
  const bool is_pair = (data[0] >> 4) & 1, add_special = !((data[0] >> 5) & 1);
  const int max_length = ByteToLength(data[1]), stride = ByteToLength(data[2]), pad_length = ByteToLength(data[3]);
  const int offset_unit = data[4] & 3;
  const size_t pick = data[4] >> 2;
  std::vector<std::string_view> parts = SplitParts(std::string_view(reinterpret_cast<const char*>(data + 5), size - 5));

  // Loading (eb_tokenizer_from_json / eb_tokenizer_from_vocab).
  const Tokenizer* tok = nullptr;
  std::unique_ptr<Tokenizer> loaded;
  size_t first_text = 0;
  if (source == 0) {
    tok = &fixture_json[pick % fixture_json.size()];
  } else if (source == 1) {
    tok = &fixture_vocab[pick % fixture_vocab.size()];
  } else if (source == 2) {
    auto t = Tokenizer::FromTokenizerJson(parts[0]);
    if (!t.ok()) return;
    loaded = std::make_unique<Tokenizer>(std::move(t).value());
    first_text = 1;
  } else {
    while (parts.size() < 3) parts.emplace_back();
    auto t = Tokenizer::FromVocabFiles(parts[0], parts[1], parts[2]);
    if (!t.ok()) return;
    loaded = std::make_unique<Tokenizer>(std::move(t).value());
    first_text = 3;
  }
  if (loaded) tok = loaded.get();
  while (parts.size() < first_text + 2) parts.emplace_back();
  const std::string_view a = parts[first_text], b = parts[first_text + 1];

  // Encoding: the option checks and mapping of eb_tokenizer_encode.
  if (padding > 2 || offset_unit > 2) return;  // the ABI rejects these before encoding
  EncodeOptions o;
  o.add_special_tokens = add_special;
  if (truncation > 0) {
    o.truncation.enabled = true;
    o.truncation.strategy = static_cast<TruncationStrategy>(truncation - 1);
    o.truncation.max_length = static_cast<size_t>(max_length);
    o.truncation.stride = static_cast<size_t>(stride);
  }
  o.padding.strategy = static_cast<PaddingStrategy>(padding);
  o.padding.max_length = static_cast<size_t>(pad_length);
  if (o.truncation.enabled || o.padding.strategy == PaddingStrategy::kMaxLength) {
    // The sequences' own token counts (what truncation and padding start from), then the budget.
    Result<Encoding> plain_a = tok->Encode(a, EncodeOptions{false, {}, {}});
    Result<Encoding> plain_b = is_pair ? tok->Encode(b, EncodeOptions{false, {}, {}}) : Result<Encoding>(Encoding());
    if (plain_a.ok() && plain_b.ok()) {
      const Work w = EstimateWork(*tok, plain_a->size(), plain_b->size(), is_pair, o);
      if (!w.past_limits && (w.windows > kBudgetEncodings || w.tokens > kBudgetTokens)) return;
    }
  }
  Result<Encoding> enc = is_pair ? tok->EncodePair(a, b, o) : tok->Encode(a, o);
  if (!enc.ok()) return;
  // Byte offsets are checked before conversion (they index the texts); converted ones after.
  std::vector<const Encoding*> stack = {&*enc};
  while (!stack.empty()) {
    const Encoding* e = stack.back();
    stack.pop_back();
    CheckWindow(*tok, *e, a, b, 0, o, is_pair);
    for (const Encoding& w : e->overflowing) stack.push_back(&w);
  }
  ConvertOffsets(a, b, static_cast<OffsetUnit>(offset_unit), &enc.value());
  stack = {&*enc};
  while (!stack.empty()) {
    const Encoding* e = stack.back();
    stack.pop_back();
    CheckWindow(*tok, *e, a, b, offset_unit, o, is_pair);
    for (const Encoding& w : e->overflowing) stack.push_back(&w);
  }
}

}  // namespace edgebert::fuzz
