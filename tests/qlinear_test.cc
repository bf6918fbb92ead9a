// qlinear_test.cc: QLinear (gemmlowp path) against QLinearReference, and PrepareQLinear's errors.
#include "gemm/qlinear.h"
#include "gemm/quantize_row.h"

#include <gtest/gtest.h>

#include <cfloat>
#include <cmath>
#include <cstring>
#include <random>
#include <tuple>
#include <vector>

namespace edgebert {
namespace {

struct Layer {
  std::vector<int8_t> weight;  // (n, k)
  std::vector<float> scale;    // (n)
  std::vector<float> bias;     // (n)
  QLinearWeights w;
};

Layer MakeLayer(int n, int k, bool with_bias, std::mt19937* rng) {
  std::normal_distribution<float> g(0.f, 0.05f);
  std::vector<float> wf(static_cast<size_t>(n) * k);
  for (auto& v : wf) v = g(*rng);
  Layer l;
  l.weight.resize(wf.size());
  l.scale.resize(n);
  l.bias.resize(n);
  QuantizeWeightsPerChannel(wf.data(), n, k, l.weight.data(), l.scale.data());
  for (auto& b : l.bias) b = g(*rng) * 10.f;
  l.w.n = n;
  l.w.k = k;
  l.w.weight = l.weight.data();
  l.w.scale = l.scale.data();
  l.w.bias = with_bias ? l.bias.data() : nullptr;
  return l;
}

// Activations like a transformer's: mostly small, a few large outliers, some rows all zero.
std::vector<float> MakeActivations(int m, int k, std::mt19937* rng) {
  std::normal_distribution<float> g(0.f, 1.f);
  std::uniform_int_distribution<int> pick(0, 99);
  std::vector<float> x(static_cast<size_t>(m) * k);
  for (auto& v : x) v = pick(*rng) == 0 ? 20.f * g(*rng) : g(*rng);
  if (m > 2) std::fill(x.begin() + k, x.begin() + 2 * k, 0.f);  // row 1: all zeros
  return x;
}

TEST(QLinear, MatchesReference) {
  std::mt19937 rng(5);
  QLinearScratch scratch;  // shared across layers and shapes, as in the encoder
  const std::vector<std::tuple<int, int, int, bool>> shapes = {
      {1, 1, 1, true},  {1, 16, 64, false}, {7, 9, 33, true},    {16, 64, 768, true},
      {5, 37, 130, false}, {3, 100, 1030, true}, {33, 13, 7, true}};
  for (const auto& [m, n, k, with_bias] : shapes) {
    SCOPED_TRACE(testing::Message() << "m=" << m << " n=" << n << " k=" << k);
    Layer l = MakeLayer(n, k, with_bias, &rng);
    ASSERT_TRUE(PrepareQLinear(&l.w).ok());
    const std::vector<float> x = MakeActivations(m, k, &rng);
    std::vector<float> got(static_cast<size_t>(m) * n), want(got.size());
    QLinear(x.data(), m, l.w, got.data(), &scratch);
    QLinearReference(x.data(), m, l.w, want.data());
    for (int i = 0; i < m; ++i) {
      for (int j = 0; j < n; ++j) {
        const size_t at = static_cast<size_t>(i) * n + j;
        const float b = with_bias ? l.bias[j] : 0.f;
        // Both sides quantize x with QuantizeRowU8 and get the same exact int32 acc (GemmU8 tests),
        // then evaluate (x_scale * w_scale) * float(acc) + b: two products and one sum, each rounded
        // once (relative error <= 2^-24 = FLT_EPSILON / 2). Were a compiler to reassociate or
        // contract them, the results could differ by at most those three roundings of the terms:
        // 3 * FLT_EPSILON / 2 * (|product| + |b|); we allow 2 * FLT_EPSILON. In practice they are equal.
        const float tol = 2.f * FLT_EPSILON * (std::fabs(want[at] - b) + std::fabs(b));
        ASSERT_NEAR(got[at], want[at], tol) << "at (" << i << ", " << j << ")";
      }
    }
  }
}

TEST(QLinear, MultiThreadedEqualsSingleThreaded) {
  std::mt19937 rng(8);
  Layer l = MakeLayer(250, 300, true, &rng);
  ASSERT_TRUE(PrepareQLinear(&l.w).ok());
  const int m = 240;  // 18M multiply-adds: enough for 2 threads (gemm_u8.cc kMinMacsPerThread)
  const std::vector<float> x = MakeActivations(m, 300, &rng);
  std::vector<float> one(static_cast<size_t>(m) * 250), two(one.size());
  QLinearScratch s1, s2;
  s2.max_threads = 2;
  QLinear(x.data(), m, l.w, one.data(), &s1);
  QLinear(x.data(), m, l.w, two.data(), &s2);
  EXPECT_EQ(one, two);  // same integer products and the same fp32 expression per element
}

TEST(QLinear, OutputTracksFloatLinear) {
  // Not a check of the kernel (that is exact) but of the quantization scheme: y stays close to the
  // fp32 x W^T. Bound: per-element quantization steps are x_scale/2 and w_scale/2; the error of a dot
  // product of k terms is far below k * (|x| w_scale/2 + |w| x_scale/2); we check a loose 5% of the
  // output's RMS, which a wrong zero point or scale would exceed by orders of magnitude.
  std::mt19937 rng(9);
  const int m = 8, n = 32, k = 256;
  Layer l = MakeLayer(n, k, true, &rng);
  ASSERT_TRUE(PrepareQLinear(&l.w).ok());
  const std::vector<float> x = MakeActivations(m, k, &rng);
  std::vector<float> y(static_cast<size_t>(m) * n);
  QLinearScratch scratch;
  QLinear(x.data(), m, l.w, y.data(), &scratch);
  double err2 = 0, ref2 = 0;
  for (int i = 0; i < m; ++i) {
    for (int j = 0; j < n; ++j) {
      double ref = l.bias[j];
      for (int d = 0; d < k; ++d) ref += double(x[i * k + d]) * l.weight[j * k + d] * l.scale[j];
      const double e = y[i * n + j] - ref;
      err2 += e * e;
      ref2 += ref * ref;
    }
  }
  EXPECT_LT(std::sqrt(err2 / ref2), 0.05);
}

// QLinear's vectorized quantizer must agree with QuantizeRowU8 bit for bit, including exact ties
// (x * inv = n + 0.5, where std::lround rounds away from zero) and rows of every length mod 16.
TEST(QLinear, FastQuantizerMatchesQuantizeRowU8) {
  std::mt19937 rng(17);
  std::normal_distribution<float> g(0.f, 3.f);
  for (int k : {1, 3, 15, 16, 17, 31, 64, 100, 768}) {
    for (int variant = 0; variant < 4; ++variant) {
      std::vector<float> x(k);
      for (auto& v : x) v = g(rng);
      if (variant == 1) {
        // Range [-127.5, 127.5]: scale 1, zero 128 (rounded away from 127.5), and many exact ties.
        for (int i = 0; i < k; ++i) x[i] = -127.5f + static_cast<float>((i * 37) % 256);
        x[0] = -127.5f;
        if (k > 1) x[1] = 127.5f;
      } else if (variant == 2) {
        std::fill(x.begin(), x.end(), 0.f);  // zero range: scale 1
      } else if (variant == 3) {
        for (auto& v : x) v = std::fabs(v) + 1.f;  // all positive: lo = 0, zero point 0
      }
      std::vector<uint8_t> q_ref(k), q_fast(k);
      float s_ref = 0, s_fast = 0;
      int32_t z_ref = -1, z_fast = -2;
      QuantizeRowU8(x.data(), k, q_ref.data(), &s_ref, &z_ref);
      QuantizeRowU8Fast(x.data(), k, q_fast.data(), &s_fast, &z_fast);
      EXPECT_EQ(s_fast, s_ref) << "k=" << k << " variant " << variant;
      EXPECT_EQ(z_fast, z_ref) << "k=" << k << " variant " << variant;
      EXPECT_EQ(q_fast, q_ref) << "k=" << k << " variant " << variant;
    }
  }
}

// Packing in place (over the int8 weights, in a room of QLinearRoomBytes) gives the same outputs,
// bit for bit, as packing a copy; the columns read back are the int8 values times their scales.
TEST(QLinear, PrepareInPlaceEqualsCopy) {
  std::mt19937 rng(11);
  QLinearScratch scratch;
  for (const auto& [m, n, k] : std::vector<std::tuple<int, int, int>>{{7, 9, 33}, {16, 64, 768}, {3, 100, 1030}, {2, 1, 1}}) {
    SCOPED_TRACE(testing::Message() << "m=" << m << " n=" << n << " k=" << k);
    Layer l = MakeLayer(n, k, true, &rng);
    QLinearWeights copy = l.w;
    ASSERT_TRUE(PrepareQLinear(&copy).ok());
    std::vector<uint32_t> room(QLinearRoomBytes(n, k) / 4 + 1);
    auto* r = reinterpret_cast<uint8_t*>(room.data());
    std::memcpy(r, l.weight.data(), l.weight.size());
    QLinearWeights inplace = l.w;
    inplace.weight = reinterpret_cast<const int8_t*>(r);
    ASSERT_TRUE(PrepareQLinearInPlace(&inplace, r, QLinearRoomBytes(n, k)).ok());
    EXPECT_EQ(inplace.weight, nullptr);
    const std::vector<float> x = MakeActivations(m, k, &rng);
    std::vector<float> a(static_cast<size_t>(m) * n), b(a.size());
    QLinear(x.data(), m, copy, a.data(), &scratch);
    QLinear(x.data(), m, inplace, b.data(), &scratch);
    for (size_t i = 0; i < a.size(); ++i) ASSERT_EQ(a[i], b[i]) << i;
    std::vector<float> col(n);
    for (int d = 0; d < k; ++d) {
      QLinearDequantizedColumn(inplace, d, col.data());
      for (int j = 0; j < n; ++j) ASSERT_EQ(col[j], l.scale[j] * static_cast<float>(l.weight[static_cast<size_t>(j) * k + d]));
    }
  }
}

TEST(QLinear, PrepareInPlaceRejectsASmallRoomWithoutWriting) {
  std::mt19937 rng(12);
  Layer l = MakeLayer(13, 40, false, &rng);
  std::vector<uint32_t> room(QLinearRoomBytes(13, 40) / 4 + 1);
  auto* r = reinterpret_cast<uint8_t*>(room.data());
  std::memcpy(r, l.weight.data(), l.weight.size());
  const std::vector<uint32_t> before = room;
  QLinearWeights w = l.w;
  w.weight = reinterpret_cast<const int8_t*>(r);
  Status st = PrepareQLinearInPlace(&w, r, QLinearPackedBytes(13, 40) - 1);
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("needs"), std::string::npos) << st.message();
  EXPECT_EQ(room, before);
  EXPECT_EQ(w.prepared, nullptr);
  w.weight = l.weight.data();  // weights not at the start of the room
  EXPECT_EQ(PrepareQLinearInPlace(&w, r, QLinearRoomBytes(13, 40)).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(room, before);
}

// Excluding columns while quantizing equals QLinear on a copy with those entries zeroed, bit for
// bit (negative entries ignored; repeated columns harmless).
TEST(QLinear, ExcludingEqualsZeroedCopy) {
  std::mt19937 rng(13);
  QLinearScratch scratch;
  for (const auto& [m, n, k, t] : std::vector<std::tuple<int, int, int, int>>{{7, 9, 33, 4}, {16, 64, 768, 4}, {3, 5, 2, 3}}) {
    SCOPED_TRACE(testing::Message() << "m=" << m << " n=" << n << " k=" << k << " t=" << t);
    Layer l = MakeLayer(n, k, true, &rng);
    ASSERT_TRUE(PrepareQLinear(&l.w).ok());
    const std::vector<float> x = MakeActivations(m, k, &rng);
    std::uniform_int_distribution<int> col(-1, k - 1);
    std::vector<int32_t> ex(static_cast<size_t>(m) * t);
    std::vector<float> zeroed = x;
    for (int i = 0; i < m; ++i)
      for (int j = 0; j < t; ++j) {
        const int c = col(rng);
        ex[static_cast<size_t>(i) * t + j] = c;
        if (c >= 0) zeroed[static_cast<size_t>(i) * k + c] = 0.f;
      }
    std::vector<float> a(static_cast<size_t>(m) * n), b(a.size());
    QLinear(zeroed.data(), m, l.w, a.data(), &scratch);
    QLinearExcluding(x.data(), m, ex.data(), t, l.w, b.data(), &scratch);
    for (size_t i = 0; i < a.size(); ++i) ASSERT_EQ(a[i], b[i]) << i;
  }
}

TEST(QLinear, PrepareRejectsBadShapes) {
  std::vector<int8_t> wq(4, 1);
  std::vector<float> s(2, 1.f);
  QLinearWeights w;
  w.n = 0;
  w.k = 2;
  w.weight = wq.data();
  w.scale = s.data();
  Status st = PrepareQLinear(&w);
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.ToString().find("n=0"), std::string::npos) << st.ToString();
  w.n = 2;
  w.k = kQLinearMaxDepth + 1;
  st = PrepareQLinear(&w);
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.ToString().find("exceeds"), std::string::npos) << st.ToString();
  w.k = 2;
  w.scale = nullptr;
  EXPECT_FALSE(PrepareQLinear(&w).ok());
  w.scale = s.data();
  EXPECT_TRUE(PrepareQLinear(&w).ok());
  EXPECT_NE(w.prepared, nullptr);
}

}  // namespace
}  // namespace edgebert
