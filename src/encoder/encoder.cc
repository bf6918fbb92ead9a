// encoder.cc: encoder_forward in PyTorch order (embeddings -> L x (attention, add & norm, FFN,
// add & norm) -> head), with the fp32 and int8 Linear paths.
#include "encoder/encoder.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "gemm/gemm_u8.h"
#include "kernels/dot_i16.h"
#include "kernels/gelu.h"
#include "kernels/sgemm.h"
#include "kernels/simd.h"
#include "kernels/softmax.h"
#include "kernels/topk.h"
#include "util/checked.h"
#include "util/thread_pool.h"
#include "util/tiering.h"

namespace edgebert {

namespace {

// The per-row and per-layer pieces of EncoderForward are functions of their own (noinline): V8 runs
// a call on the code it started with, so loops left inside EncoderForward, one call per inference,
// would run on baseline code through the whole first inference (util/tiering.h).
__attribute__((noinline)) void LayerNormRow(float* row, int dim, const LayerNormWeights& ln, float eps) {
  // Mean and (biased) variance in double: two passes, no cancellation worries.
  double mean = 0;
  for (int i = 0; i < dim; ++i) mean += row[i];
  mean /= dim;
  double var = 0;
  for (int i = 0; i < dim; ++i) var += (row[i] - mean) * (row[i] - mean);
  var /= dim;
  const float inv = static_cast<float>(1.0 / std::sqrt(var + eps));
  const float m = static_cast<float>(mean);
  for (int i = 0; i < dim; ++i) row[i] = (row[i] - m) * inv * ln.gamma[i] + ln.beta[i];
}

}  // namespace

void LayerNormRows(float* x, int rows, int dim, const LayerNormWeights& ln, float eps) {
  for (int r = 0; r < rows; ++r) LayerNormRow(x + static_cast<size_t>(r) * dim, dim, ln, eps);
}

void ApplyActivation(Activation act, float* x, size_t n) {
  switch (act) {
    case Activation::kGelu:
      GeluErf(x, n);  // SIMD erf within 4e-7 of the true value (kernels/gelu.h)
      break;
    case Activation::kGeluTanh:
      for (size_t i = 0; i < n; ++i) {
        const float v = x[i];
        x[i] = 0.5f * v * (1.f + std::tanh(0.79788456080286536f * (v + 0.044715f * v * v * v)));
      }
      break;
    case Activation::kRelu:
      for (size_t i = 0; i < n; ++i) x[i] = std::max(x[i], 0.f);
      break;
  }
}

namespace {

// Dot product with four partial sums: lets the compiler vectorize without -ffast-math and shortens
// the rounding chain.
inline float Dot(const float* a, const float* b, int k) {
  float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  int i = 0;
  for (; i + 4 <= k; i += 4) {
    s0 += a[i] * b[i];
    s1 += a[i + 1] * b[i + 1];
    s2 += a[i + 2] * b[i + 2];
    s3 += a[i + 3] * b[i + 3];
  }
  for (; i < k; ++i) s0 += a[i] * b[i];
  return (s0 + s1) + (s2 + s3);
}

}  // namespace

void LinearF32(const float* x, int m, const Linear& l, float* y) {
  const int n = l.n, k = l.k;
  for (int r = 0; r < m; ++r) {
    const float* xr = x + static_cast<size_t>(r) * k;
    for (int c = 0; c < n; ++c)
      y[static_cast<size_t>(r) * n + c] = Dot(xr, l.w + static_cast<size_t>(c) * k, k) + (l.b ? l.b[c] : 0.f);
  }
}

namespace {

template <typename T>
T* Grow(std::vector<T>* v, size_t n) {
  if (v->size() < n) v->resize(n);
  return v->data();
}

// Measured on all-MiniLM-L6-v2 over the 250 fixture sentences (min / mean cosine of mean-pooled
// int8 embeddings vs transformers fp32): 0 outliers 0.99297 / 0.99884, 1: 0.99586 / 0.99945,
// 2: 0.99579 / 0.99949, 4: 0.99626 / 0.99952, 8: 0.99617 / 0.99954.
constexpr int kInt8OutliersPerRow = 4;
// A top-t value is taken out only if |x| > kInt8OutlierRatio * rms(row): rows without outlier
// features (Gaussian-like: max |x| ~ 3-4 rms over 768 values) are quantized whole and cost no fp32
// column products. all-MiniLM-L6-v2 as above, 4 outliers: min cosine 0.99626 without the ratio,
// 0.99629 with 6 (Spearman of pairwise similarities 0.99959 / 0.99955).
constexpr float kInt8OutlierRatio = 6.f;

// Work below which a piece of the layer outside the GEMMs stays on the calling thread. In a pass the
// pool's workers are polling (util/thread_pool.h), so a hand-off costs a few microseconds, but the
// first one of a pass may have to wake a sleeping worker (tens of microseconds): each thread gets at
// least ~0.05 ms of work.
constexpr int64_t kMinAttentionMacsPerThread = int64_t{1} << 20;  // fp32 multiply-adds of QK^T and AV
constexpr int64_t kMinElementsPerThread = int64_t{1} << 14;       // GELU / LayerNorm / quantized values
// GELU runs in blocks of this many values, so that its SIMD/scalar split (a scalar tail at the end
// of each call) falls where one call over everything puts it: the same bits with any thread count.
constexpr size_t kActivationBlock = 4096;

// The thread pool of the run's GEMM scratch (made here when no Linear has run yet), for the parts
// of the layer outside the GEMMs.
GemmU8Scratch* Pool(RunState* rs) {
  if (!rs->qscratch.gemm) rs->qscratch.gemm = std::make_shared<GemmU8Scratch>();
  rs->qscratch.gemm->set_max_threads(rs->qscratch.max_threads);
  return rs->qscratch.gemm.get();
}

int PoolThreads(RunState* rs) { return std::max(1, Pool(rs)->max_threads()); }

// One Linear in the requested precision; heads without int8 weights run in fp32.
//
// int8: BERT activations have a few outlier features per token (max|x| reaches 20-40x the row's
// RMS on [CLS]/[SEP]), and per-token uint8 quantization spends its 255 steps on them. So the
// kInt8OutliersPerRow largest-magnitude values of each row are taken out before quantization and their
// products added back in fp32 against the dequantized int8 weight columns (a per-row version of
// LLM.int8()'s mixed decomposition): ~kInt8OutliersPerRow * n extra MACs per row, about 1% of the GEMM.
//
// In two steps, so that q, k and v quantize their common input once: QuantizeInt8Input finds each
// row's outliers and quantizes the rest (rows split across threads), LinearFromQuantized multiplies
// and adds the outliers' products back (output columns split across threads).

// Outliers per row of an int8 Linear's input of depth k.
int OutliersPerRow(int k) { return std::min(kInt8OutliersPerRow, k); }

void QuantizeInt8Input(const float* x, int m, int k, RunState* rs) {
  const int t = OutliersPerRow(k);
  // (m, t) each row's outlier columns, quantized as 0 (no copy of x).
  int32_t* excluded = Grow(&rs->qscratch.excluded, static_cast<size_t>(m) * t);
  // (m * t) outliers as (column << 32 | row), sorted below so each weight column is read once.
  int64_t* pairs = rs->outlier_pairs.Grow(static_cast<size_t>(m) * t);
  float* rows = rs->quantize_row.Grow(static_cast<size_t>(PoolThreads(rs)) * k);  // (k) per thread
  QLinearReserve(m, k, &rs->qscratch);
  GemmU8ParallelFor(Pool(rs), m, int64_t{m} * k, kMinElementsPerThread, [&](int thread, int begin, int end) {
    for (int r = begin; r < end; ++r) {
      const float* xr = x + static_cast<size_t>(r) * k;
      // The t largest |x| (ties keep the lower column), SIMD-filtered.
      int bi[kInt8OutliersPerRow];
      float absmax;
      const double squares = SumOfSquares(xr, k, &absmax);
      const float limit = kInt8OutlierRatio * static_cast<float>(std::sqrt(squares / k));
      int count = 0;
      if (!std::isfinite(squares)) {
        count = TopAbs(xr, k, t, bi);  // keep them all: inf/NaN must reach y through the fp32 products
      } else if (absmax > limit) {
        count = TopAbs(xr, k, t, bi);
        while (count > 0 && !(std::fabs(xr[bi[count - 1]]) > limit)) --count;
      }
      for (int j = 0; j < count; ++j) {
        excluded[static_cast<size_t>(r) * t + j] = bi[j];
        pairs[static_cast<size_t>(r) * t + j] = (static_cast<int64_t>(bi[j]) << 32) | r;
      }
      for (int j = count; j < t; ++j) {  // no further outliers in this row
        excluded[static_cast<size_t>(r) * t + j] = -1;
        pairs[static_cast<size_t>(r) * t + j] = -1;
      }
    }
    QLinearQuantizeRows(x, begin, end, k, excluded, t, rows + static_cast<size_t>(thread) * k, &rs->qscratch);
  });
  std::sort(pairs, pairs + static_cast<size_t>(m) * t);
}

// y_i = x W_i^T + b_i for the x that QuantizeInt8Input quantized last, for up to four Linears of
// that depth at once (q, k and v), as one parallel loop: the int8 products come in by ranges of
// output columns (GemmU8DequantizeMany), and each range gets its outliers' products added, and
// `act` applied if given, on the thread that computed it, while it is hot in cache.
void LinearsFromQuantized(const Linear* const* ls, float* const* ys, int count, const float* x, int m, RunState* rs,
                          const Activation* act = nullptr) {
  const QLinearWeights* ws[4];
  int widest = 0;
  for (int i = 0; i < count; ++i) {
    ws[i] = &ls[i]->q;
    widest = std::max(widest, ls[i]->n);
  }
  // y[r] += x[r][col] * dequant(W[:, col]) for each outlier. Tokens share their outlier features
  // (the same few dimensions), so grouping by column reads each strided weight column once per
  // range. Every y value gets the same sums in the same order, whatever the ranges.
  const int k = ls[0]->k;
  const size_t np = static_cast<size_t>(m) * OutliersPerRow(k);
  const int64_t* pairs = rs->outlier_pairs.data();
  const size_t first = static_cast<size_t>(std::lower_bound(pairs, pairs + np, int64_t{0}) - pairs);  // skip the -1s
  if (first == np && !act) {
    QLinearQuantizedMany(m, ws, ys, count, &rs->qscratch);
    return;
  }
  float* wcols = rs->outlier_col.Grow(static_cast<size_t>(PoolThreads(rs)) * widest);  // a dequantized column per thread
  GemmU8ColumnsDone dones[4];
  const GemmU8ColumnsDone* done[4];
  for (int i = 0; i < count; ++i) {
    dones[i] = [&, i](int participant, int from, int to) {
      float* wcol = wcols + static_cast<size_t>(participant) * widest;
      const int n = ls[i]->n;
      int current = -1;
      for (size_t p = first; p < np; ++p) {
        const int col = static_cast<int>(pairs[p] >> 32), r = static_cast<int>(pairs[p] & 0xffffffff);
        if (col != current) {
          QLinearDequantizedColumnRows(ls[i]->q, col, from, to, wcol);  // from the packed weights (l.q.weight may be gone)
          current = col;
        }
        const float xv = x[static_cast<size_t>(r) * k + col];
        float* yr = ys[i] + static_cast<size_t>(r) * n;
        for (int c = from; c < to; ++c) yr[c] += xv * wcol[c];
      }
      if (act) {
        for (int r = 0; r < m; ++r) ApplyActivation(*act, ys[i] + static_cast<size_t>(r) * n + from, to - from);
      }
    };
    done[i] = &dones[i];
  }
  QLinearQuantizedMany(m, ws, ys, count, &rs->qscratch, done);
}

void LinearFromQuantized(const Linear& l, const float* x, int m, float* y, RunState* rs) {
  const Linear* one = &l;
  LinearsFromQuantized(&one, &y, 1, x, m, rs);
}

bool RunsInt8(const Linear& l, Precision p) { return p == Precision::kInt8 && l.q.prepared; }

void RunLinear(const Linear& l, const float* x, int m, float* y, Precision p, RunState* rs) {
  if (!RunsInt8(l, p)) {
    LinearF32(x, m, l, y);
    return;
  }
  QuantizeInt8Input(x, m, l.k, rs);
  LinearFromQuantized(l, x, m, y, rs);
}

// x (rows, dim) += y
__attribute__((noinline)) void AddInPlace(float* x, const float* y, size_t n) {
  for (size_t i = 0; i < n; ++i) x[i] += y[i];
}

// Query rows per block of attention scores: (kQueryBlock, T) floats stay in L2 up to T = 512.
constexpr int kQueryBlock = 32;

// One head of self-attention for one sequence: ctx = softmax(q k^T / sqrt(d) + mask) v.
// q, k, v, ctx: (T, H) rows of this sequence, the head's d columns at `off`; mask: (T) or null;
// kt: (d, T) scratch; scores: (kQueryBlock, T) scratch. k is transposed once, then each block of
// query rows gets its scores (Sgemm), their softmax and its share of ctx (Sgemm): both products are
// plain row-major GEMMs. Each score is one dot product summed in index order, each context value one
// sum over keys in index order, so padded keys (weight exactly 0) change no bit of the real tokens,
// and which thread runs a head changes nothing.
__attribute__((noinline)) void AttentionHead(const float* q, const float* k, const float* v, const int32_t* mask, int T,
                                             int H, int d, int off, float* kt, float* scores, float* ctx) {
  const float scale = 1.f / std::sqrt(static_cast<float>(d));
  for (int j = 0; j < T; ++j) {
    const float* kj = k + static_cast<size_t>(j) * H + off;
    for (int t = 0; t < d; ++t) kt[static_cast<size_t>(t) * T + j] = kj[t];
  }
  for (int i0 = 0; i0 < T; i0 += kQueryBlock) {
    const int rows = std::min(kQueryBlock, T - i0);
    Sgemm(rows, T, d, scale, q + static_cast<size_t>(i0) * H + off, H, kt, T, scores, T);
    for (int i = 0; i < rows; ++i) {
      float* si = scores + static_cast<size_t>(i) * T;
      if (mask) {
        // transformers adds finfo(float32).min, which swamps the score: a fully masked row
        // becomes uniform, as here.
        for (int j = 0; j < T; ++j)
          if (mask[j] == 0) si[j] = std::numeric_limits<float>::lowest();
      }
      Softmax(si, T);
    }
    Sgemm(rows, d, T, 1.f, scores, T, v + off, H, ctx + static_cast<size_t>(i0) * H + off, H);
  }
}

// The int8 path's attention: the same head in int16 products (kernels/dot_i16.h), ~2.5x the fp32
// tiles' speed in wasm. q and k rows are quantized per head and token to the finest step that keeps
// every score's int32 sum exact (norms below 46340: max values of ~14000-21000 at d = 32..64), the
// softmax to 15 bits (SoftmaxToI16), v per column over the unmasked keys to 15 bits; each adds a
// relative error of ~1e-4, against ~1e-2 from the int8 projections that made q, k and v
// (tests/encoder_attention_test.cc).
// Integer sums are exact and every scale is per token or per column of the real keys, so padded keys
// still change no bit of the real tokens, and the thread that runs a head changes nothing.
struct AttentionI16Sizes {
  int d, dp, T, Tp, block;
  explicit AttentionI16Sizes(int d_, int T_)
      : d(d_), dp((d_ + kDotI16Depth - 1) / kDotI16Depth * kDotI16Depth), T(T_),
        Tp((T_ + kDotI16Depth - 1) / kDotI16Depth * kDotI16Depth), block(std::min(T_, kQueryBlock)) {}
  size_t i16() const { return 2 * static_cast<size_t>(T) * dp + static_cast<size_t>(d) * Tp + static_cast<size_t>(block) * Tp; }
  size_t f32() const { return 2 * static_cast<size_t>(T) + 2 * static_cast<size_t>(d) + kQueryBlock; }
};

__attribute__((noinline)) void QuantizeValuesI16(const float* v, const int32_t* mask, const AttentionI16Sizes& z, int H,
                                                 int off, int limit, float* sv, float* inv, int16_t* vt) {
  const int d = z.d;
  std::fill(sv, sv + d, 0.f);
  for (int t = 0; t < z.T; ++t) {
    if (mask && mask[t] == 0) continue;
    const float* vr = v + static_cast<size_t>(t) * H + off;
    for (int c = 0; c < d; ++c) sv[c] = std::max(sv[c], std::fabs(vr[c]));
  }
  for (int c = 0; c < d; ++c) {
    inv[c] = sv[c] > 0.f ? static_cast<float>(limit) / sv[c] : 0.f;
    sv[c] /= static_cast<float>(limit);
  }
  std::fill(vt, vt + static_cast<size_t>(d) * z.Tp, int16_t{0});
  const simd::I4 lim = simd::SplatI(limit);
  for (int t = 0; t < z.T; ++t) {
    if (mask && mask[t] == 0) continue;
    const float* vr = v + static_cast<size_t>(t) * H + off;
    int c = 0;
    for (; c + 4 <= d; c += 4) {
      simd::I4 r = simd::RoundToInt(simd::Load(vr + c) * simd::Load(inv + c));
      r = r > lim ? lim : r;
      r = r < -lim ? -lim : r;
      for (int l = 0; l < 4; ++l) vt[static_cast<size_t>(c + l) * z.Tp + t] = static_cast<int16_t>(r[l]);
    }
    for (; c < d; ++c) {
      const long r = std::lround(vr[c] * inv[c]);
      vt[static_cast<size_t>(c) * z.Tp + t] = static_cast<int16_t>(std::max<long>(-limit, std::min<long>(limit, r)));
    }
  }
}

__attribute__((noinline)) void AttentionHeadI16(const float* q, const float* k, const float* v, const int32_t* mask,
                                                const AttentionI16Sizes& z, int H, int off, int16_t* i16, float* f32,
                                                float* scores, float* ctx) {
  const int d = z.d, dp = z.dp, T = z.T, Tp = z.Tp;
  int16_t* q16 = i16;                                  // (T, dp)
  int16_t* k16 = q16 + static_cast<size_t>(T) * dp;    // (T, dp)
  int16_t* vt16 = k16 + static_cast<size_t>(T) * dp;   // (d, Tp) v transposed
  int16_t* p16 = vt16 + static_cast<size_t>(d) * Tp;   // (block, Tp)
  float* sq = f32;                                     // (T) with 1 / sqrt(d)
  float* sk = sq + T;                                  // (T)
  float* sv = sk + T;                                  // (d)
  float* vinv = sv + d;                                // (d)
  float* sp = vinv + d;                                // (kQueryBlock)
  const float qk_norm = DotI16NormLimit(d);
  constexpr int kProbLimit = 32767;
  // A row of p16 sums to at most kProbLimit + Tp / 2, so |sum_t p16 v16| < 2^31 for v16 within:
  const int v_limit = static_cast<int>(std::min<int64_t>(32767, 2147483647 / (kProbLimit + int64_t{Tp})));
  const float scale = 1.f / std::sqrt(static_cast<float>(d));
  for (int t = 0; t < T; ++t) {
    sk[t] = QuantizeRowI16(k + static_cast<size_t>(t) * H + off, d, 32767, qk_norm, k16 + static_cast<size_t>(t) * dp, dp);
    sq[t] = QuantizeRowI16(q + static_cast<size_t>(t) * H + off, d, 32767, qk_norm, q16 + static_cast<size_t>(t) * dp, dp) * scale;
  }
  QuantizeValuesI16(v, mask, z, H, off, v_limit, sv, vinv, vt16);
  std::fill(sp, sp + kQueryBlock, 1.f / static_cast<float>(kProbLimit));
  for (int i0 = 0; i0 < T; i0 += kQueryBlock) {
    const int rows = std::min(kQueryBlock, T - i0);
    DotI16(rows, T, dp, q16 + static_cast<size_t>(i0) * dp, dp, k16, dp, sq + i0, sk, scores, T);
    for (int i = 0; i < rows; ++i) {
      float* si = scores + static_cast<size_t>(i) * T;
      if (mask) {
        for (int j = 0; j < T; ++j)
          if (mask[j] == 0) si[j] = std::numeric_limits<float>::lowest();
      }
      int16_t* pi = p16 + static_cast<size_t>(i) * Tp;
      SoftmaxToI16(si, T, kProbLimit, pi);
      std::fill(pi + T, pi + Tp, int16_t{0});
    }
    DotI16(rows, d, Tp, p16, Tp, vt16, Tp, sp, sv, ctx + static_cast<size_t>(i0) * H + off, H);
  }
}

// Multi-head self-attention over the batch: B sequences x heads, split across threads by
// (sequence, head); thread t uses its own slice of the scratch. int16 products on the int8 path
// (AttentionHeadI16), fp32 on the fp32 path.
void Attention(const float* q, const float* k, const float* v, const int32_t* mask, int B, int T, int H, int heads,
               Precision precision, float* scores, float* ctx, RunState* rs) {
  const int d = H / heads;
  const size_t threads = static_cast<size_t>(PoolThreads(rs));
  const size_t scores_size = static_cast<size_t>(std::min(T, kQueryBlock)) * T;
  const int64_t macs = int64_t{2} * B * heads * T * T * d;
  const AttentionI16Sizes z(d, T);
  const bool i16 = precision == Precision::kInt8;
  const size_t kt_size = static_cast<size_t>(d) * T;
  float* kt = i16 ? nullptr : rs->kt.Grow(threads * kt_size);  // (d, T) one head's keys, transposed
  int16_t* a16 = i16 ? rs->attn_i16.Grow(threads * z.i16()) : nullptr;
  float* a32 = i16 ? rs->attn_scales.Grow(threads * z.f32()) : nullptr;
  GemmU8ParallelFor(Pool(rs), B * heads, macs, kMinAttentionMacsPerThread, [&](int thread, int begin, int end) {
    for (int i = begin; i < end; ++i) {
      const int b = i / heads, h = i % heads;
      const size_t off = static_cast<size_t>(b) * T * H;
      const int32_t* mb = mask ? mask + static_cast<size_t>(b) * T : nullptr;
      if (i16) {
        AttentionHeadI16(q + off, k + off, v + off, mb, z, H, h * d, a16 + z.i16() * thread, a32 + z.f32() * thread,
                         scores + scores_size * thread, ctx + off);
      } else {
        AttentionHead(q + off, k + off, v + off, mb, T, H, d, h * d, kt + kt_size * thread,
                      scores + scores_size * thread, ctx + off);
      }
    }
  });
}

// Add & norm: x = LayerNorm(x + y) row by row (y null: LayerNorm(x)), rows split across threads.
void AddLayerNormRowsThreaded(float* x, const float* y, int rows, int dim, const LayerNormWeights& ln, float eps,
                              RunState* rs) {
  GemmU8ParallelFor(Pool(rs), rows, int64_t{rows} * dim, kMinElementsPerThread, [&](int, int begin, int end) {
    const size_t from = static_cast<size_t>(begin) * dim, count = static_cast<size_t>(end - begin) * dim;
    if (y) AddInPlace(x + from, y + from, count);  // x + y == y + x bit for bit: no copy back needed
    LayerNormRows(x + from, end - begin, dim, ln, eps);
  });
}

void ApplyActivationThreaded(Activation act, float* x, size_t n, RunState* rs) {
  const size_t blocks = (n + kActivationBlock - 1) / kActivationBlock;
  GemmU8ParallelFor(Pool(rs), static_cast<int>(blocks), static_cast<int64_t>(n), kMinElementsPerThread,
                    [&](int, int begin, int end) {
                      const size_t from = static_cast<size_t>(begin) * kActivationBlock;
                      const size_t to = std::min(n, static_cast<size_t>(end) * kActivationBlock);
                      ApplyActivation(act, x + from, to - from);
                    });
}

// One token's embedding sum before the LayerNorm: word[id] + position[t] (+ token_type[tt] for BERT).
__attribute__((noinline)) void EmbedToken(const Model& model, Precision precision, int id, int t, int tt, float* xr) {
  const ModelWeights& w = model.weights;
  const int H = model.config.hidden;
  if (precision == Precision::kInt8 && w.word.packed_rows) {
    QLinearDequantizedRow(*w.word.packed_rows, id, xr);  // rows packed in place as the tied decoder
  } else if (precision == Precision::kFp32 || !w.word.i8) {
    std::copy_n(w.word.f32 + static_cast<size_t>(id) * H, H, xr);
  } else {
    const int8_t* e = w.word.i8 + static_cast<size_t>(id) * H;
    const float s = w.word.scale[id];
    for (int i = 0; i < H; ++i) xr[i] = s * static_cast<float>(e[i]);
  }
  const float* pe = w.position + static_cast<size_t>(t) * H;
  for (int i = 0; i < H; ++i) xr[i] += pe[i];
  if (model.config.family == ModelFamily::kBert) {
    const float* te = w.token_type + static_cast<size_t>(tt) * H;
    for (int i = 0; i < H; ++i) xr[i] += te[i];
  }
}

Status ValidateInput(const Model& model, const EncoderInput& in, Precision precision) {
  const ModelConfig& c = model.config;
  if (in.batch <= 0 || in.seq_len <= 0 || !in.input_ids)
    return InvalidArgument("EncoderForward: batch (" + std::to_string(in.batch) + ") and seq_len (" +
                           std::to_string(in.seq_len) + ") must be positive and input_ids given");
  if (in.seq_len > c.max_position)
    return OutOfRange("sequence length " + std::to_string(in.seq_len) + " exceeds the model's " +
                      std::to_string(c.max_position) + " positions (max_position_embeddings)");
  if (static_cast<int64_t>(in.batch) * in.seq_len > (1 << 24))
    return InvalidArgument("EncoderForward: batch * seq_len = " +
                           std::to_string(static_cast<int64_t>(in.batch) * in.seq_len) + " exceeds 16M tokens");
  if (precision == Precision::kFp32 && !model.has_fp32)
    return InvalidArgument("the fp32 path needs fp32 weights; this model holds int8 weights only (run kInt8, or "
                           "load the safetensors checkpoint directly)");
  if (precision == Precision::kInt8 && !model.has_int8)
    return InvalidArgument("the int8 path needs quantized weights; load the model with int8 enabled");
  // Every RunState buffer is (tokens or MLM rows) x (hidden, intermediate or vocab) floats: none may
  // exceed what a 32-bit size_t holds, or its size would wrap in wasm32 (util/checked.h).
  const uint64_t tokens = static_cast<uint64_t>(in.batch) * static_cast<uint64_t>(in.seq_len);
  const uint64_t mlm_rows =
      c.head != HeadKind::kMaskedLM ? 0 : in.mlm_positions ? static_cast<uint64_t>(std::max(in.num_mlm_positions, 0)) : tokens;
  const uint64_t widest = std::max({tokens * static_cast<uint64_t>(std::max(c.hidden, c.intermediate)),
                                    mlm_rows * static_cast<uint64_t>(c.vocab_size)});
  if (!FitsBuffer(widest * sizeof(float)))
    return OutOfRange("EncoderForward: " + std::to_string(tokens) + " tokens need a buffer of " +
                      std::to_string(widest) + " floats, more than the 4 GiB a buffer may have");
  const size_t n = static_cast<size_t>(in.batch) * in.seq_len;
  for (size_t i = 0; i < n; ++i) {
    const int32_t id = in.input_ids[i];
    if (id < 0 || id >= c.vocab_size)
      return InvalidArgument("token id " + std::to_string(id) + " at position " + std::to_string(i) +
                             " is outside the vocabulary [0, " + std::to_string(c.vocab_size) + ")");
    if (in.attention_mask && in.attention_mask[i] != 0 && in.attention_mask[i] != 1)
      return InvalidArgument("attention_mask value " + std::to_string(in.attention_mask[i]) + " at position " +
                             std::to_string(i) + " is not 0 or 1");
    if (in.token_type_ids) {
      const int32_t tt = in.token_type_ids[i];
      const int limit = c.family == ModelFamily::kBert ? c.type_vocab_size : 1;
      if (tt < 0 || tt >= limit)
        return InvalidArgument("token type id " + std::to_string(tt) + " at position " + std::to_string(i) +
                               " is outside [0, " + std::to_string(limit) + ")");
    }
  }
  if (in.mlm_positions) {
    if (in.num_mlm_positions < 0) return InvalidArgument("num_mlm_positions is negative");
    for (int i = 0; i < in.num_mlm_positions; ++i)
      if (in.mlm_positions[i] < 0 || static_cast<size_t>(in.mlm_positions[i]) >= n)
        return InvalidArgument("mlm position " + std::to_string(in.mlm_positions[i]) + " is outside [0, " +
                               std::to_string(n) + ")");
  }
  return Status::Ok();
}

}  // namespace

void SelfAttention(const float* q, const float* k, const float* v, const int32_t* mask, int B, int T, int H,
                   int heads, Precision precision, RunState* rs, float* ctx) {
  float* scores = rs->scores.Grow(static_cast<size_t>(PoolThreads(rs)) * std::min(T, kQueryBlock) * T);
  Attention(q, k, v, mask, B, T, H, heads, precision, scores, ctx, rs);
}

void WarmUpEncoderTiering() {
#if defined(__EMSCRIPTEN__)
  static bool done = false;
  if (done) return;
  done = true;
  // 37 tokens and 2 heads of 64 reach every tile shape of Sgemm (4x8, 4x4, single rows, tail
  // columns) and the int16 heads' main ones; one round is ~0.15 ms optimized.
  constexpr int kT = 37, kH = 128, kHeads = 2, kD = kH / kHeads;
  const size_t n = static_cast<size_t>(kT) * kH;
  std::vector<float> q(n), k(n), v(n), ctx(n), x(n), ffn(4 * n), kt(static_cast<size_t>(kD) * kT);
  std::vector<float> scores(static_cast<size_t>(std::min(kT, kQueryBlock)) * kT), gamma(kH, 1.f), beta(kH, 0.f);
  for (size_t i = 0; i < n; ++i) {
    q[i] = 0.1f * static_cast<float>(i % 13) - 0.6f;
    k[i] = 0.1f * static_cast<float>(i % 7) - 0.3f;
    v[i] = 0.1f * static_cast<float>(i % 5) - 0.2f;
    x[i] = 0.1f * static_cast<float>(i % 11) - 0.5f;
  }
  const LayerNormWeights ln{gamma.data(), beta.data()};
  const AttentionI16Sizes z(kD, kT);
  std::vector<int16_t> a16(z.i16());
  std::vector<float> a32(z.f32());
  RunUntilOptimized(
      [&] {
        for (int h = 0; h < kHeads; ++h) {
          AttentionHead(q.data(), k.data(), v.data(), nullptr, kT, kH, kD, h * kD, kt.data(), scores.data(), ctx.data());
          AttentionHeadI16(q.data(), k.data(), v.data(), nullptr, z, kH, h * kD, a16.data(), a32.data(), scores.data(),
                           ctx.data());
        }
        AddInPlace(x.data(), ctx.data(), n);
        LayerNormRows(x.data(), kT, kH, ln, 1e-12f);
        for (size_t i = 0; i < ffn.size(); ++i) ffn[i] = x[i % n];
        GeluErf(ffn.data(), ffn.size());
      },
      /*max_ms=*/20);
#endif
}

namespace {

// The embeddings and the layers (everything but the heads) of the batch `in`, into x (B*T, H), on
// rs's scratch and threads.
void RunLayers(const Model& model, const EncoderInput& in, Precision precision, RunState* rs, float* x) {
  const ModelConfig& c = model.config;
  const ModelWeights& w = model.weights;
  const int B = in.batch, T = in.seq_len, H = c.hidden, I = c.intermediate;
  const int M = B * T;  // tokens in the batch
  const size_t MH = static_cast<size_t>(M) * H;
  float* q = rs->q.Grow(MH);      // (M, H)
  float* k = rs->k.Grow(MH);      // (M, H)
  float* v = rs->v.Grow(MH);      // (M, H)
  float* ctx = rs->ctx.Grow(MH);  // (M, H)
  float* tmp = rs->tmp.Grow(MH);  // (M, H)
  float* ffn = rs->ffn.Grow(static_cast<size_t>(M) * I);  // (M, I)
  const size_t threads = static_cast<size_t>(PoolThreads(rs));
  float* scores = rs->scores.Grow(threads * std::min(T, kQueryBlock) * T);  // (block, T) per thread

  // Embeddings: x = LayerNorm(word[id] + position[t] (+ token_type[tt])), dropout is identity.
  GemmU8ParallelFor(Pool(rs), M, static_cast<int64_t>(MH), kMinElementsPerThread, [&](int, int begin, int end) {
    for (int m = begin; m < end; ++m) {
      const int tt = c.family == ModelFamily::kBert && in.token_type_ids ? in.token_type_ids[m] : 0;
      EmbedToken(model, precision, in.input_ids[m], m % T, tt, x + static_cast<size_t>(m) * H);
    }
    LayerNormRows(x + static_cast<size_t>(begin) * H, end - begin, H, w.embed_ln, c.layer_norm_eps);
  });

  for (const EncoderLayerWeights& L : w.layers) {
    // Self-attention: q, k, v = x W^T + b, each (M, H), split into heads of H / heads.
    if (RunsInt8(L.q, precision) && RunsInt8(L.k, precision) && RunsInt8(L.v, precision)) {
      QuantizeInt8Input(x, M, H, rs);  // once for the three: the same input, the same bits
      const Linear* qkv[3] = {&L.q, &L.k, &L.v};
      float* const out[3] = {q, k, v};
      LinearsFromQuantized(qkv, out, 3, x, M, rs);
    } else {
      RunLinear(L.q, x, M, q, precision, rs);
      RunLinear(L.k, x, M, k, precision, rs);
      RunLinear(L.v, x, M, v, precision, rs);
    }
    Attention(q, k, v, in.attention_mask, B, T, H, c.num_heads, precision, scores, ctx, rs);
    RunLinear(L.o, ctx, M, tmp, precision, rs);  // (M, H)
    // Add & norm: x = LayerNorm(attn + x).
    AddLayerNormRowsThreaded(x, tmp, M, H, L.attn_ln, c.layer_norm_eps, rs);
    // FFN: x = LayerNorm(W2 act(W1 x + b1) + b2 + x).
    if (RunsInt8(L.ffn_in, precision)) {
      QuantizeInt8Input(x, M, H, rs);
      const Linear* ffn_in = &L.ffn_in;
      LinearsFromQuantized(&ffn_in, &ffn, 1, x, M, rs, &c.activation);  // (M, I), activated
    } else {
      RunLinear(L.ffn_in, x, M, ffn, precision, rs);  // (M, I)
      ApplyActivationThreaded(c.activation, ffn, static_cast<size_t>(M) * I, rs);
    }
    RunLinear(L.ffn_out, ffn, M, tmp, precision, rs);  // (M, H)
    AddLayerNormRowsThreaded(x, tmp, M, H, L.ffn_ln, c.layer_norm_eps, rs);
  }
}

// Sequences b0 .. b0 + count of a batch, as a batch of their own.
EncoderInput Sequences(const EncoderInput& in, int b0, int count) {
  EncoderInput part;
  part.batch = count;
  part.seq_len = in.seq_len;
  const size_t off = static_cast<size_t>(b0) * in.seq_len;
  part.input_ids = in.input_ids + off;
  if (in.attention_mask) part.attention_mask = in.attention_mask + off;
  if (in.token_type_ids) part.token_type_ids = in.token_type_ids + off;
  return part;
}

// A batch of several sequences splits across threads by whole sequences: each thread runs its share
// through every layer on scratch of its own (RunState::parts), with no wait between the ~15 parallel
// loops of a layer, which is what a thread count costs on short sequences (a 17-token pass of a
// 3-layer model gains nothing from splitting its loops). Every row's value is computed the same way
// whatever batch it is in (per-token quantization, exact integer products, attention per sequence),
// so the bits do not change. Returns how many leading sequences run that way: a multiple of the
// threads (the rest run after them, their loops split), 0 when each thread's share would be too
// little work for a worker's wake-up.
constexpr int64_t kMinPassMacsPerThread = int64_t{8} << 20;
int SequencesByThread(const ModelConfig& c, int B, int T, int threads) {
  if (threads <= 1 || B < threads) return 0;
  const int per = B / threads;
  const int64_t macs_per_token =
      int64_t{c.num_layers} * (int64_t{4} * c.hidden * c.hidden + int64_t{2} * c.hidden * c.intermediate);
  if (!GemmU8SplitsAnyWorkForTest() && int64_t{per} * T * macs_per_token < kMinPassMacsPerThread) return 0;
  return per * threads;
}

}  // namespace

Status EncoderForward(const Model& model, const EncoderInput& in, Precision precision, RunState* rs,
                      EncoderOutput* out) {
  EB_RETURN_IF_ERROR(ValidateInput(model, in, precision));
  const ModelConfig& c = model.config;
  const ModelWeights& w = model.weights;
  const int B = in.batch, T = in.seq_len, H = c.hidden;
  const int M = B * T;  // tokens in the batch
  float* x = rs->x.Grow(static_cast<size_t>(M) * H);  // (M, H) the residual stream, then the output
  const int threads = PoolThreads(rs);
  // Workers poll between the pass's parallel loops, then sleep (a one-thread pass leaves them asleep).
  const ScopedPoolBusy busy(threads > 1 ? Pool(rs)->pool() : nullptr);

  const int by_thread = SequencesByThread(c, B, T, threads);
  if (by_thread > 0) {
    while (rs->parts.size() < static_cast<size_t>(threads)) {
      rs->parts.push_back(std::make_unique<RunState>());
      Pool(rs->parts.back().get());  // made here, not on a worker
    }
    const int per = by_thread / threads;
    GemmU8ParallelFor(Pool(rs), threads, 0, 0, [&](int thread, int begin, int end) {
      for (int part = begin; part < end; ++part)
        RunLayers(model, Sequences(in, part * per, per), precision, rs->parts[static_cast<size_t>(thread)].get(),
                  x + static_cast<size_t>(part) * per * T * H);
    });
  }
  if (by_thread < B)
    RunLayers(model, Sequences(in, by_thread, B - by_thread), precision, rs, x + static_cast<size_t>(by_thread) * T * H);

  *out = EncoderOutput();
  out->batch = B;
  out->seq_len = T;
  out->hidden = H;
  out->last_hidden_state = x;

  // Pooling of token 0 ([CLS]): BERT pooler (tanh) / DistilBERT pre_classifier (ReLU).
  if (w.pooler.n > 0) {
    float* cls = rs->head_in.Grow(static_cast<size_t>(B) * H);  // (B, H)
    for (int b = 0; b < B; ++b) std::copy_n(x + static_cast<size_t>(b) * T * H, H, cls + static_cast<size_t>(b) * H);
    float* pooled = rs->pooled.Grow(static_cast<size_t>(B) * H);  // (B, H)
    RunLinear(w.pooler, cls, B, pooled, precision, rs);
    for (size_t i = 0; i < static_cast<size_t>(B) * H; ++i)
      pooled[i] = c.family == ModelFamily::kBert ? std::tanh(pooled[i]) : std::max(pooled[i], 0.f);
    out->pooled = pooled;
  }

  switch (c.head) {
    case HeadKind::kNone:
      break;
    case HeadKind::kSequenceClassification: {
      float* logits = rs->logits.Grow(static_cast<size_t>(B) * model.num_labels);  // (B, labels)
      RunLinear(w.classifier, out->pooled, B, logits, precision, rs);
      out->logits = logits;
      out->logits_rows = B;
      out->logits_cols = model.num_labels;
      break;
    }
    case HeadKind::kTokenClassification: {
      float* logits = rs->logits.Grow(static_cast<size_t>(M) * model.num_labels);  // (M, labels)
      RunLinear(w.classifier, x, M, logits, precision, rs);
      out->logits = logits;
      out->logits_rows = M;
      out->logits_cols = model.num_labels;
      break;
    }
    case HeadKind::kQuestionAnswering: {
      float* both = rs->logits.Grow(static_cast<size_t>(M) * 2);  // (M, 2): start, end
      RunLinear(w.classifier, x, M, both, precision, rs);
      float* start = rs->start.Grow(static_cast<size_t>(M));
      float* end = rs->end.Grow(static_cast<size_t>(M));
      for (int m = 0; m < M; ++m) {
        start[m] = both[2 * m];
        end[m] = both[2 * m + 1];
      }
      out->start_logits = start;
      out->end_logits = end;
      break;
    }
    case HeadKind::kMaskedLM: {
      // Rows to predict: the requested positions or all tokens; none (feature extraction) skips the head.
      const int P = in.mlm_positions ? in.num_mlm_positions : M;
      if (P == 0) break;
      int32_t* rows = rs->rows.Grow(static_cast<size_t>(std::max(P, 1)));
      for (int p = 0; p < P; ++p) rows[p] = in.mlm_positions ? in.mlm_positions[p] : p;
      float* h = rs->head_in.Grow(static_cast<size_t>(P) * H);  // (P, H)
      for (int p = 0; p < P; ++p) std::copy_n(x + static_cast<size_t>(rows[p]) * H, H, h + static_cast<size_t>(p) * H);
      float* t = rs->pooled.Grow(static_cast<size_t>(P) * H);  // (P, H) transform output
      RunLinear(w.mlm_transform, h, P, t, precision, rs);
      ApplyActivation(c.activation, t, static_cast<size_t>(P) * H);
      LayerNormRows(t, P, H, w.mlm_ln, c.layer_norm_eps);
      float* logits = rs->logits.Grow(static_cast<size_t>(P) * c.vocab_size);  // (P, vocab)
      RunLinear(w.mlm_decoder, t, P, logits, precision, rs);
      out->logits = logits;
      out->logits_rows = P;
      out->logits_cols = c.vocab_size;
      break;
    }
  }
  return Status::Ok();
}

}  // namespace edgebert
