// qlinear.cc: the int8 Linear layer entry points. For now they run the scalar reference; the
// gemmlowp path (SSE4 natively, our SIMD128 kernel in wasm) replaces the body of QLinear.
#include "gemm/qlinear.h"

namespace edgebert {

Status PrepareQLinear(QLinearWeights* w) {
  if (w->n <= 0 || w->k <= 0) return InvalidArgument("QLinear: n and k must be positive");
  if (!w->weight || !w->scale) return InvalidArgument("QLinear: weight and scale are required");
  return Status::Ok();
}

void QLinear(const float* x, int m, const QLinearWeights& w, float* y, QLinearScratch* scratch) {
  (void)scratch;
  QLinearReference(x, m, w, y);
}

}  // namespace edgebert
