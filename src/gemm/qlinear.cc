// qlinear.cc: the int8 Linear layer on gemmlowp: weights shifted to uint8 and packed once at load,
// activations quantized per row and multiplied by this build's kernel (our SIMD128 kernel in wasm,
// gemmlowp's SSE4 kernel on x86-64), scales, zero points and bias applied in the fused unpack.
#include "gemm/qlinear.h"

#include <cassert>
#include <string>

#include "gemm/gemm_u8.h"
#include "gemm/quantize_row.h"

namespace edgebert {
namespace {

// gemmlowp multiplies uint8 operands: int8 weights are stored as w + 128 and given the offset -128.
constexpr int32_t kWeightShift = 128;

}  // namespace

Status PrepareQLinear(QLinearWeights* w) {
  if (w->n <= 0 || w->k <= 0) {
    return InvalidArgument("QLinear: n and k must be positive, got n=" + std::to_string(w->n) +
                           ", k=" + std::to_string(w->k));
  }
  if (w->k > kQLinearMaxDepth) {
    return InvalidArgument("QLinear: in_features k=" + std::to_string(w->k) + " exceeds " +
                           std::to_string(kQLinearMaxDepth) +
                           ", the largest depth whose uint8 products fit in int32");
  }
  if (!w->weight || !w->scale) return InvalidArgument("QLinear: weight and scale are required");
  const size_t count = static_cast<size_t>(w->n) * w->k;
  std::vector<uint8_t> shifted(count);
  for (size_t i = 0; i < count; ++i) {
    shifted[i] = static_cast<uint8_t>(static_cast<int32_t>(w->weight[i]) + kWeightShift);
  }
  w->prepared = std::shared_ptr<const PackedWeightsU8>(
      PackedWeightsU8::Pack(shifted.data(), w->n, w->k).release());
  return Status::Ok();
}

void QLinear(const float* x, int m, const QLinearWeights& w, float* y, QLinearScratch* scratch) {
  if (m <= 0) return;
  const auto* packed = static_cast<const PackedWeightsU8*>(w.prepared.get());
  assert(packed && "QLinear: call PrepareQLinear first");
  if (!packed) {
    QLinearReference(x, m, w, y);
    return;
  }
  const int k = w.k;
  scratch->x_q.resize(static_cast<size_t>(m) * k);
  scratch->x_scale.resize(m);
  scratch->x_zero.resize(m);
  scratch->x_offset.resize(m);
  for (int i = 0; i < m; ++i) {
    // Bitwise the same as QuantizeRowU8 (what QLinearReference uses), vectorized in wasm.
    QuantizeRowU8Fast(x + static_cast<size_t>(i) * k, k,
                      scratch->x_q.data() + static_cast<size_t>(i) * k, &scratch->x_scale[i],
                      &scratch->x_zero[i]);
    scratch->x_offset[i] = -scratch->x_zero[i];
  }
  if (!scratch->gemm) scratch->gemm = std::make_shared<GemmU8Scratch>();
  scratch->gemm->set_max_threads(scratch->max_threads);
  GemmU8Dequantize(scratch->x_q.data(), scratch->x_offset.data(), scratch->x_scale.data(), m,
                   *packed, -kWeightShift, w.scale, w.bias, y, scratch->gemm.get());
}

}  // namespace edgebert
