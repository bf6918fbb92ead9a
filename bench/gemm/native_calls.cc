// native_calls.cc: native per-call timings for bench/gemm/run.sh, measured exactly like the node
// harness (wall clock per call: first call, median and best of the rest), so that the native and wasm
// figures in one table are comparable. Prints one JSON line per shape and variant.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include <gemmlowp/public/gemmlowp.h>

#include "gemm/gemm_u8.h"

namespace {

constexpr int32_t kWeightOffset = -128;

// Which of gemmlowp's x86 kernels this binary was compiled for (run.sh builds it with -msse4.1 and
// again with -mavx2): the variant names say so.
#if defined(GEMMLOWP_AVX2_64)
constexpr const char* kGemmlowpVariant = "native_gemmlowp_avx2";
constexpr const char* kPrepackedVariant = "native_avx2_prepacked";
#else
constexpr const char* kGemmlowpVariant = "native_gemmlowp_sse4";
constexpr const char* kPrepackedVariant = "native_sse4_prepacked";
#endif

void Report(const char* variant, int m, int n, int k, const std::function<void()>& fn) {
  using Clock = std::chrono::steady_clock;
  auto time_one = [&] {
    const auto t0 = Clock::now();
    fn();
    return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
  };
  const double first = time_one();
  const double second = time_one();
  const int calls = std::max(3, std::min(200, static_cast<int>(300 / std::max(second, 0.01))));
  std::vector<double> t(calls);
  for (double& v : t) v = time_one();
  std::sort(t.begin(), t.end());
  std::printf(
      "{\"variant\":\"%s\",\"m\":%d,\"n\":%d,\"k\":%d,\"first_ms\":%.4f,\"median_ms\":%.4f,"
      "\"best_ms\":%.4f,\"calls\":%d}\n",
      variant, m, n, k, first, t[t.size() / 2], t[0], calls);
}

}  // namespace

int main(int argc, char** argv) {
  const bool quick = argc > 1 && std::string(argv[1]) == "--quick";  // 128x768x768 only
  for (int m : {1, 16, 128, 384}) {
    for (auto [n, k] : {std::pair{768, 768}, std::pair{3072, 768}, std::pair{768, 3072}}) {
      if (quick && !(m == 128 && n == 768 && k == 768)) continue;
      if (m == 1 && !(n == 768 && k == 768)) continue;  // 1 token: the 768 x 768 projection only
      std::mt19937 rng(42);
      std::uniform_int_distribution<int> byte(0, 255);
      std::vector<uint8_t> x(static_cast<size_t>(m) * k), w(static_cast<size_t>(n) * k);
      for (auto& v : x) v = static_cast<uint8_t>(byte(rng));
      for (auto& v : w) v = static_cast<uint8_t>(byte(rng));
      std::vector<int32_t> x_offset(m, -100), out(static_cast<size_t>(m) * n);

      gemmlowp::GemmContext context;
      context.set_max_num_threads(1);
      gemmlowp::MatrixMap<const uint8_t, gemmlowp::MapOrder::RowMajor> lhs(w.data(), n, k);
      gemmlowp::MatrixMap<const uint8_t, gemmlowp::MapOrder::ColMajor> rhs(x.data(), k, m);
      gemmlowp::MatrixMap<int32_t, gemmlowp::MapOrder::ColMajor> result(out.data(), n, m);
      const gemmlowp::VectorDup<const int32_t, gemmlowp::VectorShape::Col> lhs_offset(kWeightOffset, n);
      const gemmlowp::VectorMap<const int32_t, gemmlowp::VectorShape::Row> rhs_offset(x_offset.data(), m);
      Report(kGemmlowpVariant, m, n, k, [&] {
        gemmlowp::GemmWithOutputPipelinePC<uint8_t, int32_t, gemmlowp::DefaultL8R8BitDepthParams>(
            &context, lhs, rhs, &result, lhs_offset, rhs_offset, std::make_tuple());
      });

      auto packed = edgebert::PackedWeightsU8::Pack(w.data(), n, k);
      edgebert::GemmU8Scratch scratch;
      Report(kPrepackedVariant, m, n, k, [&] {
        edgebert::GemmU8ToInt32(x.data(), x_offset.data(), m, *packed, kWeightOffset, out.data(),
                                &scratch);
      });
    }
  }
  return 0;
}
