// kernels_dot_i16_test.cc: DotI16 against its int64 reference (bit for bit) on random and edge shapes
// and at the bounds it promises; QuantizeRowI16 and SoftmaxToI16 against what they document.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

#include "kernels/dot_i16.h"
#include "kernels/softmax.h"

namespace edgebert {
namespace {

// Values within +-Limit(depth) keep every sum below 2^31 whatever they are: depth * L^2 < 2^31.
int Limit(int depth) {
  int l = std::min(32767, static_cast<int>(std::sqrt(2147483647.0 / depth)));
  while (int64_t{depth} * l * l >= (int64_t{1} << 31)) --l;
  return l;
}

void ExpectSameAsReference(int m, int n, int depth, int lda, int ldb, int ldc, int limit, std::mt19937* rng) {
  std::uniform_int_distribution<int> value(-limit, limit);
  std::uniform_real_distribution<float> scale(0.001f, 2.f);
  std::vector<int16_t> a(static_cast<size_t>(m) * lda), b(static_cast<size_t>(n) * ldb);
  for (auto& x : a) x = static_cast<int16_t>(value(*rng));
  for (auto& x : b) x = static_cast<int16_t>(value(*rng));
  std::vector<float> ra(m), rb(n);
  for (auto& x : ra) x = scale(*rng);
  for (auto& x : rb) x = scale(*rng);
  std::vector<float> c(static_cast<size_t>(m) * ldc, -7.f), r(c);
  DotI16(m, n, depth, a.data(), lda, b.data(), ldb, ra.data(), rb.data(), c.data(), ldc);
  DotI16Reference(m, n, depth, a.data(), lda, b.data(), ldb, ra.data(), rb.data(), r.data(), ldc);
  for (size_t i = 0; i < c.size(); ++i)
    ASSERT_EQ(c[i], r[i]) << "m=" << m << " n=" << n << " depth=" << depth << " at " << i;  // incl. untouched padding
}

TEST(KernelsDotI16, MatchesReferenceOnEdgeShapes) {
  std::mt19937 rng(21);
  for (int m : {1, 2, 3, 5, 8, 31, 32})
    for (int n : {1, 2, 3, 4, 5, 6, 7, 9, 37})
      for (int depth : {8, 16, 32, 64, 72, 384}) ExpectSameAsReference(m, n, depth, depth, depth, n, Limit(depth), &rng);
}

TEST(KernelsDotI16, MatchesReferenceWithStrides) {
  std::mt19937 rng(22);
  ExpectSameAsReference(7, 11, 64, 72, 80, 13, Limit(64), &rng);
  ExpectSameAsReference(32, 64, 128, 136, 128, 768, Limit(128), &rng);
}

TEST(KernelsDotI16, ExactAtTheNormLimit) {
  // Rows quantized with DotI16NormLimit: flat rows (every value at the norm's limit, all of one sign:
  // the sums come nearest 2^31), rows with one spike (a value at 32767), and random rows. Every dot
  // product is exact (the int64 reference's) and below 46340^2.
  std::mt19937 rng(26);
  std::normal_distribution<float> normal(0.f, 1.f);
  for (int depth : {8, 32, 64, 128, 512}) {
    std::vector<std::vector<float>> rows;
    rows.push_back(std::vector<float>(depth, 1.f));
    rows.push_back(std::vector<float>(depth, 1.f));
    rows.push_back(std::vector<float>(depth, -1.f));
    std::vector<float> spike(depth, 0.01f);
    spike[depth / 2] = 50.f;
    rows.push_back(spike);
    for (int r = 0; r < 4; ++r) {
      std::vector<float> x(depth);
      for (float& v : x) v = normal(rng) * (r == 3 ? 1e-30f : r == 2 ? 1e30f : 1.f);
      rows.push_back(x);
    }
    const int count = static_cast<int>(rows.size());
    std::vector<int16_t> q(static_cast<size_t>(count) * depth);
    const float norm_limit = DotI16NormLimit(depth);
    for (int r = 0; r < count; ++r) {
      ASSERT_GT(QuantizeRowI16(rows[r].data(), depth, 32767, norm_limit, q.data() + static_cast<size_t>(r) * depth, depth), 0.f);
      double norm = 0;
      for (int t = 0; t < depth; ++t) { const double v = q[static_cast<size_t>(r) * depth + t]; norm += v * v; }
      ASSERT_LT(std::sqrt(norm), 46340.0) << depth << " row " << r;
    }
    const std::vector<float> ones(count, 1.f);
    std::vector<float> c(static_cast<size_t>(count) * count), ref(c);
    DotI16(count, count, depth, q.data(), depth, q.data(), depth, ones.data(), ones.data(), c.data(), count);
    DotI16Reference(count, count, depth, q.data(), depth, q.data(), depth, ones.data(), ones.data(), ref.data(), count);
    for (size_t i = 0; i < c.size(); ++i) {
      ASSERT_EQ(c[i], ref[i]) << depth << " " << i;
      ASSERT_LT(std::fabs(c[i]), 46340.f * 46340.f);
    }
    EXPECT_GT(c[0], 0.99f * 46340.f * 46340.f - 1e6f) << depth;  // the flat rows come near the limit
    EXPECT_EQ(c[2], -c[0]);
  }
}

TEST(KernelsDotI16, ZeroDepthPaddingChangesNothing) {
  // Appending zero terms (padded keys of a batch) leaves every result bit for bit the same.
  std::mt19937 rng(23);
  std::uniform_int_distribution<int> value(-2000, 2000);
  const int m = 5, n = 6, depth = 24, padded = 64;
  std::vector<int16_t> a(static_cast<size_t>(m) * padded, 0), b(static_cast<size_t>(n) * padded, 0);
  for (int i = 0; i < m; ++i)
    for (int t = 0; t < depth; ++t) a[static_cast<size_t>(i) * padded + t] = static_cast<int16_t>(value(rng));
  for (int j = 0; j < n; ++j)
    for (int t = 0; t < depth; ++t) b[static_cast<size_t>(j) * padded + t] = static_cast<int16_t>(value(rng));
  const std::vector<float> ra(m, 0.37f), rb(n, 1.9f);
  std::vector<float> short_c(m * n), long_c(m * n);
  DotI16(m, n, depth, a.data(), padded, b.data(), padded, ra.data(), rb.data(), short_c.data(), n);
  DotI16(m, n, padded, a.data(), padded, b.data(), padded, ra.data(), rb.data(), long_c.data(), n);
  EXPECT_EQ(short_c, long_c);
}

TEST(KernelsDotI16, QuantizeRowI16) {
  std::mt19937 rng(24);
  std::normal_distribution<float> normal(0.f, 3.f);
  for (int n : {1, 3, 4, 7, 32, 64}) {
    for (int limit : {1, 127, 5792, 32767}) {
      std::vector<float> x(n);
      for (float& v : x) v = normal(rng);
      const int padded = (n + 7) / 8 * 8 + 8;
      std::vector<int16_t> q(padded, 99);
      const float scale = QuantizeRowI16(x.data(), n, limit, 0.f, q.data(), padded);
      float mx = 0.f;
      for (float v : x) mx = std::max(mx, std::fabs(v));
      ASSERT_FLOAT_EQ(scale, mx / limit);
      int reached = 0;
      for (int i = 0; i < n; ++i) {
        ASSERT_LE(std::abs(q[i]), limit);
        ASSERT_LE(std::fabs(q[i] * scale - x[i]), 0.5f * scale * 1.0001f + 1e-6f) << n << " " << limit << " " << i;
        reached += std::abs(q[i]) == limit;
      }
      EXPECT_GE(reached, 1);  // the largest value maps to +-limit
      for (int i = n; i < padded; ++i) ASSERT_EQ(q[i], 0);
    }
  }
  std::vector<float> zeros(5, 0.f);
  std::vector<int16_t> q(8, 99);
  EXPECT_EQ(QuantizeRowI16(zeros.data(), 5, 100, 0.f, q.data(), 8), 0.f);
  for (int16_t v : q) EXPECT_EQ(v, 0);
  // With a norm limit the scale is the larger of the two: a flat row of 64 ones under a norm of 800
  // gets 100 everywhere (not 32767).
  std::vector<float> flat(64, 1.f);
  std::vector<int16_t> qf(64);
  EXPECT_FLOAT_EQ(QuantizeRowI16(flat.data(), 64, 32767, 800.f, qf.data(), 64), 0.01f);
  for (int16_t v : qf) EXPECT_EQ(v, 100);
}

TEST(KernelsDotI16, SoftmaxToI16) {
  std::mt19937 rng(25);
  std::normal_distribution<float> normal(0.f, 4.f);
  for (int n : {1, 2, 3, 4, 5, 9, 33, 128, 384, 512}) {
    std::vector<float> x(n);
    for (float& v : x) v = normal(rng);
    std::vector<float> y(x);
    std::vector<int16_t> got(n), want(n);
    SoftmaxToI16(x.data(), n, 32767, got.data());
    SoftmaxToI16Reference(y.data(), n, 32767, want.data());
    int64_t sum = 0;
    for (int i = 0; i < n; ++i) {
      // p within ~1e-6 relative of the reference's, so p * 32767 rounds the same way or one apart.
      ASSERT_LE(std::abs(got[i] - want[i]), 1) << n << " " << i;
      ASSERT_GE(got[i], 0);
      sum += got[i];
    }
    EXPECT_LE(sum, 32767 + n / 2) << n;     // what DotI16's p v bound relies on
    EXPECT_GE(sum, 32767 - n / 2 - 1) << n;
  }
  // Masked keys (-FLT_MAX) get 0 and change no other value.
  const float lowest = std::numeric_limits<float>::lowest();
  for (int len : {1, 3, 4, 5, 9}) {
    std::vector<float> alone(len);
    for (float& v : alone) v = normal(rng);
    std::vector<float> padded(alone);
    padded.resize(len + 7, lowest);
    std::vector<int16_t> qa(len), qp(len + 7);
    SoftmaxToI16(alone.data(), len, 32767, qa.data());
    SoftmaxToI16(padded.data(), len + 7, 32767, qp.data());
    for (int i = 0; i < len; ++i) ASSERT_EQ(qa[i], qp[i]);
    for (int i = len; i < len + 7; ++i) ASSERT_EQ(qp[i], 0);
  }
}

}  // namespace
}  // namespace edgebert
