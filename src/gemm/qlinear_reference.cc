// qlinear_reference.cc: scalar reference of the int8 Linear layer, and the quantizers it shares.
#include <algorithm>
#include <cmath>

#include "gemm/qlinear.h"

namespace edgebert {

void QuantParamsU8(float lo, float hi, float* scale, int32_t* zero) {
  float s = (hi - lo) / 255.f;
  if (s == 0.f || !std::isfinite(s)) s = 1.f;
  // Zero point: the uint8 value that represents 0.0 exactly.
  int32_t z = static_cast<int32_t>(std::lround(-lo / s));
  *scale = s;
  *zero = std::clamp(z, 0, 255);
}

void QuantizeRowU8(const float* x, int k, uint8_t* q, float* scale, int32_t* zero) {
  float lo = 0.f, hi = 0.f;
  for (int i = 0; i < k; ++i) {
    lo = std::min(lo, x[i]);
    hi = std::max(hi, x[i]);
  }
  float s;
  int32_t z;
  QuantParamsU8(lo, hi, &s, &z);
  const float inv = 1.f / s;
  for (int i = 0; i < k; ++i) {
    int32_t v = static_cast<int32_t>(std::lround(x[i] * inv)) + z;
    q[i] = static_cast<uint8_t>(std::clamp(v, 0, 255));
  }
  *scale = s;
  *zero = z;
}

void QuantizeWeightsPerChannel(const float* w, int n, int k, int8_t* q, float* scale) {
  for (int r = 0; r < n; ++r) {
    const float* row = w + static_cast<size_t>(r) * k;
    float amax = 0.f;
    for (int i = 0; i < k; ++i) amax = std::max(amax, std::fabs(row[i]));
    float s = amax > 0.f ? amax / 127.f : 1.f;
    const float inv = 1.f / s;
    for (int i = 0; i < k; ++i) {
      long v = std::lround(row[i] * inv);
      q[static_cast<size_t>(r) * k + i] = static_cast<int8_t>(std::clamp<long>(v, -127, 127));
    }
    scale[r] = s;
  }
}

void QLinearReference(const float* x, int m, const QLinearWeights& w, float* y) {
  std::vector<uint8_t> xq(static_cast<size_t>(w.k));
  for (int r = 0; r < m; ++r) {
    float xs;
    int32_t xz;
    QuantizeRowU8(x + static_cast<size_t>(r) * w.k, w.k, xq.data(), &xs, &xz);
    for (int c = 0; c < w.n; ++c) {
      const int8_t* wr = w.weight + static_cast<size_t>(c) * w.k;
      int32_t acc = 0;
      for (int i = 0; i < w.k; ++i) acc += (static_cast<int32_t>(xq[i]) - xz) * wr[i];
      float v = xs * w.scale[c] * static_cast<float>(acc);
      y[static_cast<size_t>(r) * w.n + c] = v + (w.bias ? w.bias[c] : 0.f);
    }
  }
}

}  // namespace edgebert
