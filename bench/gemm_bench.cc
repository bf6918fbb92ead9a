// gemm_bench.cc: native uint8 GEMM throughput on DistilBERT's Linear shapes (GMAC/s, one thread):
// gemmlowp's public API (its SSE4 kernel, both operands packed per call), the same kernel through
// our driver with weights packed at load, QLinear end to end, and the scalar reference.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <random>
#include <vector>

#include <gemmlowp/public/gemmlowp.h>

#include "gemm/gemm_u8.h"
#include "gemm/qlinear.h"

namespace edgebert {
namespace {

constexpr int32_t kWeightOffset = -128;

struct Data {
  int m, n, k;
  std::vector<uint8_t> x, w;
  std::vector<int32_t> x_offset, out;
  Data(int m_, int n_, int k_) : m(m_), n(n_), k(k_) {
    std::mt19937 rng(42);
    std::uniform_int_distribution<int> byte(0, 255);
    x.resize(static_cast<size_t>(m) * k);
    w.resize(static_cast<size_t>(n) * k);
    for (auto& v : x) v = static_cast<uint8_t>(byte(rng));
    for (auto& v : w) v = static_cast<uint8_t>(byte(rng));
    x_offset.assign(m, -100);
    out.resize(static_cast<size_t>(m) * n);
  }
};

void SetRate(benchmark::State& state, const Data& d) {
  // GMAC/s: multiply-accumulates per second, in units of 1e9.
  state.counters["GMAC/s"] = benchmark::Counter(1e-9 * d.m * d.n * d.k,
                                                benchmark::Counter::kIsIterationInvariantRate);
}

void BM_GemmlowpPublicApi(benchmark::State& state) {
  Data d(state.range(0), state.range(1), state.range(2));
  gemmlowp::GemmContext context;
  context.set_max_num_threads(1);
  gemmlowp::MatrixMap<const uint8_t, gemmlowp::MapOrder::RowMajor> lhs(d.w.data(), d.n, d.k);
  gemmlowp::MatrixMap<const uint8_t, gemmlowp::MapOrder::ColMajor> rhs(d.x.data(), d.k, d.m);
  gemmlowp::MatrixMap<int32_t, gemmlowp::MapOrder::ColMajor> result(d.out.data(), d.n, d.m);
  const gemmlowp::VectorDup<const int32_t, gemmlowp::VectorShape::Col> lhs_offset(kWeightOffset, d.n);
  const gemmlowp::VectorMap<const int32_t, gemmlowp::VectorShape::Row> rhs_offset(d.x_offset.data(), d.m);
  for (auto _ : state) {
    gemmlowp::GemmWithOutputPipelinePC<uint8_t, int32_t, gemmlowp::DefaultL8R8BitDepthParams>(
        &context, lhs, rhs, &result, lhs_offset, rhs_offset, std::make_tuple());
    benchmark::DoNotOptimize(d.out.data());
  }
  SetRate(state, d);
}

void BM_GemmU8Prepacked(benchmark::State& state) {
  Data d(state.range(0), state.range(1), state.range(2));
  auto packed = PackedWeightsU8::Pack(d.w.data(), d.n, d.k);
  GemmU8Scratch scratch;
  for (auto _ : state) {
    GemmU8ToInt32(d.x.data(), d.x_offset.data(), d.m, *packed, kWeightOffset, d.out.data(), &scratch);
    benchmark::DoNotOptimize(d.out.data());
  }
  state.SetLabel(GemmU8KernelName());
  SetRate(state, d);
}

// Our driver with 2 threads (the machine has 2 cores): wall-clock rate, since CPU time of the
// calling thread would leave out the worker's share.
void BM_GemmU8Prepacked2Threads(benchmark::State& state) {
  Data d(state.range(0), state.range(1), state.range(2));
  auto packed = PackedWeightsU8::Pack(d.w.data(), d.n, d.k);
  GemmU8Scratch scratch;
  scratch.set_max_threads(2);
  for (auto _ : state) {
    GemmU8ToInt32(d.x.data(), d.x_offset.data(), d.m, *packed, kWeightOffset, d.out.data(), &scratch);
    benchmark::DoNotOptimize(d.out.data());
  }
  state.SetLabel(GemmU8KernelName());
  SetRate(state, d);
}

void BM_QLinear(benchmark::State& state) {
  const int m = state.range(0), n = state.range(1), k = state.range(2);
  std::mt19937 rng(42);
  std::normal_distribution<float> g(0.f, 1.f);
  std::vector<float> x(static_cast<size_t>(m) * k), wf(static_cast<size_t>(n) * k), scale(n), bias(n, 0.1f),
      y(static_cast<size_t>(m) * n);
  for (auto& v : x) v = g(rng);
  for (auto& v : wf) v = 0.05f * g(rng);
  std::vector<int8_t> wq(wf.size());
  QuantizeWeightsPerChannel(wf.data(), n, k, wq.data(), scale.data());
  QLinearWeights w;
  w.n = n;
  w.k = k;
  w.weight = wq.data();
  w.scale = scale.data();
  w.bias = bias.data();
  if (!PrepareQLinear(&w).ok()) state.SkipWithError("PrepareQLinear failed");
  QLinearScratch scratch;
  for (auto _ : state) {
    QLinear(x.data(), m, w, y.data(), &scratch);
    benchmark::DoNotOptimize(y.data());
  }
  state.counters["GMAC/s"] =
      benchmark::Counter(1e-9 * m * n * k, benchmark::Counter::kIsIterationInvariantRate);
}

void BM_ScalarReference(benchmark::State& state) {
  Data d(state.range(0), state.range(1), state.range(2));
  for (auto _ : state) {
    GemmU8ToInt32Reference(d.x.data(), d.x_offset.data(), d.m, d.w.data(), d.n, d.k, kWeightOffset,
                           d.out.data());
    benchmark::DoNotOptimize(d.out.data());
  }
  SetRate(state, d);
}

// DistilBERT: m tokens x (768 -> 768: q, k, v, out), (768 -> 3072: FFN up), (3072 -> 768: FFN down).
// Args are {m, n, k}.
void DistilBertShapes(benchmark::internal::Benchmark* b) {
  for (int m : {16, 128, 384}) {
    b->Args({m, 768, 768});
    b->Args({m, 3072, 768});
    b->Args({m, 768, 3072});
  }
  b->ArgNames({"m", "n", "k"});
  b->Unit(benchmark::kMillisecond);
  // Rates are per CPU time (Google Benchmark's default): single-threaded, so that is the time the
  // GEMM ran, and it is not inflated by other processes on a shared machine. bench/gemm/run.sh
  // gives wall-clock per-call figures for the native/wasm comparison.
}

BENCHMARK(BM_GemmlowpPublicApi)->Apply(DistilBertShapes);
BENCHMARK(BM_GemmU8Prepacked)->Apply(DistilBertShapes);
BENCHMARK(BM_GemmU8Prepacked2Threads)->Apply(DistilBertShapes)->UseRealTime();
BENCHMARK(BM_QLinear)->Apply(DistilBertShapes);
BENCHMARK(BM_ScalarReference)->Apply(DistilBertShapes);

}  // namespace
}  // namespace edgebert

BENCHMARK_MAIN();
