// fuzz_main.cc: the libFuzzer entry point; EDGEBERT_FUZZ_TARGET (set per binary in CMake) picks
// which of tests/fuzz/fuzz_targets.h's targets this binary runs.
#include <cstddef>
#include <cstdint>

#include "fuzz_targets.h"

#ifndef EDGEBERT_FUZZ_TARGET
#error "EDGEBERT_FUZZ_TARGET must name a target function (e.g. FuzzJson)"
#endif

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  edgebert::fuzz::EDGEBERT_FUZZ_TARGET(data, size);
  return 0;
}
