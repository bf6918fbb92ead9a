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

inline F4 Exp4(F4 x) {
  const I4 zero = x < simd::Splat(kExpZeroBelow);
  x = simd::Min(simd::Max(x, simd::Splat(-87.f)), simd::Splat(kExpHi));
  // n = round(x / ln2): adding 1.5 * 2^23 leaves n in the low mantissa bits (round to nearest).
  const F4 magic = simd::Splat(12582912.f);
  const F4 t = x * simd::Splat(1.44269504088896341f) + magic;
  const F4 n = t - magic;
  // r = x - n ln2 in two steps (Cody-Waite): ln2_hi has 9 significant bits, so n * ln2_hi is exact.
  F4 r = x - n * simd::Splat(0.693359375f);
  r = r - n * simd::Splat(-2.12194440e-4f);
  // exp(r) by its Taylor series to r^7: the truncation is below 6e-9 relative for |r| <= 0.347.
  F4 p = simd::Splat(1.f / 5040.f);
  p = p * r + simd::Splat(1.f / 720.f);
  p = p * r + simd::Splat(1.f / 120.f);
  p = p * r + simd::Splat(1.f / 24.f);
  p = p * r + simd::Splat(1.f / 6.f);
  p = p * r + simd::Splat(0.5f);
  p = p * r + simd::Splat(1.f);
  p = p * r + simd::Splat(1.f);
  // p * 2^n: the low bits of t's pattern hold n, shifted into the exponent field (n in [-126, 127],
  // p in [0.7, 1.42], so the exponent stays normal).
  const I4 scaled = simd::AsInt(p) + simd::ShiftLeftBits(simd::AsInt(t), 23);
  return simd::AsFloat(scaled & ~zero);
}

}  // namespace

void ExpFast(const float* x, int n, float* y) {
  int i = 0;
  for (; i + 4 <= n; i += 4) simd::Store(y + i, Exp4(simd::Load(x + i)));
  if (i < n) simd::StorePartial(y + i, Exp4(simd::LoadPartial(x + i, n - i)), n - i);
}

void Softmax(float* x, int n) {
  const int full = n & ~3, rest = n - full;
  F4 m4 = simd::Splat(-std::numeric_limits<float>::infinity());
  for (int i = 0; i < full; i += 4) m4 = simd::Max(m4, simd::Load(x + i));
  float mx = simd::HorizontalMax(m4);
  for (int i = full; i < n; ++i) mx = x[i] > mx ? x[i] : mx;
  const F4 mv = simd::Splat(mx);
  F4 s4 = simd::Splat(0.f);
  for (int i = 0; i < full; i += 4) {
    const F4 e = Exp4(simd::Load(x + i) - mv);
    simd::Store(x + i, e);
    s4 += e;
  }
  if (rest) {
    // Lanes past the row end add +0, as masked keys would.
    const I4 valid = simd::I4{0, 1, 2, 3} < simd::SplatI(rest);
    const F4 e = simd::AsFloat(simd::AsInt(Exp4(simd::LoadPartial(x + full, rest) - mv)) & valid);
    simd::StorePartial(x + full, e, rest);
    s4 += e;
  }
  const F4 inv = simd::Splat(1.f / simd::HorizontalSum(s4));
  for (int i = 0; i < full; i += 4) simd::Store(x + i, simd::Load(x + i) * inv);
  for (int i = full; i < n; ++i) x[i] *= inv[0];
}

void ExpReference(const float* x, int n, float* y) {
  for (int i = 0; i < n; ++i) y[i] = std::exp(x[i]);
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
