// sgemm.cc: Sgemm with register tiles of 4 rows x 8 columns (8 vector accumulators): per step of
// the depth, two vector loads of b, four splats of a, eight multiply-adds.
#include "kernels/sgemm.h"

#include "kernels/simd.h"

namespace edgebert {
namespace {

using simd::F4;

// R rows x V vectors of 4 columns, the whole depth. Entered once per tile (not inlined), so that
// V8 tiers it up during the first forward pass (a long single call would stay in baseline code).
template <int R, int V>
__attribute__((noinline)) void Tile(int k, float alpha, const float* a, int lda, const float* b, int ldb,
                                    float* c, int ldc) {
  F4 acc[R][V];
  for (int r = 0; r < R; ++r)
    for (int v = 0; v < V; ++v) acc[r][v] = simd::Splat(0.f);
  for (int p = 0; p < k; ++p) {
    F4 bv[V];
    for (int v = 0; v < V; ++v) bv[v] = simd::Load(b + static_cast<size_t>(p) * ldb + 4 * v);
    for (int r = 0; r < R; ++r) {
      const F4 av = simd::Splat(a[static_cast<size_t>(r) * lda + p]);
      for (int v = 0; v < V; ++v) acc[r][v] += av * bv[v];
    }
  }
  const F4 al = simd::Splat(alpha);
  for (int r = 0; r < R; ++r)
    for (int v = 0; v < V; ++v) simd::Store(c + static_cast<size_t>(r) * ldc + 4 * v, acc[r][v] * al);
}

// Columns [j0, n) that do not fill a vector: scalar, same order.
void TailColumns(int m, int j0, int n, int k, float alpha, const float* a, int lda, const float* b, int ldb,
                 float* c, int ldc) {
  for (int i = 0; i < m; ++i)
    for (int j = j0; j < n; ++j) {
      float s = 0.f;
      for (int p = 0; p < k; ++p) s += a[static_cast<size_t>(i) * lda + p] * b[static_cast<size_t>(p) * ldb + j];
      c[static_cast<size_t>(i) * ldc + j] = s * alpha;
    }
}

template <int R>
void RowBlock(int n, int k, float alpha, const float* a, int lda, const float* b, int ldb, float* c, int ldc) {
  int j = 0;
  for (; j + 8 <= n; j += 8) Tile<R, 2>(k, alpha, a, lda, b + j, ldb, c + j, ldc);
  for (; j + 4 <= n; j += 4) Tile<R, 1>(k, alpha, a, lda, b + j, ldb, c + j, ldc);
  if (j < n) TailColumns(R, j, n, k, alpha, a, lda, b, ldb, c, ldc);
}

}  // namespace

void Sgemm(int m, int n, int k, float alpha, const float* a, int lda, const float* b, int ldb, float* c,
           int ldc) {
  int i = 0;
  for (; i + 4 <= m; i += 4)
    RowBlock<4>(n, k, alpha, a + static_cast<size_t>(i) * lda, lda, b, ldb, c + static_cast<size_t>(i) * ldc, ldc);
  for (; i < m; ++i)
    RowBlock<1>(n, k, alpha, a + static_cast<size_t>(i) * lda, lda, b, ldb, c + static_cast<size_t>(i) * ldc, ldc);
}

void SgemmReference(int m, int n, int k, float alpha, const float* a, int lda, const float* b, int ldb,
                    float* c, int ldc) {
  for (int i = 0; i < m; ++i)
    for (int j = 0; j < n; ++j) {
      float s = 0.f;
      for (int p = 0; p < k; ++p) s += a[static_cast<size_t>(i) * lda + p] * b[static_cast<size_t>(p) * ldb + j];
      c[static_cast<size_t>(i) * ldc + j] = s * alpha;
    }
}

}  // namespace edgebert
