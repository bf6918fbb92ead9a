// kernels_gelu_test.cc: ErfFast and GeluErf against double-precision erf and the scalar reference.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "kernels/gelu.h"

namespace edgebert {
namespace {

TEST(KernelsGelu, ErfAbsoluteErrorOnDenseGrid) {
  // Every 2^-14 over [-6, 6] (~197k points); the size is odd in 4 so the tail path runs too.
  std::vector<float> x;
  for (double v = -6; v <= 6; v += 1.0 / 16384) x.push_back(static_cast<float>(v));
  x.push_back(4.f);
  x.push_back(-4.f);
  x.push_back(std::numeric_limits<float>::infinity());
  std::vector<float> y(x.size());
  ErfFast(x.data(), x.size(), y.data());
  double worst = 0;
  for (size_t i = 0; i < x.size(); ++i) worst = std::max(worst, std::fabs(y[i] - std::erf(static_cast<double>(x[i]))));
  EXPECT_LT(worst, 4e-7) << "the bound gelu.h states";
  EXPECT_EQ(y.back(), 1.f);
  const float zero = 0.f;
  float ez;
  ErfFast(&zero, 1, &ez);
  EXPECT_EQ(ez, 0.f);
}

TEST(KernelsGelu, GeluWithinBoundOfReference) {
  std::mt19937 rng(3);
  std::normal_distribution<float> normal(0.f, 3.f);
  for (size_t n : {size_t{1}, size_t{3}, size_t{4}, size_t{5}, size_t{8}, size_t{9}, size_t{3071}, size_t{3072}}) {
    std::vector<float> a(n);
    for (float& v : a) v = normal(rng);
    a[0] = n > 1 ? -12.f : a[0];
    std::vector<float> b(a), x(a);
    GeluErf(a.data(), n);
    GeluErfReference(b.data(), n);
    for (size_t i = 0; i < n; ++i) {
      const double want = 0.5 * x[i] * (1.0 + std::erf(x[i] / std::sqrt(2.0)));
      // gelu.h's bound, plus the reference's own fp32 rounding (a few ulp of the result).
      const double bound = 0.5 * std::fabs(x[i]) * 4e-7 + 4e-7 * std::fabs(want) + 1e-9;
      ASSERT_NEAR(a[i], want, bound) << "n=" << n << " x=" << x[i];
      ASSERT_NEAR(a[i], b[i], 2 * bound) << "n=" << n << " x=" << x[i];
    }
  }
}

}  // namespace
}  // namespace edgebert
