// gemm_wasm_bench.cc: C exports timed by bench/gemm/bench.js under node: the same uint8 GEMM through
// our SIMD128 kernel (prepacked weights, and under gemmlowp's own driver) and through gemmlowp's
// scalar ReferenceKernel fallback (what gemmlowp's public API runs in wasm), plus QLinear end to end.
// Each export runs one GEMM, so JS times every call and sees V8's tiering call by call.
#include <emscripten/emscripten.h>

#include <cstdint>
#include <memory>
#include <random>
#include <vector>

#include <gemmlowp/public/gemmlowp.h>

#include "gemm/gemm_u8.h"
#include "gemm/kernel_wasmsimd.h"
#include "gemm/qlinear.h"

namespace {

struct Problem {
  int m = 0, n = 0, k = 0;
  std::vector<uint8_t> x;         // (m, k)
  std::vector<uint8_t> w;         // (n, k)
  std::vector<int32_t> x_offset;  // (m)
  std::vector<int32_t> out;       // (m, n)
  std::unique_ptr<edgebert::PackedWeightsU8> packed;
  edgebert::GemmU8Scratch scratch;
  gemmlowp::GemmContext context;  // single-threaded in this wasm build
  // QLinear on the same shape with float inputs.
  std::vector<float> xf, wf, wscale, bias, y;
  std::vector<int8_t> wq;
  edgebert::QLinearWeights qw;
  edgebert::QLinearScratch qscratch;
};

std::unique_ptr<Problem> g_problem;

constexpr int32_t kWeightOffset = -128;

template <typename Kernel>
void RunGemmlowpDriver(Problem& p, const Kernel& kernel) {
  // gemmlowp's own single-threaded driver: packs both operands on every call, unpacks with offsets.
  gemmlowp::MatrixMap<const uint8_t, gemmlowp::MapOrder::RowMajor> lhs(p.w.data(), p.n, p.k);
  gemmlowp::MatrixMap<const uint8_t, gemmlowp::MapOrder::ColMajor> rhs(p.x.data(), p.k, p.m);
  gemmlowp::MatrixMap<int32_t, gemmlowp::MapOrder::ColMajor> result(p.out.data(), p.n, p.m);
  const gemmlowp::VectorDup<const int32_t, gemmlowp::VectorShape::Col> lhs_offset(kWeightOffset, p.n);
  const gemmlowp::VectorMap<const int32_t, gemmlowp::VectorShape::Row> rhs_offset(p.x_offset.data(),
                                                                                 p.m);
  gemmlowp::SingleThreadGemm<typename Kernel::Format, uint8_t, int32_t,
                             gemmlowp::DefaultL8R8BitDepthParams>(
      &p.context, kernel, lhs, rhs, &result, lhs_offset, rhs_offset, std::make_tuple());
}

}  // namespace

