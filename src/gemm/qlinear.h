// qlinear.h: the int8 Linear layer the encoder calls: y = x W^T + b with int8 weights.
//
// Glossary (gemmlowp's words, used throughout src/gemm/):
//   lhs   = activations x, m rows (tokens) by k (depth = in_features), quantized per row at run time
//           to uint8 with a per-row scale and zero point (asymmetric).
//   rhs   = weights W, n (width = out_features) by k, int8 symmetric per output channel (scale only).
//   depth = k, the reduction dimension; int32 accumulation.
//   output stage: y[r][c] = x_scale[r] * w_scale[c] * (acc[r][c] - x_zero[r] * colsum(W)[c]) + bias[c]
//
// This header is the contract between the encoder (src/encoder/) and the kernels (src/gemm/); how
// the product is computed (scalar reference, gemmlowp with SSE4 or our WASM SIMD128 kernel) is an
// implementation choice behind it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "gemm/gemm_u8.h"
#include "util/status.h"

namespace edgebert {

// Weights of one Linear layer for the int8 path. The pointers are views (usually into the model
// buffer); they must outlive the QLinearWeights.
struct QLinearWeights {
  int n = 0;                          // out_features
  int k = 0;                          // in_features
  const int8_t* weight = nullptr;     // (n, k) row-major, symmetric int8, values in [-127, 127];
                                      // null once PrepareQLinearInPlace has packed it over itself
  const float* scale = nullptr;       // (n) per-output-channel dequantization scale
  const float* bias = nullptr;        // (n) fp32, may be null
  std::shared_ptr<const void> prepared;  // implementation data made by PrepareQLinear (e.g. packed rhs)
};

// Derives whatever the fast path needs from the weights; call once at load. It stores the weights as
// uint8 (w + 128) packed in gemmlowp's layout for this build's kernel, with their sums, in
// w->prepared (QLinearPackedBytes(n, k), about n * k bytes); the int8 source is not read again.
// Fails on n or k <= 0, missing weight or scale pointers, or k > kQLinearMaxDepth.
Status PrepareQLinear(QLinearWeights* w);

// Bytes the packed layout PrepareQLinear makes takes in this build: rows rounded up to the
// kernel's width, depth to 16, plus an int32 sum per padded row.
size_t QLinearPackedBytes(int n, int k);

// Room that holds the packed layout of an (n, k) weight for every kernel edgebert ships (and every
// uint8 kernel gemmlowp has: their widths, 2, 4 and 12, divide 12): RoundUp(n, 12) *
// RoundUp(k, 16) + 4 * RoundUp(n, 12). Packed model files reserve it per Linear weight
// (docs/FORMAT.md) so that a loader owning the buffer can pack in place.
size_t QLinearRoomBytes(int n, int k);

// PrepareQLinear without a second copy of the weights: `room` (room_bytes, 4-byte aligned) starts
// with the (n, k) int8 weights (w->weight == room) and receives their packed layout, which
// w->prepared then views (room must outlive it). Uses one (n, k) temporary while packing. After
// success w->weight is null: the row-major int8 values are gone; read columns with
// QLinearDequantizedColumn. InvalidArgument when room_bytes < QLinearPackedBytes(n, k) or
// w->weight != room, besides PrepareQLinear's errors (then the room is left unchanged).
Status PrepareQLinearInPlace(QLinearWeights* w, uint8_t* room, size_t room_bytes);

// out[r] = scale[r] * W[r][col] for r in [0, n): one dequantized weight column, read from the
// packed layout (exactly the int8 values given). Precondition: PrepareQLinear* succeeded.
void QLinearDequantizedColumn(const QLinearWeights& w, int col, float* out);
// The same for rows [begin, end) of the column only: out[r] for those r.
void QLinearDequantizedColumnRows(const QLinearWeights& w, int col, int begin, int end, float* out);

// out[d] = scale[row] * W[row][d] for d in [0, k): one dequantized weight row (e.g. an embedding row
// of a tied MLM decoder packed in place), read from the packed layout.
void QLinearDequantizedRow(const QLinearWeights& w, int row, float* out);

// Largest in_features: raw uint8 products summed over k must fit in int32 (255 * 255 * k < 2^31).
constexpr int kQLinearMaxDepth = 32768;

// y (m, n) = x (m, k) W^T + bias, with x quantized per row to uint8. `scratch` is reused between calls
// to avoid allocations on the hot path. Precondition: PrepareQLinear(&w) succeeded.
class GemmU8Scratch;
struct QLinearScratch {
  std::vector<uint8_t> x_q;        // (m, k) quantized activations
  std::vector<float> x_scale;      // (m)
  std::vector<int32_t> x_zero;     // (m)
  std::vector<int32_t> acc;        // unused by the gemmlowp path (kept for compatibility)
  std::vector<int32_t> x_offset;   // (m) = -x_zero, gemmlowp's per-column rhs offset
  std::vector<float> row;          // (k) one row of x with its excluded entries zeroed (QLinearExcluding)
  std::vector<int32_t> excluded;   // (m, per_row) storage a caller may use for QLinearExcluding's list
  std::shared_ptr<GemmU8Scratch> gemm;  // packed activations and int32 block, made on first use
  int max_threads = 1;  // threads QLinear may use, the caller's included (1 without thread support)
};
void QLinear(const float* x, int m, const QLinearWeights& w, float* y, QLinearScratch* scratch);

// QLinear of x with, in each row i, the entries at columns excluded[i * per_row + j] (j < per_row;
// negative ones ignored) taken as 0: bit for bit QLinear on a copy of x with those entries zeroed,
// without the (m, k) copy (one row at a time). per_row 0: QLinear.
void QLinearExcluding(const float* x, int m, const int32_t* excluded, int per_row, const QLinearWeights& w,
                      float* y, QLinearScratch* scratch);

// QLinearExcluding in three steps, for callers that quantize the rows on several threads or share one
// quantized input between Linears of the same k (q, k and v): QLinearReserve sizes the scratch for m
// rows of k; QLinearQuantizeRows quantizes rows [begin, end) (exclusions as QLinearExcluding; `row`:
// k floats of the calling thread's own, unused when per_row is 0); QLinearQuantized multiplies the m
// rows quantized last by w (w.k must be the k they were quantized at). Bit for bit QLinearExcluding.
void QLinearReserve(int m, int k, QLinearScratch* scratch);
void QLinearQuantizeRows(const float* x, int begin, int end, int k, const int32_t* excluded, int per_row, float* row,
                         QLinearScratch* scratch);
void QLinearQuantized(int m, const QLinearWeights& w, float* y, QLinearScratch* scratch);
// QLinearQuantized for up to four layers of the same k on the rows quantized last: ys[i] gets the
// bits QLinearQuantized(m, *ws[i], ys[i]) gives, the products run as one parallel loop
// (GemmU8DequantizeMany). dones: null, or per layer null or a function called as ys[i]'s columns
// come in (GemmU8DequantizeOutput::done).
void QLinearQuantizedMany(int m, const QLinearWeights* const* ws, float* const* ys, int count,
                          QLinearScratch* scratch, const GemmU8ColumnsDone* const* dones = nullptr);

// The scalar reference for QLinear: same quantization, plain loops. Tests compare against it.
void QLinearReference(const float* x, int m, const QLinearWeights& w, float* y);

// Quantizes one row of k floats to uint8 with an asymmetric scale/zero point covering [min, max]
// (range widened to include 0 so zero is exact). Shared by QLinear and its reference.
void QuantizeRowU8(const float* x, int k, uint8_t* q, float* scale, int32_t* zero);

// The scale and zero point QuantizeRowU8 (and its SIMD twin) derive from a row's range [lo, hi]
// (lo <= 0 <= hi), so that every quantizer computes them with the very same code.
void QuantParamsU8(float lo, float hi, float* scale, int32_t* zero);

// Quantizes weights (n, k) row-major fp32 to symmetric int8 per output row: scale = max|w| / 127.
void QuantizeWeightsPerChannel(const float* w, int n, int k, int8_t* q, float* scale);

}  // namespace edgebert
