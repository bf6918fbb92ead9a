// qlinear.cc: the int8 Linear layer on gemmlowp: weights shifted to uint8 and packed once at load,
// activations quantized per row and multiplied by this build's kernel (our SIMD128 kernel in wasm,
// gemmlowp's SSE4 kernel on x86-64), scales, zero points and bias applied in the fused unpack.
#include "gemm/qlinear.h"

#include <algorithm>
#include <cassert>
#include <string>
#include <vector>

#include "gemm/gemm_u8.h"
#include "gemm/quantize_row.h"

namespace edgebert {
namespace {

// gemmlowp multiplies uint8 operands: int8 weights are stored as w + 128 and given the offset -128.
constexpr int32_t kWeightShift = 128;

}  // namespace

namespace {

Status CheckQLinear(const QLinearWeights& w) {
  if (w.n <= 0 || w.k <= 0) {
    return InvalidArgument("QLinear: n and k must be positive, got n=" + std::to_string(w.n) +
                           ", k=" + std::to_string(w.k));
  }
  if (w.k > kQLinearMaxDepth) {
    return InvalidArgument("QLinear: in_features k=" + std::to_string(w.k) + " exceeds " +
                           std::to_string(kQLinearMaxDepth) +
                           ", the largest depth whose uint8 products fit in int32");
  }
  if (!w.weight || !w.scale) return InvalidArgument("QLinear: weight and scale are required");
  return Status::Ok();
}

std::vector<uint8_t> Shifted(const QLinearWeights& w) {
  const size_t count = static_cast<size_t>(w.n) * w.k;
  std::vector<uint8_t> shifted(count);
  for (size_t i = 0; i < count; ++i) {
    shifted[i] = static_cast<uint8_t>(static_cast<int32_t>(w.weight[i]) + kWeightShift);
  }
  return shifted;
}

}  // namespace

Status PrepareQLinear(QLinearWeights* w) {
  EB_RETURN_IF_ERROR(CheckQLinear(*w));
  const std::vector<uint8_t> shifted = Shifted(*w);
  w->prepared = std::shared_ptr<const PackedWeightsU8>(
      PackedWeightsU8::Pack(shifted.data(), w->n, w->k).release());
  return Status::Ok();
}

size_t QLinearPackedBytes(int n, int k) { return PackedWeightsU8::PackedBytes(n, k); }

size_t QLinearRoomBytes(int n, int k) {
  const size_t rows = (static_cast<size_t>(n) + 11) / 12 * 12;
  const size_t depth = (static_cast<size_t>(k) + 15) / 16 * 16;
  return rows * depth + sizeof(int32_t) * rows;
}

Status PrepareQLinearInPlace(QLinearWeights* w, uint8_t* room, size_t room_bytes) {
  EB_RETURN_IF_ERROR(CheckQLinear(*w));
  if (reinterpret_cast<const uint8_t*>(w->weight) != room || reinterpret_cast<uintptr_t>(room) % 4 != 0) {
    return InvalidArgument("QLinear: in-place packing needs the weights at the start of a 4-byte-aligned room");
  }
  const size_t need = QLinearPackedBytes(w->n, w->k);
  if (room_bytes < need) {
    return InvalidArgument("QLinear: the packed layout of a " + std::to_string(w->n) + " x " +
                           std::to_string(w->k) + " weight needs " + std::to_string(need) +
                           " bytes; the room has " + std::to_string(room_bytes));
  }
  const std::vector<uint8_t> shifted = Shifted(*w);  // the one temporary: the source is overwritten
  w->prepared = std::shared_ptr<const PackedWeightsU8>(
      PackedWeightsU8::PackInto(shifted.data(), w->n, w->k, room).release());
  w->weight = nullptr;
  return Status::Ok();
}

void QLinearDequantizedColumn(const QLinearWeights& w, int col, float* out) {
  const auto* packed = static_cast<const PackedWeightsU8*>(w.prepared.get());
  assert(packed && "QLinearDequantizedColumn: call PrepareQLinear first");
  packed->DequantizeColumn(col, -kWeightShift, w.scale, out);
}

void QLinearDequantizedColumnRows(const QLinearWeights& w, int col, int begin, int end, float* out) {
  const auto* packed = static_cast<const PackedWeightsU8*>(w.prepared.get());
  assert(packed && "QLinearDequantizedColumnRows: call PrepareQLinear first");
  packed->DequantizeColumnRows(col, begin, end, -kWeightShift, w.scale, out);
}

void QLinearDequantizedRow(const QLinearWeights& w, int row, float* out) {
  const auto* packed = static_cast<const PackedWeightsU8*>(w.prepared.get());
  assert(packed && "QLinearDequantizedRow: call PrepareQLinear first");
  packed->DequantizeRow(row, -kWeightShift, w.scale[row], out);
}

void QLinear(const float* x, int m, const QLinearWeights& w, float* y, QLinearScratch* scratch) {
  QLinearExcluding(x, m, nullptr, 0, w, y, scratch);
}

void QLinearExcluding(const float* x, int m, const int32_t* excluded, int per_row, const QLinearWeights& w,
                      float* y, QLinearScratch* scratch) {
  if (m <= 0) return;
  if (!w.prepared) {
    assert(false && "QLinear: call PrepareQLinear first");
    QLinearReference(x, m, w, y);
    return;
  }
  QLinearReserve(m, w.k, scratch);
  if (per_row > 0 && scratch->row.size() < static_cast<size_t>(w.k)) scratch->row.resize(w.k);
  QLinearQuantizeRows(x, 0, m, w.k, excluded, per_row, scratch->row.data(), scratch);
  QLinearQuantized(m, w, y, scratch);
}

void QLinearReserve(int m, int k, QLinearScratch* scratch) {
  scratch->x_q.resize(static_cast<size_t>(m) * k);
  scratch->x_scale.resize(m);
  scratch->x_zero.resize(m);
  scratch->x_offset.resize(m);
}

void QLinearQuantizeRows(const float* x, int begin, int end, int k, const int32_t* excluded, int per_row, float* row,
                         QLinearScratch* scratch) {
  for (int i = begin; i < end; ++i) {
    const float* xi = x + static_cast<size_t>(i) * k;
    if (per_row > 0) {
      // One row at a time with its excluded entries set to 0: no (m, k) copy of x.
      std::copy_n(xi, k, row);
      for (int j = 0; j < per_row; ++j) {
        const int32_t c = excluded[static_cast<size_t>(i) * per_row + j];
        if (c >= 0) {
          assert(c < k);
          row[c] = 0.f;
        }
      }
      xi = row;
    }
    // Bitwise the same as QuantizeRowU8 (what QLinearReference uses), vectorized in wasm.
    QuantizeRowU8Fast(xi, k, scratch->x_q.data() + static_cast<size_t>(i) * k, &scratch->x_scale[i],
                      &scratch->x_zero[i]);
    scratch->x_offset[i] = -scratch->x_zero[i];
  }
}

void QLinearQuantized(int m, const QLinearWeights& w, float* y, QLinearScratch* scratch) {
  if (m <= 0) return;
  const auto* packed = static_cast<const PackedWeightsU8*>(w.prepared.get());
  assert(packed && "QLinear: call PrepareQLinear first");
  assert(scratch->x_q.size() >= static_cast<size_t>(m) * w.k && "QLinearQuantized: rows quantized at another depth");
  if (!scratch->gemm) scratch->gemm = std::make_shared<GemmU8Scratch>();
  scratch->gemm->set_max_threads(scratch->max_threads);
  GemmU8Dequantize(scratch->x_q.data(), scratch->x_offset.data(), scratch->x_scale.data(), m,
                   *packed, -kWeightShift, w.scale, w.bias, y, scratch->gemm.get());
}

void QLinearQuantizedMany(int m, const QLinearWeights* const* ws, float* const* ys, int count,
                          QLinearScratch* scratch, const GemmU8ColumnsDone* const* dones) {
  if (m <= 0 || count <= 0) return;
  assert(count <= 4);
  GemmU8DequantizeOutput outs[4];
  for (int i = 0; i < count; ++i) {
    const auto* packed = static_cast<const PackedWeightsU8*>(ws[i]->prepared.get());
    assert(packed && "QLinear: call PrepareQLinear first");
    assert(ws[i]->k == ws[0]->k && scratch->x_q.size() >= static_cast<size_t>(m) * ws[i]->k);
    outs[i] = GemmU8DequantizeOutput{packed, -kWeightShift, ws[i]->scale, ws[i]->bias, ys[i], dones ? dones[i] : nullptr};
  }
  if (!scratch->gemm) scratch->gemm = std::make_shared<GemmU8Scratch>();
  scratch->gemm->set_max_threads(scratch->max_threads);
  GemmU8DequantizeMany(scratch->x_q.data(), scratch->x_offset.data(), scratch->x_scale.data(), m, outs, count,
                       scratch->gemm.get());
}

}  // namespace edgebert
