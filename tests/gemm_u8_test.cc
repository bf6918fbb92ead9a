// gemm_u8_test.cc: the uint8 GEMM (gemmlowp driver + this build's kernel: our SIMD128 kernel in wasm,
// gemmlowp's SSE4 kernel natively) matches the scalar reference exactly on random and edge shapes.
#include "gemm/gemm_u8.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <random>
#include <tuple>
#include <utility>
#include <memory>
#include <utility>
#include <vector>

#include <gemmlowp/public/gemmlowp.h>

#include "gemm/kernel_wasmsimd.h"
#include "test_util.h"

namespace edgebert {
namespace {

struct Problem {
  int m, n, k;
  std::vector<uint8_t> x;  // (m, k)
  std::vector<uint8_t> w;  // (n, k)
  std::vector<int32_t> x_offset;  // (m)
  int32_t w_offset;
};

Problem RandomProblem(int m, int n, int k, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> byte(0, 255);
  std::uniform_int_distribution<int> offset(-255, 0);
  Problem p{m, n, k, {}, {}, {}, -128};
  p.x.resize(static_cast<size_t>(m) * k);
  p.w.resize(static_cast<size_t>(n) * k);
  for (auto& v : p.x) v = static_cast<uint8_t>(byte(rng));
  for (auto& v : p.w) v = static_cast<uint8_t>(byte(rng));
  p.x_offset.resize(m);
  for (auto& v : p.x_offset) v = offset(rng);
  return p;
}

// Compares every element and reports the first few mismatches with their position and shape.
void ExpectMatchesReference(const Problem& p, GemmU8Scratch* scratch) {
  auto packed = PackedWeightsU8::Pack(p.w.data(), p.n, p.k);
  std::vector<int32_t> got(static_cast<size_t>(p.m) * p.n, 0x7f7f7f7f);
  std::vector<int32_t> want(got.size());
  GemmU8ToInt32(p.x.data(), p.x_offset.data(), p.m, *packed, p.w_offset, got.data(), scratch);
  GemmU8ToInt32Reference(p.x.data(), p.x_offset.data(), p.m, p.w.data(), p.n, p.k, p.w_offset,
                         want.data());
  int mismatches = 0;
  for (int i = 0; i < p.m && mismatches < 5; ++i) {
    for (int j = 0; j < p.n && mismatches < 5; ++j) {
      const size_t at = static_cast<size_t>(i) * p.n + j;
      if (got[at] != want[at]) {
        ++mismatches;
        ADD_FAILURE() << "m=" << p.m << " n=" << p.n << " k=" << p.k << " at (" << i << ", " << j
                      << "): got " << got[at] << ", reference " << want[at] << " (kernel "
                      << GemmU8KernelName() << ")";
      }
    }
  }
}

// Shapes around the kernel block (8x4 in wasm, 12x4 natively), the depth step (2) and the register
// depth (16), the l1 depth blocks (1024) and the driver's row chunks.
TEST(GemmU8, MatchesReferenceOnEdgeShapes) {
  GemmU8Scratch scratch;
  const std::vector<std::tuple<int, int, int>> shapes = {
      {1, 1, 1},    {1, 64, 32},   {1, 13, 768},  {37, 1, 50},  {3, 7, 3},    {4, 8, 16},
      {5, 9, 17},   {4, 11, 2},    {5, 12, 15},   {3, 13, 31},  {8, 16, 33},  {2, 24, 64},
      {6, 25, 1},   {9, 7, 1025},  {5, 9, 2049},  {3, 10, 1100}, {7, 45, 768}, {6, 97, 300},
      {17, 41, 769},
      // Few tokens and over 1 MiB of weights: the relaxed kernel's weight-streaming loop order.
      {5, 1536, 768}, {9, 1201, 900}};
  uint32_t seed = 1;
  for (const auto& [m, n, k] : shapes) {
    SCOPED_TRACE(::testing::Message() << "m=" << m << " n=" << n << " k=" << k);
    ExpectMatchesReference(RandomProblem(m, n, k, seed++), &scratch);
  }
}

TEST(GemmU8, MatchesReferenceOnRandomShapes) {
  GemmU8Scratch scratch;  // reused across shapes, as QLinear does
  std::mt19937 rng(20240);
  std::uniform_int_distribution<int> mn(1, 40);
  std::uniform_int_distribution<int> kd(1, 300);
  for (int t = 0; t < 40; ++t) {
    const int m = mn(rng), n = mn(rng), k = kd(rng);
    SCOPED_TRACE(::testing::Message() << "m=" << m << " n=" << n << " k=" << k);
    ExpectMatchesReference(RandomProblem(m, n, k, 100 + t), &scratch);
  }
}

// Several threads split the weight rows into contiguous ranges of chunks; results must not change.
// A GEMM takes one thread per 8M multiply-adds (gemm_u8.cc kMinMacsPerThread): the small shapes run
// on the calling thread, the large ones split (80 x 700 x 800: 5 threads' worth; 130 x 1536 x 384:
// 9). (In the single-threaded wasm build the setting is ignored and this checks the same path again.)
TEST(GemmU8, MultiThreadedMatchesReference) {
  for (int threads : {2, 3, 8}) {
    GemmU8Scratch scratch;
    scratch.set_max_threads(threads);
    for (const auto& [m, n, k] : std::vector<std::tuple<int, int, int>>{
             {7, 200, 768}, {33, 97, 130}, {5, 3, 40}, {16, 301, 1100}, {80, 700, 800}, {130, 1536, 384}, {6, 1536, 768}}) {
      SCOPED_TRACE(::testing::Message() << "threads=" << threads << " m=" << m << " n=" << n << " k=" << k);
      ExpectMatchesReference(RandomProblem(m, n, k, 300 + threads), &scratch);
    }
  }
}

// 0 and 255 everywhere, with offsets of both signs: the largest raw products (255 * 255 summed over
// k) and the largest corrections from the sums of each slice.
TEST(GemmU8, ExtremeValuesWithOffsets) {
  GemmU8Scratch scratch;
  for (uint8_t xv : {uint8_t{0}, uint8_t{255}}) {
    for (uint8_t wv : {uint8_t{0}, uint8_t{255}}) {
      for (int32_t w_offset : {-128, 0, 127, -255}) {
        Problem p = RandomProblem(6, 13, 3000, 7);
        std::fill(p.x.begin(), p.x.end(), xv);
        std::fill(p.w.begin(), p.w.end(), wv);
        p.w_offset = w_offset;
        for (int i = 0; i < p.m; ++i) p.x_offset[i] = (i % 3 == 0) ? -255 : (i % 3 == 1 ? 0 : 200);
        SCOPED_TRACE(::testing::Message() << "x=" << int{xv} << " w=" << int{wv}
                                        << " w_offset=" << w_offset);
        ExpectMatchesReference(p, &scratch);
      }
    }
  }
}

// Our packer writes gemmlowp's layout for this build's kernel format byte for byte (data and sums),
// around the kernel width (12 natively, 2 in wasm), the register depth (16) and the l1 depth blocks.
TEST(GemmU8, PackingMatchesGemmlowpPackLhs) {
  if (GemmU8RelaxedKernel()) GTEST_SKIP() << "this run packs weights in the relaxed kernel's layout";
  std::mt19937 rng(77);
  std::uniform_int_distribution<int> byte(0, 255);
  const std::vector<std::pair<int, int>> shapes = {{1, 1},   {2, 16},   {3, 17},  {11, 31}, {12, 32},
                                                   {13, 33}, {25, 1},   {7, 1025}, {5, 2049}, {40, 1100},
                                                   {24, 768}, {97, 300}};
  for (const auto& [n, k] : shapes) {
    std::vector<uint8_t> w(static_cast<size_t>(n) * k);
    for (auto& v : w) v = static_cast<uint8_t>(byte(rng));
    EXPECT_TRUE(PackingMatchesGemmlowpForTest(w.data(), n, k)) << "n=" << n << " k=" << k;
  }
}

// PackInto (caller's storage) computes what Pack does, and every row and column reads back exactly.
TEST(GemmU8, PackIntoAndColumnsReadBack) {
  GemmU8Scratch scratch;
  for (const auto& [m, n, k] : std::vector<std::tuple<int, int, int>>{{3, 13, 33}, {5, 25, 1025}, {2, 1, 7}}) {
    SCOPED_TRACE(::testing::Message() << "m=" << m << " n=" << n << " k=" << k);
    const Problem p = RandomProblem(m, n, k, 900 + n);
    const size_t bytes = PackedWeightsU8::PackedBytes(n, k);
    ASSERT_GE(bytes, static_cast<size_t>(n) * k + 4 * static_cast<size_t>(n));
    std::vector<uint32_t> storage(bytes / 4 + 1, 0xdeadbeef);  // 4-byte aligned, not zeroed
    auto into = PackedWeightsU8::PackInto(p.w.data(), n, k, reinterpret_cast<uint8_t*>(storage.data()));
    auto owned = PackedWeightsU8::Pack(p.w.data(), n, k);
    EXPECT_EQ(storage.back(), 0xdeadbeef) << "PackInto wrote beyond PackedBytes";
    std::vector<int32_t> a(static_cast<size_t>(m) * n), b(a.size());
    GemmU8ToInt32(p.x.data(), p.x_offset.data(), m, *into, p.w_offset, a.data(), &scratch);
    GemmU8ToInt32(p.x.data(), p.x_offset.data(), m, *owned, p.w_offset, b.data(), &scratch);
    EXPECT_EQ(a, b);
    std::vector<float> row(k);
    for (int r = 0; r < n; ++r) {
      into->DequantizeRow(r, -128, 0.5f, row.data());
      for (int d = 0; d < k; ++d)
        ASSERT_EQ(row[d], 0.5f * static_cast<float>(int{p.w[static_cast<size_t>(r) * k + d]} - 128)) << r << ", " << d;
    }
    std::vector<float> ones(n, 1.f), col(n);
    for (int d = 0; d < k; ++d) {
      into->DequantizeColumn(d, -128, ones.data(), col.data());
      for (int r = 0; r < n; ++r)
        ASSERT_EQ(col[r], static_cast<float>(int{p.w[static_cast<size_t>(r) * k + d]} - 128)) << r << ", " << d;
      // A range of rows only (what each thread reads for the outlier products): those rows, the
      // same values, nothing else written; ranges starting and ending inside a kernel-width run.
      for (const auto& range : {std::pair<int, int>{0, n}, {1, n}, {n / 3, n - n / 4}, {n - 1, n}, {n / 2, n / 2}}) {
        std::vector<float> part(n, -1000.f);
        into->DequantizeColumnRows(d, range.first, range.second, -128, ones.data(), part.data());
        for (int r = 0; r < n; ++r)
          ASSERT_EQ(part[r], r >= range.first && r < range.second ? col[r] : -1000.f) << r << ", " << d;
      }
    }
  }
}

TEST(GemmU8, DequantizeAppliesScalesAndBiasInOrder) {
  GemmU8Scratch scratch;
  const Problem p = RandomProblem(5, 19, 77, 3);
  auto packed = PackedWeightsU8::Pack(p.w.data(), p.n, p.k);
  std::vector<int32_t> acc(static_cast<size_t>(p.m) * p.n);
  GemmU8ToInt32Reference(p.x.data(), p.x_offset.data(), p.m, p.w.data(), p.n, p.k, p.w_offset,
                         acc.data());
  std::vector<float> x_scale(p.m), w_scale(p.n), bias(p.n);
  for (int i = 0; i < p.m; ++i) x_scale[i] = 0.01f * (i + 1);
  for (int j = 0; j < p.n; ++j) {
    w_scale[j] = 0.003f * (j + 2);
    bias[j] = 0.5f - 0.1f * j;
  }
  std::vector<float> got(acc.size());
  for (const float* b : {static_cast<const float*>(nullptr), static_cast<const float*>(bias.data())}) {
    GemmU8Dequantize(p.x.data(), p.x_offset.data(), x_scale.data(), p.m, *packed, p.w_offset,
                     w_scale.data(), b, got.data(), &scratch);
    for (int i = 0; i < p.m; ++i) {
      for (int j = 0; j < p.n; ++j) {
        const size_t at = static_cast<size_t>(i) * p.n + j;
        // The same fp32 operations in the same order on the same exact int32: bitwise equal
        // (no FMA contraction on our targets: -msse4.1 has no FMA, wasm SIMD128 has none).
        const float want = (x_scale[i] * w_scale[j]) * static_cast<float>(acc[at]) + (b ? b[j] : 0.f);
        ASSERT_EQ(got[at], want) << "at (" << i << ", " << j << ")";
      }
    }
  }
}

// GemmU8DequantizeMany (q, k and v in one parallel loop) gives each output the bits GemmU8Dequantize
// gives it alone, on one thread and on several with every product split (weights of different
// widths, with and without bias).
TEST(GemmU8, DequantizeManyEqualsOneByOne) {
  for (int threads : {1, 2, 3}) {
    for (const auto& [m, k] : std::vector<std::pair<int, int>>{{1, 40}, {7, 384}, {33, 130}, {128, 384}}) {
      SCOPED_TRACE(::testing::Message() << "threads=" << threads << " m=" << m << " k=" << k);
      GemmU8Scratch scratch;
      scratch.set_max_threads(threads);
      GemmU8SplitAnyWorkForTest(threads > 1);
      const int widths[3] = {384, 97, 1536};
      std::vector<Problem> ps;
      std::vector<std::unique_ptr<PackedWeightsU8>> packed;
      std::vector<std::vector<float>> w_scale(3), bias(3), one(3), many(3);
      for (int i = 0; i < 3; ++i) {
        ps.push_back(RandomProblem(m, widths[i], k, 400 + i));
        packed.push_back(PackedWeightsU8::Pack(ps[i].w.data(), widths[i], k));
        for (int j = 0; j < widths[i]; ++j) {
          w_scale[i].push_back(0.001f * (j % 17 + 1));
          bias[i].push_back(0.25f - 0.01f * (j % 29));
        }
        one[i].assign(static_cast<size_t>(m) * widths[i], -1.f);
        many[i].assign(one[i].size(), -2.f);
      }
      const Problem& x = ps[0];  // the activations of the first problem for all three
      std::vector<float> x_scale(m);
      for (int r = 0; r < m; ++r) x_scale[r] = 0.02f * (r % 5 + 1);
      GemmU8DequantizeOutput outs[3];
      for (int i = 0; i < 3; ++i) {
        const float* b = i == 1 ? nullptr : bias[i].data();
        GemmU8Dequantize(x.x.data(), x.x_offset.data(), x_scale.data(), m, *packed[i], -128, w_scale[i].data(), b,
                         one[i].data(), &scratch);
        outs[i] = GemmU8DequantizeOutput{packed[i].get(), -128, w_scale[i].data(), b, many[i].data(), nullptr};
      }
      GemmU8DequantizeMany(x.x.data(), x.x_offset.data(), x_scale.data(), m, outs, 3, &scratch);
      for (int i = 0; i < 3; ++i) EXPECT_EQ(one[i], many[i]) << "output " << i;
      GemmU8SplitAnyWorkForTest(false);
    }
  }
}

// GemmU8DequantizeOutput::done: each output's columns reported once each, only when they hold their
// final values, with participant numbers below the thread limit and never two calls at once under
// the same number.
TEST(GemmU8, DoneReportsEachColumnOnceWhenFinal) {
  for (int threads : {1, 2, 3}) {
    for (const auto& shape : std::vector<std::pair<int, int>>{{1, 40}, {7, 384}, {128, 384}}) {
      const int m = shape.first, k = shape.second;  // not a structured binding: the lambda below captures m
      SCOPED_TRACE(::testing::Message() << "threads=" << threads << " m=" << m << " k=" << k);
      GemmU8Scratch scratch;
      scratch.set_max_threads(threads);
      GemmU8SplitAnyWorkForTest(threads > 1);
      const int widths[2] = {384, 1536};
      std::vector<Problem> ps;
      std::vector<std::unique_ptr<PackedWeightsU8>> packed;
      std::vector<std::vector<float>> w_scale(2), want(2), got(2);
      std::vector<std::unique_ptr<std::atomic<int>[]>> seen;
      std::atomic<int> active[3] = {0, 0, 0};
      std::atomic<int> bad_participant{0}, overlap{0}, early{0};
      for (int i = 0; i < 2; ++i) {
        ps.push_back(RandomProblem(m, widths[i], k, 500 + i));
        packed.push_back(PackedWeightsU8::Pack(ps[i].w.data(), widths[i], k));
        for (int j = 0; j < widths[i]; ++j) w_scale[i].push_back(0.001f * (j % 13 + 1));
        want[i].assign(static_cast<size_t>(m) * widths[i], 0.f);
        got[i].assign(want[i].size(), -1.f);
        seen.emplace_back(new std::atomic<int>[widths[i]]());
      }
      const Problem& x = ps[0];
      std::vector<float> x_scale(m, 0.03f);
      for (int i = 0; i < 2; ++i)
        GemmU8Dequantize(x.x.data(), x.x_offset.data(), x_scale.data(), m, *packed[i], -128, w_scale[i].data(), nullptr,
                         want[i].data(), &scratch);
      GemmU8ColumnsDone dones[2];
      GemmU8DequantizeOutput outs[2];
      for (int i = 0; i < 2; ++i) {
        dones[i] = [&, i](int participant, int begin, int end) {
          if (participant < 0 || participant >= threads) {
            ++bad_participant;
            return;
          }
          if (active[participant].exchange(1) != 0) ++overlap;
          for (int c = begin; c < end; ++c) {
            seen[i][c].fetch_add(1);
            for (int r = 0; r < m; ++r) {
              const size_t at = static_cast<size_t>(r) * widths[i] + c;
              if (got[i][at] != want[i][at]) ++early;
            }
          }
          active[participant].store(0);
        };
        outs[i] = GemmU8DequantizeOutput{packed[i].get(), -128, w_scale[i].data(), nullptr, got[i].data(), &dones[i]};
      }
      GemmU8DequantizeMany(x.x.data(), x.x_offset.data(), x_scale.data(), m, outs, 2, &scratch);
      EXPECT_EQ(bad_participant.load(), 0);
      EXPECT_EQ(overlap.load(), 0);
      EXPECT_EQ(early.load(), 0);
      for (int i = 0; i < 2; ++i) {
        EXPECT_EQ(got[i], want[i]) << "output " << i;
        for (int c = 0; c < widths[i]; ++c) ASSERT_EQ(seen[i][c].load(), 1) << "output " << i << " column " << c;
      }
      GemmU8SplitAnyWorkForTest(false);
    }
  }
}

// The kernel also runs under gemmlowp's own single-threaded driver (its packing, blocking and
// unpack with offsets): this is the kernel interface contract, independent of our driver.
TEST(GemmU8, KernelRunsUnderGemmlowpDriver) {
#if defined(__wasm_simd128__)
  const WasmSimd128_Kernel8x4Depth2 kernel;
  using Format = WasmSimd128_Kernel8x4Depth2::Format;
#else
  const gemmlowp::DefaultKernel<gemmlowp::DefaultL8R8BitDepthParams> kernel;
  using Format = gemmlowp::DefaultKernel<gemmlowp::DefaultL8R8BitDepthParams>::Format;
#endif
  for (const auto& [rows, cols, depth] :
       std::vector<std::tuple<int, int, int>>{{9, 5, 33}, {64, 17, 768}, {13, 13, 1500}}) {
    const Problem p = RandomProblem(cols, rows, depth, 11);  // x: (cols, depth), w: (rows, depth)
    gemmlowp::SingleThreadGemmContext context;
    gemmlowp::MatrixMap<const uint8_t, gemmlowp::MapOrder::RowMajor> lhs(p.w.data(), rows, depth);
    gemmlowp::MatrixMap<const uint8_t, gemmlowp::MapOrder::ColMajor> rhs(p.x.data(), depth, cols);
    std::vector<int32_t> got(static_cast<size_t>(rows) * cols);
    gemmlowp::MatrixMap<int32_t, gemmlowp::MapOrder::ColMajor> result(got.data(), rows, cols);
    const gemmlowp::VectorDup<const int32_t, gemmlowp::VectorShape::Col> lhs_offset(p.w_offset, rows);
    const gemmlowp::VectorMap<const int32_t, gemmlowp::VectorShape::Row> rhs_offset(p.x_offset.data(),
                                                                                   cols);
    gemmlowp::SingleThreadGemm<Format, uint8_t, int32_t, gemmlowp::DefaultL8R8BitDepthParams>(
        &context, kernel, lhs, rhs, &result, lhs_offset, rhs_offset, std::make_tuple());
    std::vector<int32_t> want(got.size());  // (cols, rows) row-major == (rows x cols) col-major
    GemmU8ToInt32Reference(p.x.data(), p.x_offset.data(), cols, p.w.data(), rows, depth, p.w_offset,
                           want.data());
    EXPECT_EQ(got, want) << "rows=" << rows << " cols=" << cols << " depth=" << depth;
  }
}

// The diagnostics entry point the browser tests use for the relaxed kernel, here on this build's
// kernel: random and extreme GEMMs against the reference, none may differ (and a broken comparison
// would show up in the browser run as well as here).
TEST(GemmU8, CheckAgainstReferenceFindsNoDifference) {
  EXPECT_EQ(GemmU8RelaxedKernel(), testing::RelaxedKernelRequested());
  EXPECT_EQ(GemmU8CheckAgainstReference(7, 150), 0);
}

TEST(GemmU8, KernelNameMatchesBuild) {
#if defined(__wasm_simd128__)
  if (GemmU8RelaxedKernel()) {
    EXPECT_STREQ(GemmU8KernelName(), "WasmRelaxed_Kernel2x4Depth16 (relaxed_dot_i8x16_i7x16_add_s, int8 weights)");
  } else {
    EXPECT_STREQ(GemmU8KernelName(), "WasmSimd128_Kernel2x4Depth8WideRhs (dot_i16x8_s, int16 rhs)");
  }
#else
  EXPECT_NE(std::string(GemmU8KernelName()).find("SSE"), std::string::npos) << GemmU8KernelName();
#endif
}

}  // namespace
}  // namespace edgebert