extern "C" {

EMSCRIPTEN_KEEPALIVE const char* bench_kernel_name() { return edgebert::GemmU8KernelName(); }

// The relaxed-SIMD kernel for the weights packed from now on (needs it wired: EDGEBERT_WASM_RELAXED,
// see wasm/node_prejs.js). Returns 1 when on.
EMSCRIPTEN_KEEPALIVE int bench_set_relaxed(int on) { return edgebert::GemmU8SetRelaxedKernel(on != 0) ? 1 : 0; }

// Sets up an m x n x k problem with random data; packs the weights (not timed by the harness).
EMSCRIPTEN_KEEPALIVE int bench_setup(int m, int n, int k) {
  g_problem = std::make_unique<Problem>();
  Problem& p = *g_problem;
  p.m = m;
  p.n = n;
  p.k = k;
  std::mt19937 rng(42);
  std::uniform_int_distribution<int> byte(0, 255);
  p.x.resize(static_cast<size_t>(m) * k);
  p.w.resize(static_cast<size_t>(n) * k);
  for (auto& v : p.x) v = static_cast<uint8_t>(byte(rng));
  for (auto& v : p.w) v = static_cast<uint8_t>(byte(rng));
  p.x_offset.assign(m, -100);
  p.out.resize(static_cast<size_t>(m) * n);
  p.packed = edgebert::PackedWeightsU8::Pack(p.w.data(), n, k);  // the first one also warms up V8 tiering
  p.context.set_max_num_threads(1);
  std::normal_distribution<float> g(0.f, 1.f);
  p.xf.resize(static_cast<size_t>(m) * k);
  p.wf.resize(static_cast<size_t>(n) * k);
  for (auto& v : p.xf) v = g(rng);
  for (auto& v : p.wf) v = 0.05f * g(rng);
  p.wq.resize(p.wf.size());
  p.wscale.resize(n);
  p.bias.assign(n, 0.1f);
  p.y.resize(static_cast<size_t>(m) * n);
  edgebert::QuantizeWeightsPerChannel(p.wf.data(), n, k, p.wq.data(), p.wscale.data());
  p.qw.n = n;
  p.qw.k = k;
  p.qw.weight = p.wq.data();
  p.qw.scale = p.wscale.data();
  p.qw.bias = p.bias.data();
  return edgebert::PrepareQLinear(&p.qw).ok() ? 0 : 1;
}

// Our driver and kernel (WasmSimd128_Kernel2x4Depth8WideRhs), weights packed at load: packs the
// activations, widens them to int16, runs the kernel per block, unpacks to int32.
EMSCRIPTEN_KEEPALIVE void bench_simd128_prepacked() {
  Problem& p = *g_problem;
  edgebert::GemmU8ToInt32(p.x.data(), p.x_offset.data(), p.m, *p.packed, kWeightOffset, p.out.data(),
                          &p.scratch);
}

// QLinear end to end: quantize fp32 activations per row, GEMM, dequantize with scales and bias.
EMSCRIPTEN_KEEPALIVE void bench_qlinear() {
  Problem& p = *g_problem;
  edgebert::QLinear(p.xf.data(), p.m, p.qw, p.y.data(), &p.qscratch);
}


// Our gemmlowp-compatible kernel (WasmSimd128_Kernel8x4Depth2) under gemmlowp's own driver (both
// operands packed per call): the like-for-like comparison with the ReferenceKernel row below.
EMSCRIPTEN_KEEPALIVE void bench_simd128_gemmlowp_driver() {
#if defined(__wasm_simd128__)
  static const edgebert::WasmSimd128_Kernel8x4Depth2 kernel;
  RunGemmlowpDriver(*g_problem, kernel);
#endif
}

// What gemmlowp gives in wasm without us: its public API, whose DefaultKernel there is the scalar
// ReferenceKernel (kernel_default.h's fallback), both operands packed per call.
EMSCRIPTEN_KEEPALIVE void bench_gemmlowp_reference_kernel() {
  Problem& p = *g_problem;
  gemmlowp::MatrixMap<const uint8_t, gemmlowp::MapOrder::RowMajor> lhs(p.w.data(), p.n, p.k);
  gemmlowp::MatrixMap<const uint8_t, gemmlowp::MapOrder::ColMajor> rhs(p.x.data(), p.k, p.m);
  gemmlowp::MatrixMap<int32_t, gemmlowp::MapOrder::ColMajor> result(p.out.data(), p.n, p.m);
  const gemmlowp::VectorDup<const int32_t, gemmlowp::VectorShape::Col> lhs_offset(kWeightOffset, p.n);
  const gemmlowp::VectorMap<const int32_t, gemmlowp::VectorShape::Row> rhs_offset(p.x_offset.data(),
                                                                                 p.m);
  gemmlowp::GemmWithOutputPipelinePC<uint8_t, int32_t, gemmlowp::DefaultL8R8BitDepthParams>(
      &p.context, lhs, rhs, &result, lhs_offset, rhs_offset, std::make_tuple());
}

EMSCRIPTEN_KEEPALIVE const char* bench_reference_kernel_name() {
  static const gemmlowp::DefaultKernel<gemmlowp::DefaultL8R8BitDepthParams> kernel;
  return kernel.Name();
}

// Only the per-call packing of the activations (gemmlowp's PackRhs into our kernel's cell format),
// to split the prepacked time into packing and the rest.
EMSCRIPTEN_KEEPALIVE void bench_pack_activations_only() {
#if defined(__wasm_simd128__)
  Problem& p = *g_problem;
  using Format = edgebert::WasmSimd128_Kernel8x4Depth2::Format;
  gemmlowp::BlockParams bp{};
  bp.l2_cols = bp.l1_cols = gemmlowp::RoundUp<Format::kCols>(p.m);
  bp.l2_depth = gemmlowp::RoundUp<gemmlowp::kRegisterSize>(p.k);
  bp.l1_depth = bp.l2_depth <= 1024 ? bp.l2_depth : 1024;
  bp.l2_rows = bp.l1_rows = Format::kRows;
  static gemmlowp::Allocator allocator;
  gemmlowp::PackedSideBlock<Format::Rhs> packed(gemmlowp::Side::Rhs, &allocator, bp);
  allocator.Commit();
  gemmlowp::PackRhs(&packed, gemmlowp::MatrixMap<const uint8_t, gemmlowp::MapOrder::ColMajor>(
                                 p.x.data(), p.k, p.m, p.k));
  allocator.Decommit();
#endif
}

// Checksum of the last result so the harness can check that all variants agree.
EMSCRIPTEN_KEEPALIVE double bench_checksum() {
  double s = 0;
  for (size_t i = 0; i < g_problem->out.size(); ++i) s += g_problem->out[i] * double(i % 7 + 1);
  return s;
}

}  // extern "C"
