// tokenizer_bindings.cc: C exports of the tokenizer for JS (encode to ids, masks and offsets).
//
// A tokenizer handle comes from eb_tokenizer_from_json / eb_tokenizer_from_vocab; each encode
// returns a result handle holding the windows (the encoding, then its overflowing windows, as
// transformers flattens them with return_overflowing_tokens=True). Field pointers stay valid
// until eb_encoding_free. Failures return 0 and leave a message for eb_last_error().
#include <emscripten/emscripten.h>

#include <cstdint>
#include <initializer_list>
#include <utility>
#include <string>
#include <string_view>
#include <vector>

#include "aligned_buffer.h"
#include "last_error.h"
#include "tokenizer/tokenizer.h"

namespace {

using edgebert::wasm::LastError;

// JS reads offsets as a Uint32Array of (start, end) pairs.
static_assert(sizeof(edgebert::TokenOffsets) == 8, "TokenOffsets must be two packed uint32");

struct EncodeResult {
  std::vector<edgebert::Encoding> windows;
};

std::string_view View(const char* p, size_t n) { return p ? std::string_view(p, n) : std::string_view(); }

// Every (pointer, length) from JS must lie inside the heap (null only with length 0).
bool RangesOk(const char* fn, std::initializer_list<std::pair<const char*, size_t>> ranges) {
  for (const auto& [p, n] : ranges) {
    if (p && !edgebert::wasm::InHeap(p, n)) {
      LastError() = std::string("InvalidArgument: ") + fn + ": " + std::to_string(n) +
                    " bytes at a pointer that lies outside the wasm heap";
      return false;
    }
  }
  return true;
}

}  // namespace

extern "C" {

// Same message as eb_last_error() (kept so tokenizer-only callers need one prefix).
EMSCRIPTEN_KEEPALIVE const char* eb_tokenizer_last_error() { return LastError().c_str(); }

EMSCRIPTEN_KEEPALIVE edgebert::Tokenizer* eb_tokenizer_from_json(const char* json, size_t len) {
  if (!RangesOk("eb_tokenizer_from_json", {{json, len}})) return nullptr;
  auto t = edgebert::Tokenizer::FromTokenizerJson(View(json, len));
  if (!t.ok()) {
    LastError() = t.status().ToString();
    return nullptr;
  }
  LastError().clear();
  return new edgebert::Tokenizer(std::move(t).value());
}

// tokenizer_config.json and special_tokens_map.json may be null (absent files).
EMSCRIPTEN_KEEPALIVE edgebert::Tokenizer* eb_tokenizer_from_vocab(const char* vocab, size_t vocab_len,
                                                               const char* config, size_t config_len,
                                                               const char* map, size_t map_len) {
  if (!RangesOk("eb_tokenizer_from_vocab", {{vocab, vocab_len}, {config, config_len}, {map, map_len}})) return nullptr;
  auto t = edgebert::Tokenizer::FromVocabFiles(View(vocab, vocab_len), View(config, config_len), View(map, map_len));
  if (!t.ok()) {
    LastError() = t.status().ToString();
    return nullptr;
  }
  LastError().clear();
  return new edgebert::Tokenizer(std::move(t).value());
}

EMSCRIPTEN_KEEPALIVE void eb_tokenizer_free(edgebert::Tokenizer* tok) { delete tok; }

// Encodes `text` (UTF-8, len bytes), or the pair (text, second) when is_pair != 0.
//   truncation: 0 off, 1 longest_first, 2 only_first, 3 only_second (max_length, stride)
//   padding:    0 off, 1 longest, 2 max_length (pad_length)
//   offset_unit: 0 UTF-8 bytes, 1 UTF-16 code units (String.slice), 2 code points
EMSCRIPTEN_KEEPALIVE EncodeResult* eb_tokenizer_encode(const edgebert::Tokenizer* tok, const char* text,
                                                      size_t len, int is_pair, const char* second,
                                                      size_t second_len, int add_special_tokens,
                                                      int truncation, int max_length, int stride, int padding,
                                                      int pad_length, int offset_unit) {
  using namespace edgebert;
  if (!tok || (!text && len) || (is_pair && !second && second_len) || truncation < 0 || truncation > 3 ||
      padding < 0 || padding > 2 || offset_unit < 0 || offset_unit > 2 || max_length < 0 || stride < 0 ||
      pad_length < 0) {
    LastError() = "InvalidArgument: eb_tokenizer_encode: null handle/text or an option out of range";
    return nullptr;
  }
  if (!RangesOk("eb_tokenizer_encode", {{text, len}, {second, second_len}})) return nullptr;
  EncodeOptions o;
  o.add_special_tokens = add_special_tokens != 0;
  if (truncation > 0) {
    o.truncation.enabled = true;
    o.truncation.strategy = static_cast<TruncationStrategy>(truncation - 1);
    o.truncation.max_length = static_cast<size_t>(max_length);
    o.truncation.stride = static_cast<size_t>(stride);
  }
  o.padding.strategy = static_cast<PaddingStrategy>(padding);
  o.padding.max_length = static_cast<size_t>(pad_length);
  const std::string_view a = View(text, len), b = View(second, second_len);
  Result<Encoding> enc = is_pair ? tok->EncodePair(a, b, o) : tok->Encode(a, o);
  if (!enc.ok()) {
    LastError() = enc.status().ToString();
    return nullptr;
  }
  ConvertOffsets(a, b, static_cast<OffsetUnit>(offset_unit), &enc.value());
  auto* r = new EncodeResult;
  std::vector<Encoding> overflow = std::move(enc->overflowing);
  enc->overflowing.clear();
  r->windows.push_back(std::move(enc).value());
  for (Encoding& w : overflow) r->windows.push_back(std::move(w));
  LastError().clear();
  return r;
}

EMSCRIPTEN_KEEPALIVE int eb_encoding_num_windows(const EncodeResult* r) {
  return r ? static_cast<int>(r->windows.size()) : 0;
}

EMSCRIPTEN_KEEPALIVE int eb_encoding_length(const EncodeResult* r, int window) {
  if (!r || window < 0 || static_cast<size_t>(window) >= r->windows.size()) return 0;
  return static_cast<int>(r->windows[static_cast<size_t>(window)].size());
}

// field: 0 ids, 1 token_type_ids, 2 attention_mask, 3 special_tokens_mask, 4 word ids (-1 none),
// 5 sequence ids (-1 none), 6 offsets (2 x uint32 per token: start, end). Null when out of range.
EMSCRIPTEN_KEEPALIVE const void* eb_encoding_field(const EncodeResult* r, int window, int field) {
  if (!r || window < 0 || static_cast<size_t>(window) >= r->windows.size()) return nullptr;
  const edgebert::Encoding& e = r->windows[static_cast<size_t>(window)];
  switch (field) {
    case 0: return e.ids.data();
    case 1: return e.type_ids.data();
    case 2: return e.attention_mask.data();
    case 3: return e.special_tokens_mask.data();
    case 4: return e.word_ids.data();
    case 5: return e.sequence_ids.data();
    case 6: return e.offsets.data();
    default: return nullptr;
  }
}

EMSCRIPTEN_KEEPALIVE void eb_encoding_free(EncodeResult* r) { delete r; }

}  // extern "C"
