// bindings.cc: the C ABI the JS side calls. Every export returns a status code or a handle;
// nothing throws across the boundary, and the last error's message is kept for eb_last_error().
#include <emscripten/emscripten.h>

#include <cstdint>
#include <cstdlib>
#include <string>

#include "aligned_buffer.h"
#include "edgebert.h"
#include "last_error.h"

namespace edgebert::wasm {

std::string& LastError() {
  static std::string message;
  return message;
}

}  // namespace edgebert::wasm

extern "C" {

EMSCRIPTEN_KEEPALIVE const char* eb_version() { return edgebert::Version(); }

// The message of the last failed call ("" when the last call succeeded).
EMSCRIPTEN_KEEPALIVE const char* eb_last_error() { return edgebert::wasm::LastError().c_str(); }

// 64-byte aligned: packed models are read in place and their tensors are 64-byte aligned. Null
// when out of memory or when n is within 63 bytes of 4 GiB (it cannot be rounded up to 64).
EMSCRIPTEN_KEEPALIVE void* eb_malloc(size_t n) { return edgebert::wasm::AlignedAlloc64(n); }
EMSCRIPTEN_KEEPALIVE void eb_free(void* p) { std::free(p); }

}  // extern "C"
