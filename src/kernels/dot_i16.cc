// dot_i16.cc: DotI16 with register tiles of 2 rows of a x 4 rows of b: per 8 steps of the depth, six
// vector loads and eight pairwise multiply-adds (i32x4.dot_i16x8_s / pmaddwd, 8 products each), the
// eight int32 accumulators reduced across lanes once per tile.
#include "kernels/dot_i16.h"

#include <algorithm>
#include <cmath>

#include "kernels/simd.h"

namespace edgebert {
namespace {

using simd::F4;
using simd::I16x8;
using simd::I4;

// R rows of a x C rows of b (C <= 4), the whole depth. noinline: entered once per tile, so that V8
// tiers it up early (as sgemm.cc's tiles).
template <int R, int C>
__attribute__((noinline)) void Tile(int depth, const int16_t* a, int lda, const int16_t* b, int ldb, const float* ra,
                                    const float* rb, float* c, int ldc) {
  I4 acc[R][4] = {};
  for (int t = 0; t < depth; t += kDotI16Depth) {
    I16x8 av[R];
    for (int r = 0; r < R; ++r) av[r] = simd::LoadI16(a + static_cast<size_t>(r) * lda + t);
    for (int j = 0; j < C; ++j) {
      const I16x8 bv = simd::LoadI16(b + static_cast<size_t>(j) * ldb + t);
      for (int r = 0; r < R; ++r) acc[r][j] += simd::MulAddPairs(av[r], bv);
    }
  }
  const F4 rbv = C == 4 ? simd::Load(rb) : simd::LoadPartial(rb, C);
  for (int r = 0; r < R; ++r) {
    const I4 sums = simd::SumLanes4(acc[r][0], acc[r][1], acc[r][2], acc[r][3]);
    const F4 out = simd::ToFloat(sums) * simd::Splat(ra[r]) * rbv;
    float* cr = c + static_cast<size_t>(r) * ldc;
    if (C == 4) {
      simd::Store(cr, out);
    } else {
      simd::StorePartial(cr, out, C);
    }
  }
}

template <int R>
void RowBlock(int n, int depth, const int16_t* a, int lda, const int16_t* b, int ldb, const float* ra, const float* rb,
              float* c, int ldc) {
  int j = 0;
  for (; j + 4 <= n; j += 4)
    Tile<R, 4>(depth, a, lda, b + static_cast<size_t>(j) * ldb, ldb, ra, rb + j, c + j, ldc);
  const int rest = n - j;
  const int16_t* bj = b + static_cast<size_t>(j) * ldb;
  if (rest == 1) Tile<R, 1>(depth, a, lda, bj, ldb, ra, rb + j, c + j, ldc);
  if (rest == 2) Tile<R, 2>(depth, a, lda, bj, ldb, ra, rb + j, c + j, ldc);
  if (rest == 3) Tile<R, 3>(depth, a, lda, bj, ldb, ra, rb + j, c + j, ldc);
}

}  // namespace

void DotI16(int m, int n, int depth, const int16_t* a, int lda, const int16_t* b, int ldb, const float* ra,
            const float* rb, float* c, int ldc) {
  int i = 0;
  for (; i + 2 <= m; i += 2)
    RowBlock<2>(n, depth, a + static_cast<size_t>(i) * lda, lda, b, ldb, ra + i, rb, c + static_cast<size_t>(i) * ldc,
                ldc);
  if (i < m) RowBlock<1>(n, depth, a + static_cast<size_t>(i) * lda, lda, b, ldb, ra + i, rb, c + static_cast<size_t>(i) * ldc, ldc);
}

void DotI16Reference(int m, int n, int depth, const int16_t* a, int lda, const int16_t* b, int ldb,
                     const float* ra, const float* rb, float* c, int ldc) {
  for (int i = 0; i < m; ++i)
    for (int j = 0; j < n; ++j) {
      int64_t s = 0;
      for (int t = 0; t < depth; ++t)
        s += int64_t{a[static_cast<size_t>(i) * lda + t]} * b[static_cast<size_t>(j) * ldb + t];
      c[static_cast<size_t>(i) * ldc + j] = static_cast<float>(s) * ra[i] * rb[j];
    }
}

float DotI16NormLimit(int n) { return 46340.f - 0.5f * std::sqrt(static_cast<float>(n)) - 1.f; }

float QuantizeRowI16(const float* x, int n, int limit, float norm_limit, int16_t* out, int padded) {
  F4 m4 = simd::Splat(0.f);
  int i = 0;
  for (; i + 4 <= n; i += 4) m4 = simd::Max(m4, simd::Abs(simd::Load(x + i)));
  float mx = simd::HorizontalMax(m4);
  for (; i < n; ++i) mx = std::max(mx, std::fabs(x[i]));
  if (!(mx > 0.f)) {
    std::fill(out, out + padded, int16_t{0});
    return 0.f;
  }
  float scale = mx / static_cast<float>(limit);
  if (norm_limit > 0.f) {
    // ||x||_2 = mx * ||x / mx||_2: no overflow for any finite x. Lanes summed in a fixed order.
    const float inv_mx = 1.f / mx;
    const F4 im4 = simd::Splat(inv_mx);
    F4 s4 = simd::Splat(0.f);
    i = 0;
    for (; i + 4 <= n; i += 4) {
      const F4 u = simd::Load(x + i) * im4;
      s4 += u * u;
    }
    float ss = simd::HorizontalSum(s4);
    for (; i < n; ++i) ss += (x[i] * inv_mx) * (x[i] * inv_mx);
    scale = std::max(scale, mx * std::sqrt(ss) / norm_limit);
  }
  const float inv = 1.f / scale;
  const F4 inv4 = simd::Splat(inv);
  const I4 lim = simd::SplatI(limit);
  const auto quantize4 = [&](const float* p) {
    const I4 q = simd::RoundToInt(simd::Load(p) * inv4);
    return q > lim ? lim : q < -lim ? -lim : q;  // x * inv may round a hair past the limit
  };
  i = 0;
  for (; i + 8 <= n; i += 8) simd::StoreI16(out + i, simd::NarrowToI16(quantize4(x + i), quantize4(x + i + 4)));
  for (; i < n; ++i) {
    const long r = std::lround(x[i] * inv);
    out[i] = static_cast<int16_t>(std::max<long>(-limit, std::min<long>(limit, r)));
  }
  std::fill(out + n, out + padded, int16_t{0});
  return scale;
}

}  // namespace edgebert
