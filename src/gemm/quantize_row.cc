// quantize_row.cc: QuantizeRowU8Fast, QuantizeRowU8 vectorized with SIMD128 (same results).
#include "gemm/quantize_row.h"

#include <algorithm>
#include <cmath>

#include "gemm/qlinear.h"
#include "kernels/simd.h"

#if defined(__wasm_simd128__)
#include <wasm_simd128.h>
#endif

namespace edgebert {

#if defined(__wasm_simd128__)

void QuantizeRowU8Fast(const float* x, int k, uint8_t* q, float* scale, int32_t* zero) {
  // Range, including 0, as QuantizeRowU8: std::min(lo, v) keeps lo when v is NaN, and so does
  // pmin(lo, v) (= v < lo ? v : lo); min and max are exact, so the order of reduction is free.
  v128_t lo4 = wasm_f32x4_splat(0.f), hi4 = lo4;
  int i = 0;
  for (; i + 4 <= k; i += 4) {
    const v128_t v = wasm_v128_load(x + i);
    lo4 = wasm_f32x4_pmin(lo4, v);
    hi4 = wasm_f32x4_pmax(hi4, v);
  }
  float lo = std::min(std::min(wasm_f32x4_extract_lane(lo4, 0), wasm_f32x4_extract_lane(lo4, 1)),
                      std::min(wasm_f32x4_extract_lane(lo4, 2), wasm_f32x4_extract_lane(lo4, 3)));
  float hi = std::max(std::max(wasm_f32x4_extract_lane(hi4, 0), wasm_f32x4_extract_lane(hi4, 1)),
                      std::max(wasm_f32x4_extract_lane(hi4, 2), wasm_f32x4_extract_lane(hi4, 3)));
  for (; i < k; ++i) {
    lo = std::min(lo, x[i]);
    hi = std::max(hi, x[i]);
  }
  // Scale and zero point: the very same code as QuantizeRowU8.
  float s;
  int32_t z;
  QuantParamsU8(lo, hi, &s, &z);
  const float inv = 1.f / s;

  const v128_t inv4 = wasm_f32x4_splat(inv);
  // Constants through simd::Keep: one local each, not rebuilt at every use in the loop.
  const v128_t half = simd::Keep(wasm_f32x4_splat(0.5f));
  const v128_t sign_mask = simd::Keep(wasm_i32x4_splat(static_cast<int32_t>(0x80000000u)));
  const v128_t one = simd::Keep(wasm_f32x4_splat(1.f));
  const v128_t z4 = wasm_i32x4_splat(z);
  const v128_t lo_q = wasm_i32x4_splat(0), hi_q = simd::Keep(wasm_i32x4_splat(255));
  // Rounds v half away from zero to int32, like std::lround: t = trunc(v) and v - t are exact.
  auto round_away = [&](v128_t v) {
    const v128_t t = wasm_f32x4_trunc(v);
    const v128_t frac = wasm_f32x4_abs(wasm_f32x4_sub(v, t));
    const v128_t away = wasm_v128_or(one, wasm_v128_and(v, sign_mask));  // copysign(1, v)
    const v128_t r = wasm_f32x4_add(t, wasm_v128_and(away, wasm_f32x4_ge(frac, half)));
    return wasm_i32x4_trunc_sat_f32x4(r);
  };
  i = 0;
  for (; i + 16 <= k; i += 16) {
    v128_t r[4];
    for (int j = 0; j < 4; ++j) {
      const v128_t v = wasm_f32x4_mul(wasm_v128_load(x + i + 4 * j), inv4);
      r[j] = wasm_i32x4_min(wasm_i32x4_max(wasm_i32x4_add(round_away(v), z4), lo_q), hi_q);
    }
    // Values are in 0..255: the saturating narrows are exact.
    const v128_t h0 = wasm_i16x8_narrow_i32x4(r[0], r[1]);
    const v128_t h1 = wasm_i16x8_narrow_i32x4(r[2], r[3]);
    wasm_v128_store(q + i, wasm_u8x16_narrow_i16x8(h0, h1));
  }
  for (; i < k; ++i) {
    const int32_t v = static_cast<int32_t>(std::lround(x[i] * inv)) + z;
    q[i] = static_cast<uint8_t>(std::clamp(v, 0, 255));
  }
  *scale = s;
  *zero = z;
}

#else

void QuantizeRowU8Fast(const float* x, int k, uint8_t* q, float* scale, int32_t* zero) {
  QuantizeRowU8(x, k, q, scale, zero);
}

#endif

}  // namespace edgebert
