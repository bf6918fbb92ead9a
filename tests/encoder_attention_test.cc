// encoder_attention_test.cc: the int8 path's attention (int16 products, kernels/dot_i16.h) against
// the fp32 path's on the same q, k, v; and padded keys changing no bit of the real tokens.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <random>
#include <vector>

#include "encoder/encoder.h"

namespace edgebert {
namespace {

struct Qkv {
  std::vector<float> q, k, v;
};

// Rows like a trained model's: N(0, sigma) with a few wide columns (outlier features), so that
// scores spread over several units and some rows of p are peaked.
Qkv RandomQkv(int tokens, int hidden, float sigma, std::mt19937* rng) {
  std::normal_distribution<float> normal(0.f, sigma);
  Qkv x;
  for (auto* m : {&x.q, &x.k, &x.v}) {
    m->resize(static_cast<size_t>(tokens) * hidden);
    for (size_t i = 0; i < m->size(); ++i) (*m)[i] = normal(*rng) * (i % hidden % 17 == 3 ? 4.f : 1.f);
  }
  return x;
}

TEST(EncoderAttention, Int16CloseToFp32) {
  std::mt19937 rng(31);
  for (int d : {32, 64}) {
    for (int T : {1, 5, 37, 128, 384}) {
      const int heads = 4, H = heads * d;
      for (float sigma : {0.5f, 1.5f}) {
        const Qkv x = RandomQkv(T, H, sigma, &rng);
        std::vector<float> c16(x.q.size()), c32(x.q.size());
        RunState rs16, rs32;
        SelfAttention(x.q.data(), x.k.data(), x.v.data(), nullptr, 1, T, H, heads, Precision::kInt8, &rs16, c16.data());
        SelfAttention(x.q.data(), x.k.data(), x.v.data(), nullptr, 1, T, H, heads, Precision::kFp32, &rs32, c32.data());
        double worst = 0, vmax = 0;
        for (float v : x.v) vmax = std::max(vmax, static_cast<double>(std::fabs(v)));
        for (size_t i = 0; i < c16.size(); ++i) worst = std::max(worst, static_cast<double>(std::fabs(c16[i] - c32[i])));
        std::printf("[ attn   ] d=%d T=%d sigma=%.1f: max |int16 - fp32| = %.2e (%.2e of max|v|)\n", d, T, sigma, worst,
                    worst / vmax);
        // Measured 0 .. 4.1e-4 of max|v| (the sharp rows, sigma 1.5, at 384 tokens): q and k in steps of
        // ~1/15000 of their rows' largest value, p and v in 15 bits. The int8 projections that make q, k
        // and v add errors of ~1e-2; 1e-3 leaves room for other seeds, not for a lost bit or a wrong scale.
        EXPECT_LT(worst / vmax, 1e-3) << "d=" << d << " T=" << T << " sigma=" << sigma;
      }
    }
  }
}

TEST(EncoderAttention, PaddedKeysChangeNoBit) {
  // Sequence 0 alone (T = 9, no mask) and in a batch of two padded to 23 tokens with a mask: its
  // tokens' outputs are the same bits on both paths, whatever sits in the padded rows.
  std::mt19937 rng(32);
  const int d = 64, heads = 3, H = heads * d, len = 9, T = 23;
  const Qkv batch = RandomQkv(2 * T, H, 1.5f, &rng);
  std::vector<int32_t> mask(2 * T, 1);
  for (int t = len; t < T; ++t) mask[t] = 0;
  for (Precision p : {Precision::kInt8, Precision::kFp32}) {
    std::vector<float> both(batch.q.size()), alone(static_cast<size_t>(len) * H);
    RunState rs_both, rs_alone;
    SelfAttention(batch.q.data(), batch.k.data(), batch.v.data(), mask.data(), 2, T, H, heads, p, &rs_both, both.data());
    SelfAttention(batch.q.data(), batch.k.data(), batch.v.data(), nullptr, 1, len, H, heads, p, &rs_alone, alone.data());
    for (size_t i = 0; i < alone.size(); ++i) ASSERT_EQ(alone[i], both[i]) << (p == Precision::kInt8 ? "int8" : "fp32") << " " << i;
  }
}

}  // namespace
}  // namespace edgebert
