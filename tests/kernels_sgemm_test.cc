// kernels_sgemm_test.cc: Sgemm against its scalar reference on random and edge shapes.
#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "kernels/sgemm.h"

namespace edgebert {
namespace {

// Sgemm sums every output in the reference's order and multiplies by alpha last, with separate
// multiply and add (no fused multiply-add: neither SSE nor SIMD128 has one here), so the results
// are equal bit for bit.
void Check(int m, int n, int k, int lda_pad, int ldb_pad, int ldc_pad, std::mt19937* rng) {
  std::normal_distribution<float> normal(0.f, 1.f);
  const int lda = k + lda_pad, ldb = n + ldb_pad, ldc = n + ldc_pad;
  std::vector<float> a(static_cast<size_t>(m) * lda), b(static_cast<size_t>(k) * ldb);
  for (float& x : a) x = normal(*rng);
  for (float& x : b) x = normal(*rng);
  const float guard = 12345.f;
  std::vector<float> c(static_cast<size_t>(m) * ldc, guard), r(c);
  Sgemm(m, n, k, 0.125f, a.data(), lda, b.data(), ldb, c.data(), ldc);
  SgemmReference(m, n, k, 0.125f, a.data(), lda, b.data(), ldb, r.data(), ldc);
  for (int i = 0; i < m; ++i)
    for (int j = 0; j < ldc; ++j) {
      const size_t at = static_cast<size_t>(i) * ldc + j;
      if (j >= n) {
        ASSERT_EQ(c[at], guard) << "wrote outside c: m=" << m << " n=" << n << " k=" << k << " (" << i << "," << j << ")";
      } else {
        ASSERT_EQ(c[at], r[at]) << "m=" << m << " n=" << n << " k=" << k << " (" << i << "," << j << ")";
      }
    }
}

TEST(KernelsSgemm, MatchesReferenceOnEdgeShapes) {
  std::mt19937 rng(7);
  // Row tiles of 4, column tiles of 8 and 4: sizes around them, 1, and attention's shapes.
  for (int m : {1, 3, 4, 5, 8, 31, 32, 33})
    for (int n : {1, 3, 4, 5, 7, 8, 9, 12, 16, 17, 64})
      for (int k : {0, 1, 2, 7, 64}) Check(m, n, k, 0, 0, 0, &rng);
}

TEST(KernelsSgemm, MatchesReferenceWithStrides) {
  std::mt19937 rng(8);
  Check(32, 128, 64, 704, 3, 5, &rng);   // q k^T of one head: q rows strided by H
  Check(17, 64, 37, 1, 704, 704, &rng);  // p v: v and ctx strided by H
  Check(32, 384, 64, 0, 0, 0, &rng);
}

TEST(KernelsSgemm, TrailingZeroTermsChangeNothing) {
  // What padded keys rely on: extending k with zero rows of a leaves every result bit equal.
  std::mt19937 rng(9);
  std::normal_distribution<float> normal(0.f, 1.f);
  const int m = 6, n = 13, k = 11, kpad = 16;
  std::vector<float> a(static_cast<size_t>(m) * kpad, 0.f), b(static_cast<size_t>(kpad) * n);
  for (int i = 0; i < m; ++i)
    for (int p = 0; p < k; ++p) a[static_cast<size_t>(i) * kpad + p] = normal(rng);
  for (float& x : b) x = normal(rng);
  std::vector<float> c1(static_cast<size_t>(m) * n), c2(c1);
  Sgemm(m, n, k, 1.f, a.data(), kpad, b.data(), n, c1.data(), n);
  Sgemm(m, n, kpad, 1.f, a.data(), kpad, b.data(), n, c2.data(), n);
  for (size_t i = 0; i < c1.size(); ++i) ASSERT_EQ(c1[i], c2[i]) << i;
}

}  // namespace
}  // namespace edgebert
