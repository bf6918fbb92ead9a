// topk.cc: TopAbs as an insertion into a short sorted list, with a SIMD filter that skips groups
// of four values none of which beats the current t-th largest (almost all of them once the list
// has filled: a random row of 768 sees about t ln(k / t) insertions).
#include "kernels/topk.h"

#include <cassert>
#include <cmath>

#include "kernels/simd.h"

namespace edgebert {
namespace {

struct TopList {
  float v[kTopAbsMax];
  int* idx;
  int t, count = 0;

  // Offers |x[i]| = a; the list keeps decreasing magnitudes, earlier columns first among equals.
  void Offer(float a, int i) {
    if (count == t && !(a > v[t - 1])) return;  // a NaN is taken only while the list is filling
    int pos = count < t ? count++ : t - 1;
    while (pos > 0 && a > v[pos - 1]) {
      v[pos] = v[pos - 1];
      idx[pos] = idx[pos - 1];
      --pos;
    }
    v[pos] = a;
    idx[pos] = i;
  }
};

}  // namespace

int TopAbs(const float* x, int k, int t, int* idx) {
  assert(t >= 0 && t <= kTopAbsMax);
  if (t <= 0) return 0;
  TopList list{{}, idx, t};
  int i = 0;
  for (; i < k && list.count < t; ++i) list.Offer(std::fabs(x[i]), i);
  for (; i + 4 <= k; i += 4) {
    const simd::F4 a = simd::Abs(simd::Load(x + i));
    if (!simd::AnyTrue(a > simd::Splat(list.v[t - 1]))) continue;
    for (int u = 0; u < 4; ++u) list.Offer(a[u], i + u);
  }
  for (; i < k; ++i) list.Offer(std::fabs(x[i]), i);
  return list.count;
}

double SumOfSquares(const float* x, int k, float* absmax) {
  double sum = 0;
  simd::F4 m4 = simd::Splat(0.f);
  int i = 0;
  for (; i + 16 <= k; i += 16) {
    simd::F4 s4 = simd::Splat(0.f);
    for (int u = 0; u < 16; u += 4) {
      const simd::F4 v = simd::Load(x + i + u);
      s4 += v * v;
      m4 = simd::Max(m4, simd::Abs(v));
    }
    sum += static_cast<double>(s4[0]) + s4[1] + s4[2] + s4[3];
  }
  float mx = simd::HorizontalMax(m4);
  for (; i < k; ++i) {
    sum += static_cast<double>(x[i]) * x[i];
    const float a = std::fabs(x[i]);
    mx = a > mx ? a : mx;
  }
  if (absmax) *absmax = mx;
  return sum;
}

double SumOfSquaresReference(const float* x, int k, float* absmax) {
  double sum = 0;
  float mx = 0.f;
  for (int i = 0; i < k; ++i) {
    sum += static_cast<double>(x[i]) * x[i];
    const float a = std::fabs(x[i]);
    mx = a > mx ? a : mx;
  }
  if (absmax) *absmax = mx;
  return sum;
}

int TopAbsReference(const float* x, int k, int t, int* idx) {
  assert(t >= 0 && t <= kTopAbsMax);
  if (t <= 0) return 0;
  TopList list{{}, idx, t};
  for (int i = 0; i < k; ++i) list.Offer(std::fabs(x[i]), i);
  return list.count;
}

}  // namespace edgebert
