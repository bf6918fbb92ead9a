// gelu.cc: erf(x) = x P(x^2) / Q(x^2) on [-4, 4] (degrees 5 and 5 in x^2, fitted for this file by
// iteratively reweighted least squares against double-precision erf, then rounded to fp32 and
// checked: max abs error 3.8e-7 in fp32 evaluation), clamped to +-1.
#include "kernels/gelu.h"

#include <cmath>

#include "kernels/simd.h"

namespace edgebert {
namespace {

using simd::F4;

constexpr float kP[6] = {1.1283790e+00f, 1.9625281e-01f, 5.3467948e-02f,
                         4.0038032e-03f, 2.8804352e-04f, 1.9747797e-06f};
constexpr float kQ[6] = {1.0f,           5.07255673e-01f, 1.16477974e-01f,
                         1.54447351e-02f, 1.21639553e-03f, 3.74804549e-05f};

// Erf4's and Gelu4's constants, made once per call (simd::Keep: see softmax.cc).
struct ErfConstants {
  F4 p[6], q[6];
  const F4 four = simd::Keep(simd::Splat(4.f)), minus_four = simd::Keep(simd::Splat(-4.f)),
           one = simd::Keep(simd::Splat(1.f)), minus_one = simd::Keep(simd::Splat(-1.f)),
           half = simd::Keep(simd::Splat(0.5f)), rsqrt2 = simd::Keep(simd::Splat(0.70710678118654752f));
  ErfConstants() {
    for (int i = 0; i < 6; ++i) {
      p[i] = simd::Keep(simd::Splat(kP[i]));
      q[i] = simd::Keep(simd::Splat(kQ[i]));
    }
  }
};

inline F4 Erf4(F4 x, const ErfConstants& k) {
  x = simd::Min(simd::Max(x, k.minus_four), k.four);
  const F4 z = x * x;
  F4 p = k.p[5], q = k.q[5];
  for (int i = 4; i >= 0; --i) {
    p = p * z + k.p[i];
    q = q * z + k.q[i];
  }
  const F4 r = x * (p / q);
  return simd::Min(simd::Max(r, k.minus_one), k.one);
}

inline F4 Gelu4(F4 x, const ErfConstants& k) { return k.half * x * (k.one + Erf4(x * k.rsqrt2, k)); }

}  // namespace

void ErfFast(const float* x, size_t n, float* y) {
  const ErfConstants k;
  size_t i = 0;
  for (; i + 4 <= n; i += 4) simd::Store(y + i, Erf4(simd::Load(x + i), k));
  if (i < n) {
    const int rest = static_cast<int>(n - i);
    simd::StorePartial(y + i, Erf4(simd::LoadPartial(x + i, rest), k), rest);
  }
}

void GeluErf(float* x, size_t n) {
  const ErfConstants k;
  size_t i = 0;
  for (; i + 4 <= n; i += 4) simd::Store(x + i, Gelu4(simd::Load(x + i), k));
  if (i < n) {
    const int rest = static_cast<int>(n - i);
    simd::StorePartial(x + i, Gelu4(simd::LoadPartial(x + i, rest), k), rest);
  }
}

void ErfReference(const float* x, size_t n, float* y) {
  for (size_t i = 0; i < n; ++i) y[i] = std::erf(x[i]);
}

void GeluErfReference(float* x, size_t n) {
  for (size_t i = 0; i < n; ++i) x[i] = 0.5f * x[i] * (1.f + std::erf(x[i] * 0.70710678118654752f));
}

}  // namespace edgebert
