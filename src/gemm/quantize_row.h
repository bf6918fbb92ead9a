// quantize_row.h: the per-row activation quantizer of QLinear's fast path, bitwise equal to
// QuantizeRowU8 (qlinear.h) but vectorized with WebAssembly SIMD128 where available.
#pragma once

#include <cstdint>

namespace edgebert {

// Same contract and, for finite inputs, the same q, scale and zero as QuantizeRowU8, bit for bit:
// the same fp32 operations, with std::lround's round-half-away-from-zero written as
// trunc + (|frac| >= 0.5 ? sign : 0), and min/max with std::min/max's NaN behaviour (pmin/pmax).
// Falls back to QuantizeRowU8 itself without SIMD128.
void QuantizeRowU8Fast(const float* x, int k, uint8_t* q, float* scale, int32_t* zero);

}  // namespace edgebert
