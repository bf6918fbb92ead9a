// kernels_topk_test.cc: TopAbs (SIMD-filtered) against its scalar reference.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "kernels/topk.h"

namespace edgebert {
namespace {

void Expect(const std::vector<float>& x, int t, const char* what) {
  int a[kTopAbsMax], b[kTopAbsMax];
  const int k = static_cast<int>(x.size());
  const int na = TopAbs(x.data(), k, t, a), nb = TopAbsReference(x.data(), k, t, b);
  ASSERT_EQ(na, nb) << what << " k=" << k << " t=" << t;
  for (int i = 0; i < na; ++i) ASSERT_EQ(a[i], b[i]) << what << " k=" << k << " t=" << t << " rank " << i;
}

TEST(KernelsTopAbs, MatchesReferenceOnRandomRows) {
  std::mt19937 rng(5);
  std::normal_distribution<float> normal(0.f, 1.f);
  for (int k : {0, 1, 2, 3, 4, 5, 7, 8, 9, 31, 64, 767, 768, 769, 3072})
    for (int t : {0, 1, 4, 8, 16}) {
      std::vector<float> x(k);
      for (float& v : x) v = normal(rng);
      Expect(x, t, "normal");
      // Heavy outliers late in the row, and rows of few distinct values (ties everywhere).
      for (int i = k / 2; i < k; i += 97) x[i] *= 40.f;
      Expect(x, t, "outliers");
      for (float& v : x) v = static_cast<float>(static_cast<int>(normal(rng)));
      Expect(x, t, "ties");
    }
}

TEST(KernelsTopAbs, KnownAnswerAndSpecials) {
  const std::vector<float> x = {0.5f, -3.f, 2.f, 3.f, -0.f, 7.f, -7.f, 1.f, 2.f};
  int idx[4];
  ASSERT_EQ(TopAbs(x.data(), 9, 4, idx), 4);
  EXPECT_EQ(idx[0], 5);  // |7| first at column 5, then the tie at 6
  EXPECT_EQ(idx[1], 6);
  EXPECT_EQ(idx[2], 1);  // |-3| at 1 before |3| at 3
  EXPECT_EQ(idx[3], 3);
  const float nan = std::numeric_limits<float>::quiet_NaN(), inf = std::numeric_limits<float>::infinity();
  std::vector<float> y(40, 1.f);
  y[2] = nan;   // among the first t: taken, as the scalar insertion does
  y[20] = nan;  // later: never
  y[33] = -inf;
  Expect(y, 4, "specials");
  ASSERT_EQ(TopAbs(y.data(), 40, 4, idx), 4);
  // The NaN (rank 2) compares false, so the infinity enters but cannot move past it.
  EXPECT_EQ(idx[2], 2);
  EXPECT_EQ(idx[3], 33);
}

TEST(KernelsTopAbs, SumOfSquaresWithinBound) {
  std::mt19937 rng(6);
  std::normal_distribution<float> normal(0.f, 5.f);
  for (int k : {0, 1, 3, 4, 15, 16, 17, 768, 3072}) {
    std::vector<float> x(k);
    for (float& v : x) v = normal(rng);
    if (k > 2) x[k - 2] = -60.f;  // the largest magnitude in the scalar tail or the last group
    float max_ref = -1, max_simd = -1;
    const double want = SumOfSquaresReference(x.data(), k, &max_ref);
    // fp32 squares and partial sums of 4 terms per lane: 3 roundings of 2^-24 relative each.
    EXPECT_NEAR(SumOfSquares(x.data(), k, &max_simd), want, 4 * 6e-8 * want + 1e-30) << k;
    EXPECT_EQ(max_simd, max_ref) << k;
    EXPECT_EQ(SumOfSquares(x.data(), k), SumOfSquares(x.data(), k, &max_simd)) << k;
  }
}

}  // namespace
}  // namespace edgebert
