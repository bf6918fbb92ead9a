// kernels_softmax_test.cc: ExpFast and Softmax against double-precision exp and the scalar references.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "kernels/softmax.h"

namespace edgebert {
namespace {

TEST(KernelsSoftmax, ExpRelativeErrorOnDenseGrid) {
  // Every 2^-12 over [-86.5, 88] (~714k points) plus the exact ends; odd n exercises the tail.
  std::vector<float> x;
  for (double v = -86.5; v <= 88.0; v += 1.0 / 4096) x.push_back(static_cast<float>(v));
  x.push_back(-86.5f);
  x.push_back(88.f);
  x.push_back(0.f);
  x.push_back(-0.f);
  std::vector<float> y(x.size());
  ExpFast(x.data(), static_cast<int>(x.size()), y.data());
  double worst = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    const double want = std::exp(static_cast<double>(x[i]));
    worst = std::max(worst, std::fabs(y[i] - want) / want);
  }
  // The bound ExpFast documents: 3e-7 relative (fp32 ulp is 6e-8..1.2e-7 relative).
  EXPECT_LT(worst, 3e-7) << "max relative error";
  EXPECT_EQ(y[x.size() - 2], 1.f);  // exp(0) is exact
}

TEST(KernelsSoftmax, ExpEdges) {
  const float in[] = {-86.51f, -87.f, -100.f, -1e30f, std::numeric_limits<float>::lowest(),
                      -std::numeric_limits<float>::infinity(), 88.5f, 1e30f};
  float out[8];
  ExpFast(in, 8, out);
  for (int i = 0; i < 6; ++i) EXPECT_EQ(out[i], 0.f) << in[i];
  for (int i = 6; i < 8; ++i) EXPECT_FLOAT_EQ(out[i], std::exp(88.f)) << in[i];
  // y may alias x; n of 1..4 and 0.
  for (int n = 0; n <= 5; ++n) {
    std::vector<float> v(n, -1.f);
    ExpFast(v.data(), n, v.data());
    for (float e : v) EXPECT_NEAR(e, std::exp(-1.f), 3e-7f * std::exp(-1.f));
  }
}

TEST(KernelsSoftmax, MatchesReferenceOnRandomRows) {
  std::mt19937 rng(11);
  std::normal_distribution<float> normal(0.f, 4.f);
  for (int n : {1, 2, 3, 4, 5, 7, 8, 9, 16, 31, 32, 33, 127, 128, 129, 384}) {
    std::vector<float> a(n);
    for (float& x : a) x = normal(rng);
    std::vector<float> b(a);
    Softmax(a.data(), n);
    SoftmaxReference(b.data(), n);
    double sum = 0;
    for (int i = 0; i < n; ++i) {
      // exp within 3e-7 relative, the sum's rounding in another order (n terms): a few 1e-7.
      ASSERT_NEAR(a[i], b[i], 1e-6f * std::max(b[i], 1e-3f) + 1e-9f) << "n=" << n << " i=" << i;
      sum += a[i];
    }
    EXPECT_NEAR(sum, 1.0, 1e-5) << n;
  }
}

TEST(KernelsSoftmax, MaskedEntriesAreZeroAndChangeNothing) {
  const float lowest = std::numeric_limits<float>::lowest();
  std::mt19937 rng(12);
  std::normal_distribution<float> normal(0.f, 2.f);
  for (int len : {1, 3, 4, 5, 9}) {
    std::vector<float> alone(len);
    for (float& x : alone) x = normal(rng);
    std::vector<float> padded(alone);
    padded.resize(len + 7, lowest);
    Softmax(alone.data(), len);
    Softmax(padded.data(), len + 7);
    for (int i = 0; i < len; ++i) ASSERT_EQ(alone[i], padded[i]) << len << " " << i;
    for (int i = len; i < len + 7; ++i) ASSERT_EQ(padded[i], 0.f);
  }
  // A fully masked row is uniform, as in transformers.
  std::vector<float> all(6, lowest);
  Softmax(all.data(), 6);
  for (float p : all) EXPECT_FLOAT_EQ(p, 1.f / 6);
}

}  // namespace
}  // namespace edgebert
