// checked.h: size arithmetic that cannot wrap, for every size computed from a file, header or config.
//
// Why: wasm32 has a 32-bit size_t, so `rows * dim * 4` from an untrusted config can wrap to a
// small number (DistilBERT dim 65536 x 65536 positions x 4 bytes = 2^34 wraps to 0) and the buffer
// is then written past its end. Sizes are computed in uint64_t here and refused above
// kMaxBufferBytes, the 32-bit address space, on every build: a native test then fails exactly
// where the wasm build would have wrapped, instead of passing with a 16 GiB allocation.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <string>
#include <string_view>

#include "util/status.h"

namespace edgebert {

// The largest buffer any size from untrusted input may ask for, on every build: wasm32 memory is
// at most 4 GiB (wasm/CMakeLists.txt: MAXIMUM_MEMORY=4GB) and size_t cannot express more.
constexpr uint64_t kMaxBufferBytes = (uint64_t{1} << 32) - 1;

// a + b, or false when the sum does not fit in uint64_t.
inline bool CheckedAdd(uint64_t a, uint64_t b, uint64_t* out) {
  if (a > std::numeric_limits<uint64_t>::max() - b) return false;
  *out = a + b;
  return true;
}

// a * b, or false when the product does not fit in uint64_t.
inline bool CheckedMul(uint64_t a, uint64_t b, uint64_t* out) {
  if (a != 0 && b > std::numeric_limits<uint64_t>::max() / a) return false;
  *out = a * b;
  return true;
}

// x rounded up to a multiple of `align` (> 0), or false when that does not fit in uint64_t.
inline bool CheckedAlignUp(uint64_t x, uint64_t align, uint64_t* out) {
  uint64_t sum = 0;
  if (!CheckedAdd(x, align - 1, &sum)) return false;
  *out = sum / align * align;
  return true;
}

// Whether `bytes` is a size one buffer may have (at most kMaxBufferBytes, so it fits in size_t
// on wasm32 too).
inline bool FitsBuffer(uint64_t bytes) { return bytes <= kMaxBufferBytes; }

// The product of `counts` times `elem_bytes` as a size_t buffer size, or InvalidArgument naming
// `what` when a count is negative, the product overflows or it exceeds kMaxBufferBytes.
// E.g. BufferBytes({max_position, hidden}, sizeof(float), "config.json: the position table").
inline Result<size_t> BufferBytes(std::initializer_list<int64_t> counts, uint64_t elem_bytes, std::string_view what) {
  uint64_t total = elem_bytes;
  std::string dims;
  bool ok = true;
  for (int64_t c : counts) {
    dims += (dims.empty() ? "" : " x ") + std::to_string(c);
    if (c < 0 || !CheckedMul(total, static_cast<uint64_t>(c), &total)) ok = false;
  }
  if (!ok || !FitsBuffer(total))
    return InvalidArgument(std::string(what) + ": " + dims + " elements of " + std::to_string(elem_bytes) +
                           " bytes exceed the 4 GiB limit of a buffer (the 32-bit address space of wasm32)");
  return static_cast<size_t>(total);
}

}  // namespace edgebert
