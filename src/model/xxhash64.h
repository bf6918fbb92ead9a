// xxhash64.h: XXH64, the 64-bit xxHash (seed 0 in the packed format), implemented from its spec
// (https://github.com/Cyan4973/xxHash/blob/dev/doc/xxhash_spec.md). Fast enough to verify a
// 70 MB model at load (~8 bytes per step, no tables).
#pragma once

#include <cstddef>
#include <cstdint>

namespace edgebert {

uint64_t XxHash64(const void* data, size_t size, uint64_t seed = 0);

}  // namespace edgebert
