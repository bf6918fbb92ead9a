// aligned_buffer.h: the heap buffers the bindings hand to and take from JS: 64-byte-aligned
// allocation and the bounds check of a (pointer, length) that JS passes in.
#pragma once

#include <emscripten/heap.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>

namespace edgebert::wasm {

// aligned_alloc(64, n rounded up to 64), or null when that rounding would wrap (n within 63 bytes
// of SIZE_MAX: 2^32 in wasm32, where `(n + 63) / 64 * 64` used to become 0 and a 0-byte buffer
// came back for a 4 GiB request) or the allocation fails. n = 0 gives a valid, freeable pointer.
inline void* AlignedAlloc64(size_t n) {
  if (n > SIZE_MAX - 63) return nullptr;
  return std::aligned_alloc(64, n == 0 ? 64 : (n + 63) / 64 * 64);
}

// Whether [p, p + n) lies inside the wasm heap as it is now (null only with n = 0). A length JS got
// wrong would otherwise be read past the end of memory (a trap) or over other allocations.
inline bool InHeap(const void* p, size_t n) {
  const uint64_t heap = emscripten_get_heap_size();
  const uint64_t addr = reinterpret_cast<uintptr_t>(p);
  if (!p) return n == 0;
  return addr <= heap && n <= heap - addr;
}

}  // namespace edgebert::wasm
