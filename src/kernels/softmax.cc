// softmax.cc: exp by range reduction (x = n ln2 + r, |r| <= ln2 / 2) and a degree-7 polynomial,
// 2^n put into the exponent bits; softmax rows on top of it.
#include "kernels/softmax.h"

#include <cmath>
#include <limits>

#include "kernels/simd.h"

namespace edgebert {
namespace {

using simd::F4;
using simd::I4;

// Below this exp(x) < 2.7e-38 is returned as 0; above kExpHi the result would need 2^128.
constexpr float kExpZeroBelow = -86.5f;
constexpr float kExpHi = 88.f;

// Exp4's constants, made once per call of a row function (simd::Keep: one local each in wasm, where
// constants written inside the loop cost V8 several instructions per use).
struct ExpConstants {
  const F4 zero_below = simd::Keep(simd::Splat(kExpZeroBelow)), lo = simd::Keep(simd::Splat(-87.f)),
           hi = simd::Keep(simd::Splat(kExpHi)), magic = simd::Keep(simd::Splat(12582912.f)),
           log2e = simd::Keep(simd::Splat(1.44269504088896341f)), ln2_hi = simd::Keep(simd::Splat(0.693359375f)),
           ln2_lo = simd::Keep(simd::Splat(-2.12194440e-4f)), c7 = simd::Keep(simd::Splat(1.f / 5040.f)),
           c6 = simd::Keep(simd::Splat(1.f / 720.f)), c5 = simd::Keep(simd::Splat(1.f / 120.f)),
           c4 = simd::Keep(simd::Splat(1.f / 24.f)), c3 = simd::Keep(simd::Splat(1.f / 6.f)),
           c2 = simd::Keep(simd::Splat(0.5f)), one = simd::Keep(simd::Splat(1.f));
};

inline F4 Exp4(F4 x, const ExpConstants& k) {
  const I4 zero = x < k.zero_below;
  x = simd::Min(simd::Max(x, k.lo), k.hi);
  // n = round(x / ln2): adding 1.5 * 2^23 leaves n in the low mantissa bits (round to nearest).
  const F4 t = x * k.log2e + k.magic;
  const F4 n = t - k.magic;
  // r = x - n ln2 in two steps (Cody-Waite): ln2_hi has 9 significant bits, so n * ln2_hi is exact.
  F4 r = x - n * k.ln2_hi;
  r = r - n * k.ln2_lo;
  // exp(r) by its Taylor series to r^7: the truncation is below 6e-9 relative for |r| <= 0.347.
  F4 p = k.c7;
  p = p * r + k.c6;
  p = p * r + k.c5;
  p = p * r + k.c4;
  p = p * r + k.c3;
  p = p * r + k.c2;
  p = p * r + k.one;
  p = p * r + k.one;
  // p * 2^n: the low bits of t's pattern hold n, shifted into the exponent field (n in [-126, 127],
  // p in [0.7, 1.42], so the exponent stays normal).
  const I4 scaled = simd::AsInt(p) + simd::ShiftLeftBits(simd::AsInt(t), 23);
  return simd::AsFloat(scaled & ~zero);
}

// x = exp(x - max) in place; returns 1 / sum. The sum adds x[j] into lane j % 4 and the lanes last.
float ExpRowInvSum(float* x, int n) {
  const int full = n & ~3, rest = n - full;
  F4 m4 = simd::Splat(-std::numeric_limits<float>::infinity());
  for (int i = 0; i < full; i += 4) m4 = simd::Max(m4, simd::Load(x + i));
  float mx = simd::HorizontalMax(m4);
  for (int i = full; i < n; ++i) mx = x[i] > mx ? x[i] : mx;
  const F4 mv = simd::Splat(mx);
  const ExpConstants k;
  F4 s4 = simd::Splat(0.f);
  for (int i = 0; i < full; i += 4) {
    const F4 e = Exp4(simd::Load(x + i) - mv, k);
    simd::Store(x + i, e);
    s4 += e;
  }
  if (rest) {
    // Lanes past the row end add +0, as masked keys would.
    const I4 valid = simd::I4{0, 1, 2, 3} < simd::SplatI(rest);
    const F4 e = simd::AsFloat(simd::AsInt(Exp4(simd::LoadPartial(x + full, rest) - mv, k)) & valid);
    simd::StorePartial(x + full, e, rest);
    s4 += e;
  }
  return 1.f / simd::HorizontalSum(s4);
}

}  // namespace

void ExpFast(const float* x, int n, float* y) {
  const ExpConstants k;
  int i = 0;
  for (; i + 4 <= n; i += 4) simd::Store(y + i, Exp4(simd::Load(x + i), k));
  if (i < n) simd::StorePartial(y + i, Exp4(simd::LoadPartial(x + i, n - i), k), n - i);
}

void Softmax(float* x, int n) {
  const float inv_sum = ExpRowInvSum(x, n);
  const int full = n & ~3;
  const F4 inv = simd::Splat(inv_sum);
  for (int i = 0; i < full; i += 4) simd::Store(x + i, simd::Load(x + i) * inv);
  for (int i = full; i < n; ++i) x[i] *= inv_sum;
}

void SoftmaxToI16(float* x, int n, int limit, int16_t* out) {
  const float f = ExpRowInvSum(x, n) * static_cast<float>(limit);
  const int full = n & ~7;
  const F4 f4 = simd::Splat(f), half = simd::Splat(0.5f);
  for (int i = 0; i < full; i += 8) {  // p >= 0: truncation of p * f + 0.5 rounds
    const I4 lo = __builtin_convertvector(simd::Load(x + i) * f4 + half, I4);
    const I4 hi = __builtin_convertvector(simd::Load(x + i + 4) * f4 + half, I4);
    simd::StoreI16(out + i, simd::NarrowToI16(lo, hi));
  }
  for (int i = full; i < n; ++i) out[i] = static_cast<int16_t>(static_cast<int32_t>(x[i] * f + 0.5f));
}

void ExpReference(const float* x, int n, float* y) {
  for (int i = 0; i < n; ++i) y[i] = std::exp(x[i]);
}

void SoftmaxToI16Reference(float* x, int n, int limit, int16_t* out) {
  SoftmaxReference(x, n);
  for (int i = 0; i < n; ++i) out[i] = static_cast<int16_t>(std::lround(x[i] * static_cast<float>(limit)));
}

void SoftmaxReference(float* x, int n) {
  float mx = -std::numeric_limits<float>::infinity();
  for (int i = 0; i < n; ++i) mx = x[i] > mx ? x[i] : mx;
  float sum = 0.f;
  for (int i = 0; i < n; ++i) {
    x[i] = std::exp(x[i] - mx);
    sum += x[i];
  }
  const float inv = 1.f / sum;
  for (int i = 0; i < n; ++i) x[i] *= inv;
}

}  // namespace edgebert
